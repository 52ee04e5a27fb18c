"""`--import-mode manual` for content: the text extraction of a content stays pending (status
`CREATE_IN_PROGRESS`) until POST /_qconnect/contents/{contentId}/run lets the runner take it."""

from __future__ import annotations

from qconnect_local.storage.base import Store


def release_content_task(store: Store, content_id: str) -> bool:
    """Lets a held extraction run; False when the content has none pending."""
    with store.write() as session:
        return session.release_content_task(content_id)


def content_task_state(store: Store, content_id: str) -> tuple[str, bool] | None:
    """(status, extraction pending) of a content of any account; None when there is no such content."""
    with store.read() as session:
        return session.content_task_state(content_id)
