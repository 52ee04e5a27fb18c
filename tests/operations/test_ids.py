"""Resource ids: random version-4 UUIDs, unique across threads."""

from __future__ import annotations

import threading
import uuid

from qconnect_local import ids


def test_new_ids_are_version_4_uuids_in_canonical_form():
    made = [ids.new_id() for _ in range(3000)]  # more than one batch of random bytes
    assert len(set(made)) == len(made)
    for value in made:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == value and ids.UUID_RE.fullmatch(value)


def test_threads_never_share_ids():
    made: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        out.extend(ids.new_id() for _ in range(2000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [value for out in made for value in out]
    assert len(set(every)) == len(every) == 8000


def test_a_forked_child_makes_ids_of_its_own():
    import os

    ids.new_id()  # the parent now holds a batch of made ids
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next ids and leave at once
        os.write(write, " ".join(ids.new_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 4096).decode().split()
    os.close(read)
    parent = [ids.new_id() for _ in range(5)]
    assert len(child) == 5 and not set(child) & set(parent)
