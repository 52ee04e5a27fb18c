"""The SQLite spelling of what the shared SQL leaves to the dialect."""

from __future__ import annotations

import orjson

from qconnect_local.storage.dialect import Dialect

SQLITE = Dialect(
    name="sqlite",
    placeholder="?",
    serial_key="INTEGER PRIMARY KEY AUTOINCREMENT",
    big_int="INTEGER",
    real="REAL",
    json_type="BLOB",
    greatest="max",
    now_epoch="((julianday('now') - 2440587.5) * 86400.0)",
    row_lock="",  # one process-wide writer: nothing to lock
    skip_locked="",
    false="0",
    json_param=orjson.dumps,
    json_value=orjson.loads,
    contains=lambda col: f"instr({col}, ?) > 0",
    starts_with=lambda col: f"substr({col}, 1, ?) = ?",
    prefix_params=lambda value: (len(value), value),
    index_hint=lambda index: f" INDEXED BY {index}",
)
