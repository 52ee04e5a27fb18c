"""qconnect-local: a local, API-compatible Amazon Q in Connect (quick responses)."""

__version__ = "0.1.0"
