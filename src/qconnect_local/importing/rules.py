"""CreateQuickResponse's rules, as the import applies them to each row.

A row must be accepted or refused exactly as CreateQuickResponse would accept or refuse the same
input, with the same messages: the model's constraints are checked by the API's own validator,
then the operation's DB-free rules by its own `prepare_quick_response`. Uniqueness and quota
(which need the database) are checked by the import in bulk.
"""

from __future__ import annotations

from typing import Any

from qconnect_local.importing.fastcheck import compile_shape
from qconnect_local.operations.context import RequestContext
from qconnect_local.protocol.model import service_model
from qconnect_local.protocol.validation import validate


class QuickResponseRules:
    def __init__(self) -> None:
        self.shape = service_model().operation_model("CreateQuickResponse").input_shape
        self._valid = compile_shape(self.shape)
        from qconnect_local.operations.quick_responses import prepare_quick_response

        self._prepare = prepare_quick_response

    def prepare(self, ctx: RequestContext, kb: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """The record CreateQuickResponse would insert, or the ServiceError it would raise."""
        if not self._valid(params):  # only then the full validator, for the API's own message
            validate(self.shape, params)
        return self._prepare(ctx, kb, params)
