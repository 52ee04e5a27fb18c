"""The optional extras of the package, and the one-line message when a setting needs a missing one."""

from __future__ import annotations

import importlib
from typing import Any

# What each extra brings that a setting may need: (modules, the extra's name, what needs it).
_POSTGRESQL = (("psycopg", "psycopg_pool"), "team", "--database-url postgresql://...")


def missing_for(settings: Any) -> str | None:
    """A one-line message naming the extra to install, or None when everything needed is there."""
    url = getattr(settings, "database_url", None) or ""
    if url.startswith(("postgresql://", "postgres://")):
        modules, extra, what = _POSTGRESQL
        for module in modules:
            try:
                importlib.import_module(module)
            except ImportError:
                return (
                    f"{what} needs the PostgreSQL driver ({module} is not installed): "
                    f"pip install 'qconnect-local[{extra}]'"
                )
    return None
