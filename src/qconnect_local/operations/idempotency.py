"""clientToken idempotency.

Same token + same request → the same resource, with no new side effects; same token + a
different request → ConflictException. Tokens are scoped to (account, region, operation, parent)
and kept as long as the state (there is no expiry: a local store has no reason to forget).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

import orjson

from qconnect_local.errors import ConflictException
from qconnect_local.storage.base import Session

T = TypeVar("T")


def request_hash(params: dict[str, Any]) -> str:
    body = {k: v for k, v in params.items() if k != "clientToken"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def replayed_resource_id(session: Session, ctx: Any, operation: str, scope: str, params: dict[str, Any]) -> str | None:
    """The resource a previous call with this token created, or None for a new token.

    Raises ConflictException when the token was used with a different request.
    """
    token = params.get("clientToken")
    if not token:
        return None
    found = session.get_idempotency(ctx.account_id, ctx.region, operation, scope, token)
    if found is None:
        return None
    stored_hash, resource_id = found
    if stored_hash != request_hash(params):
        raise ConflictException(f"The clientToken '{token}' was already used with different request parameters")
    return resource_id


def remember(session: Session, ctx: Any, operation: str, scope: str, params: dict[str, Any], resource_id: str) -> None:
    token = params.get("clientToken")
    if token:
        session.put_idempotency(
            ctx.account_id,
            ctx.region,
            operation,
            scope,
            token,
            request_hash(params),
            resource_id,
            ctx.now(),
        )


def replay(
    session: Session,
    ctx: Any,
    operation: str,
    scope: str,
    params: dict[str, Any],
    load: Callable[[str], Any],
) -> Any:
    """The resource an earlier call with this clientToken created (loaded with `load`), or None
    when the token is new. A token used with a different request, or whose resource has since
    been deleted, is a ConflictException: a replay never creates anything again."""
    resource_id = replayed_resource_id(session, ctx, operation, scope, params)
    if resource_id is None:
        return None
    resource = load(resource_id)
    if resource is None:
        raise ConflictException(
            f"The clientToken '{params.get('clientToken')}' was already used for a resource that has since been deleted"
        )
    return resource


def create_once(
    session: Session,
    ctx: Any,
    operation: str,
    scope: str,
    params: dict[str, Any],
    load: Callable[[str], T | None],
    create: Callable[[], tuple[str, T]],
) -> T:
    """A create honouring clientToken, inside the caller's write transaction: the resource an
    earlier call with the token made (`load`), else `create()` → (new id, resource), remembered
    under the token."""
    replayed = replay(session, ctx, operation, scope, params, load)
    if replayed is not None:
        return replayed
    resource_id, resource = create()
    remember(session, ctx, operation, scope, params, resource_id)
    return resource
