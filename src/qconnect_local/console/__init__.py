"""Terminal output of the command-line tools: plain tables for stdout, a rich progress display."""
