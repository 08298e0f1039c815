"""One run at a time writes a run directory.

Two runs writing into one ``OUT/`` at once (a ``--resume`` started while the first still
runs, a job array given one folder) would each plan the replicates that were missing when
they started and compute them twice; with different chunk sizes (another ``--n-jobs``) they
write overlapping chunks, and the summary counted those replicates twice: a copy of one run's
scenario-0 chunks (size 6) into another's (size 4) gave 24 rows per method for 12 replicates,
without a word. A run therefore holds an exclusive lock on ``OUT/.lock`` while it writes
(:func:`run_lock`), and a second run is refused at once, naming the holder (process id, host,
start time, which the file records).

The lock is the operating system's (``flock``), so it ends with the process that holds it,
however that process ends (``kill -9`` included): there is no stale lock to clean up. The
file is left in place (removing it could let a waiting run lock a name another run
re-creates). Where ``flock`` is missing (Windows) runs are not locked.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock
    fcntl = None

__all__ = ["LOCK_NAME", "RunLocked", "run_lock"]

LOCK_NAME = ".lock"


class RunLocked(ValueError):
    """Another run is writing the run directory."""


@contextlib.contextmanager
def run_lock(directory: str | Path) -> Iterator[None]:
    """Hold the run directory ``directory`` (created if missing) for one run.

    Raises
    ------
    RunLocked
        Another process holds it: its process id, host and start time are named.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    path = directory / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"{directory} is being written by another run ({_holder(path)}); "
                            "wait for it to end: two runs writing one directory would compute "
                            "the same replicates twice") from None
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": time.strftime("%Y-%m-%d %H:%M:%S %z")}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(me).encode())
        yield
    finally:
        os.close(fd)  # (releases the lock)


def _holder(path: Path) -> str:
    try:
        h = json.loads(path.read_text())
        return f"process {h['pid']} on {h['host']}, started {h['started']}"
    except (OSError, ValueError, KeyError, TypeError):  # written a moment from now
        return "a process that has not yet recorded itself"
