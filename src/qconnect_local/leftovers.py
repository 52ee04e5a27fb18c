"""Cleans up what a process killed with SIGKILL leaves behind: half-written blob files
(`.tmp-<pid>-...` beside the blobs), the in-memory mode's tmpfs directories in /dev/shm, and
the import leases of dead runners of this host (importing/runner.py asks `is_dead_local_runner`).

A temporary blob file names the process writing it; one whose process is gone is deleted when a
blob store opens the directory. An in-memory server holds an exclusive `flock` on `.alive` in
each of its tmpfs directories for its whole life (the kernel drops it when the process dies,
however it dies), so a directory whose `.alive` can be locked belongs to nobody and is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

log = logging.getLogger("qconnect_local.leftovers")

SHM = Path("/dev/shm")
SHM_PREFIX = "qconnect-local-"
ALIVE = ".alive"
_TMP_FILE = re.compile(r"\.tmp-(\d+)-")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def is_dead_local_runner(owner: str) -> bool:
    """Whether an import lease's owner (`host:pid:token`, importing/runner.py) is a process of
    this host that is gone (another host's runner, or one still alive, is not)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    return pid != os.getpid() and not pid_alive(pid)


def sweep_tmp_files(root: Path) -> int:
    """Deletes `.tmp-<pid>-*` files under root whose writing process is gone; how many."""
    removed = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            m = _TMP_FILE.match(name)
            if m and not pid_alive(int(m.group(1))):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
    return removed


def hold_directory(directory: Path) -> int:
    """Marks a tmpfs directory as this process's until it exits (see module doc)."""
    staging = directory / f"{ALIVE}-{os.getpid()}"
    fd = os.open(staging, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.replace(staging, directory / ALIVE)  # visible to sweeps only once locked
    return fd  # the lock lasts while it is open


def sweep_shm(base: Path = SHM) -> int:
    """Removes tmpfs directories of dead in-memory servers; how many."""
    removed = 0
    try:
        candidates = [p for p in base.iterdir() if p.name.startswith(SHM_PREFIX) and p.is_dir()]
    except OSError:
        return 0
    for directory in candidates:
        try:
            fd = os.open(directory / ALIVE, os.O_RDWR)
        except OSError:  # no marker: not ours to judge (being created, or an older version's)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # its server is alive
            os.close(fd)
            continue
        try:
            shutil.rmtree(directory, ignore_errors=True)
            removed += 1
        finally:
            os.close(fd)
    if removed:
        log.info(
            "removed %d tmpfs director%s of in-memory servers that were killed", removed, "y" if removed == 1 else "ies"
        )
    return removed


def claim_scratch_directories(scratch: Iterable[str | None]) -> Callable[[], None]:
    """At an in-memory server's start: holds its tmpfs directories, removes those of dead
    servers, and returns what releases the hold at shutdown."""
    dirs = [Path(d) for d in scratch if d is not None]
    held = [hold_directory(d) for d in dirs if d.parent == SHM and d.name.startswith(SHM_PREFIX)]

    def release() -> None:
        for fd in held:
            with contextlib.suppress(OSError):
                os.close(fd)

    sweep_shm()
    return release
