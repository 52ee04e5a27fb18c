"""A search plan's filters as SQL, for both stores' search executors."""

from __future__ import annotations

from typing import Any

from qconnect_local.search.plan import LIST_SEPARATOR, FilterPlan
from qconnect_local.storage.dialect import Dialect


def filter_sql(flt: FilterPlan, dialect: Dialect) -> tuple[str, list[Any]]:
    """One filter as a condition on `q` (the quick_responses row) and its parameters."""
    col = "q." + flt.column
    missing = f"{col} IS NULL"
    if flt.values is None:
        return (missing if flt.include_missing else f"{col} IS NOT NULL"), []
    p = dialect.placeholder
    tests: list[str] = []
    params: list[Any] = []
    for value in flt.values:
        if flt.kind == "bool":
            tests.append(f"{col} = {p}")
            params.append(1 if value else 0)
        elif flt.kind == "time":
            tests.append(f"abs({col} - {p}) < 0.0005")
            params.append(value)
        elif flt.kind == "list":
            tests.append(dialect.contains(col))
            params.append(LIST_SEPARATOR + value + (LIST_SEPARATOR if flt.operator == "EQUALS" else ""))
        elif flt.operator == "PREFIX":
            tests.append(dialect.starts_with(col))
            params.extend(dialect.prefix_params(value))
        else:
            tests.append(f"{col} = {p}")
            params.append(value)
    sql = "(" + (" OR ".join(tests) if tests else dialect.false) + ")"
    if flt.include_missing:
        sql = f"({sql} OR {missing})"
    return sql, params
