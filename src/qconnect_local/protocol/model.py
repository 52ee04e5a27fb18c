"""Loads botocore's `qconnect` service model (never copied into this repository)."""

from __future__ import annotations

import functools

import botocore.session
from botocore.model import ServiceModel

SERVICE_NAME = "qconnect"


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    return ServiceModel(loader.load_service_model(SERVICE_NAME, "service-2"), SERVICE_NAME)


def error_statuses() -> dict[str, int]:
    """Modeled error code -> HTTP status (e.g. ServiceQuotaExceededException -> 402)."""
    model = service_model()
    out: dict[str, int] = {}
    for shape in model.error_shapes:
        err = shape.metadata.get("error", {})
        out[shape.name] = int(err.get("httpStatusCode", 400))
    return out
