"""Text extraction of content files, run by the import runner beside import jobs (one runner,
one `--import-mode`/`--import-delay` for both kinds of background work).

CreateContent, and UpdateContent with a new upload, answer at once with `CREATE_IN_PROGRESS` and
leave a task on the content. The runner claims the task with a lease (so several workers never
read the same file twice), reads the file outside any transaction (a big PDF can take a while;
API writes go on meanwhile) and lands `ACTIVE` with the text, or `CREATE_FAILED`/`UPDATE_FAILED`
when the file cannot be read, only if the task is still the content's: a newer upload or a
delete in between wins. A runner that dies mid-task leaves the task to be claimed again once its
lease runs out (at once by a runner started on the same host); tasks live in the database, so
pending content is finished after a restart.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from qconnect_local.blobs import BlobNotFound
from qconnect_local.content_text import UnreadableContent, extract_text
from qconnect_local.leftovers import is_dead_local_runner
from qconnect_local.operations.uploads import upload_key

if TYPE_CHECKING:
    from qconnect_local.services import Services

log = logging.getLogger("qconnect_local.importing")


class ContentExtraction:
    def __init__(self, services: Services, owner: str) -> None:
        self.store = services.store
        self.blobs = services.blobs
        self.settings = services.settings
        self.owner = owner

    def run_next(self, idle_poll: float) -> float | None:
        """Runs one runnable task; None if it did, else when to look again (epoch seconds)."""
        now = time.time()
        with self.store.read() as session:
            due, soonest = session.content_task_due(now)
        if not due:
            return soonest if soonest is not None else now + idle_poll
        with self.store.write() as session:
            task, soonest = session.claim_next_content_task(self.owner, now, now + self.settings.imports.lease_seconds)
        if task is None:
            return soonest if soonest is not None else now + idle_poll
        self.run(task)
        return None

    def run(self, task: dict[str, Any]) -> None:
        content = task["content"]
        started = time.monotonic()
        if task["attempts"] > self.settings.imports.max_attempts:
            text = None  # it stopped the runner every time: treated as unreadable rather than tried forever
        else:
            text = self._text(content["_uploadId"], content["contentType"])
        status = "ACTIVE" if text is not None else f"{task['kind']}_FAILED"
        with self.store.write() as session:
            record = session.end_content_task(task["account"], task["region"], content["contentId"], task["task"])
            if record is None:
                log.info("content %s changed while its file was read: the outcome is dropped", content["contentId"])
                return
            record["status"] = status
            session.update_content(task["account"], task["region"], record, text or "")
        log.info("content %s: %s in %.3fs", content["contentId"], status, time.monotonic() - started)

    def _text(self, upload_id: str, content_type: str) -> str | None:
        """The file's text, or None when it cannot be read (or is gone)."""
        try:
            with self.blobs.open(upload_key(upload_id)) as stream:
                data = stream.read()
        except BlobNotFound:
            return None
        try:
            return extract_text(content_type, data)
        except UnreadableContent:
            return None

    def expire_dead_local_leases(self) -> None:
        """At start: the tasks of this host's dead runners are claimable at once."""
        with self.store.read() as session:
            dead = [(c, o) for c, o in session.content_task_leases() if is_dead_local_runner(o)]
        if dead:
            with self.store.write() as session:
                for content_id, owner in dead:
                    session.expire_content_task_lease(content_id, owner)
