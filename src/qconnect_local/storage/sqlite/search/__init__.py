"""The SQLite store's search executor: exact keys, the in-memory vocabulary, one query's
matcher, the SQL of filters and order, and the executor that plans the walk."""
