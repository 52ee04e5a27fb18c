"""Operations: one module per resource, each a plain function (context, input) -> output.

`OPERATIONS` maps an operation name of the model to its function; the server answers every
other operation of the model with a NotImplemented error naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qconnect_local.operations import (
    import_jobs,
    knowledge_bases,
    message_template_attachments,
    message_template_search,
    message_templates,
    quick_responses,
    tags,
)
from qconnect_local.operations.assistants import OPERATIONS as ASSISTANT_OPERATIONS
from qconnect_local.operations.content_associations import OPERATIONS as CONTENT_ASSOCIATION_OPERATIONS
from qconnect_local.operations.contents import OPERATIONS as CONTENT_OPERATIONS
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.retrieval import OPERATIONS as RETRIEVAL_OPERATIONS
from qconnect_local.operations.sessions import OPERATIONS as SESSION_OPERATIONS

Operation = Callable[[RequestContext, dict[str, Any]], dict[str, Any] | None]

OPERATIONS: dict[str, Operation] = {
    **knowledge_bases.OPERATIONS,
    **tags.OPERATIONS,
    **quick_responses.OPERATIONS,
    **import_jobs.OPERATIONS,
    **ASSISTANT_OPERATIONS,
    **SESSION_OPERATIONS,
    **CONTENT_OPERATIONS,
    **RETRIEVAL_OPERATIONS,
    **CONTENT_ASSOCIATION_OPERATIONS,
    **message_templates.OPERATIONS,
    **message_template_attachments.OPERATIONS,
    **message_template_search.OPERATIONS,
}

__all__ = ["OPERATIONS", "Operation", "RequestContext"]
