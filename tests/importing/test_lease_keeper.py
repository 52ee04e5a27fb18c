"""The lease keeper (importing/lease.py) on its own: one thread per runner renews the job it
works on, stops at release, and reports a lease found lost."""

from __future__ import annotations

import time


class _Store:
    """Just enough of a store for the keeper: records renewals; the job is ours while `ours`."""

    def __init__(self) -> None:
        self.renewed: list[str] = []
        self.ours = True

    def write(self):  # noqa: ANN201
        import contextlib

        store = self

        class Session:
            def renew_import_job_lease(self, job_id: str, owner: str, until: float) -> bool:
                store.renewed.append(job_id)
                return store.ours

        return contextlib.nullcontext(Session())


def test_one_keeper_thread_renews_the_current_job_only_and_reports_a_lost_lease():
    from qconnect_local.importing.lease import LeaseKeeper

    store = _Store()
    keeper = LeaseKeeper(store, "host:1:token", lease_seconds=0.06)  # a beat every 20 ms
    try:
        lost = keeper.keep("job-1")
        deadline = time.monotonic() + 10
        while len(store.renewed) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        keeper.release()
        time.sleep(0.1)
        count = len(store.renewed)
        time.sleep(0.1)
        assert len(store.renewed) == count and set(store.renewed) == {"job-1"} and not lost.is_set()
        thread = keeper.ident
        store.ours = False
        lost = keeper.keep("job-2")  # the same thread, for the runner's next job
        assert lost.wait(10)
        assert keeper.ident == thread and store.renewed[-1] == "job-2"
    finally:
        keeper.close()
