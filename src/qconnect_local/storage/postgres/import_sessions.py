"""Naming an import's database sessions after its runner, so that a runner taking the job over can
end those of a stalled one (issue 14).

A worker stopped with SIGSTOP between statements has its transaction ended by the stall limit
(`idle_in_transaction_session_timeout`); one stopped halfway through sending a COPY batch leaves
its backend "active", waiting for the rest of the COPY, which neither that limit nor
`statement_timeout` ends (a backend reading COPY data from its client does not act on a query
cancel, only on termination; measured on PostgreSQL 16). So the import's sessions carry
`application_name = qconnect-import:<job id>:<runner token>`, and the taker calls
`pg_terminate_backend` on the job's sessions that are not its own: their transactions roll back
and the knowledge base's row is free at once. Ending another role's backend needs that role or
`pg_signal_backend`; without it the stall limit still ends an idle stalled session.
"""

from __future__ import annotations

from qconnect_local.storage.sql.session import SqlSession

PREFIX = "qconnect-import:"


def import_tag(job_id: str, owner: str) -> str:
    """The application_name of `owner`'s sessions for `job_id` (within PostgreSQL's 63 bytes: a
    runner's owner is host:pid:token, and the token alone tells runners apart)."""
    return f"{PREFIX}{job_id}:{owner.rsplit(':', 1)[-1]}"[:63]


class ImportSessionTags(SqlSession):
    import_tag: str | None = None

    def tag_import_session(self, job_id: str, owner: str) -> None:
        self.import_tag = import_tag(job_id, owner)
        # is_local: the pooled connection gets its own name back when the transaction ends.
        self.conn.execute("SELECT set_config('application_name', %s, true)", (self.import_tag,))

    def end_stalled_import_sessions(self, job_id: str, owner: str) -> int:
        (ended,) = self.conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name LIKE %s AND application_name <> %s AND pid <> pg_backend_pid()",
            (f"{PREFIX}{job_id}:%", import_tag(job_id, owner)),
        ).fetchone()
        return int(ended)
