"""The PostgreSQL spelling of what the shared SQL leaves to the dialect."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from qconnect_local.storage.dialect import Dialect


def _same(value: Any) -> Any:
    return value  # jsonb columns come back decoded (orjson, see store._configure)


POSTGRES = Dialect(
    name="postgresql",
    placeholder="%s",
    serial_key="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    big_int="BIGINT",
    real="DOUBLE PRECISION",
    json_type="JSONB",
    greatest="greatest",
    now_epoch="extract(epoch FROM now())",
    row_lock=" FOR NO KEY UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    false="false",
    json_param=Jsonb,
    json_value=_same,
    contains=lambda col: f"strpos({col}, %s) > 0",
    starts_with=lambda col: f"starts_with({col}, %s)",
    prefix_params=lambda value: (value,),
)
