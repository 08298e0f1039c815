"""The files and folders runs write.

**Whole or absent** (:func:`atomic_write`): a file is written to a temporary name, flushed
to disk and renamed into place (``os.replace``, atomic on POSIX), so a run killed at any
instant, or a full disk, never leaves a truncated file that reads as a complete one. A
study run's chunks and records (``benchmarks.store``) and ``tacebench replicate --out``'s
files (``replications.report.write_outputs``) are written this way. A command that edits
several files of a user's folder at once (``tacebench migrate``) writes them all before it
renames any (:func:`replace_files`): a failure leaves every file as it was.

**One writer per folder** (:func:`folder_lock`): two runs writing into one folder at once
mix their files. A study run (a ``--resume`` started while the first still runs, a job
array given one ``OUT``) would plan the replicates missing when it started and compute
them twice; with another chunk size it wrote overlapping chunks, and the summary counted
those replicates twice (a copy of one run's scenario-0 chunks, size 6, into another's, size
4, gave 24 rows per method for 12 replicates, without a word). Two ``replicate --out DIR``
writing at once would each clear the other's files. The writer holds an exclusive lock on
``DIR/.lock``: a study run refuses a second one at once (:class:`FolderLocked`, naming the
holder's process id, host and start time, which the file records), ``replicate`` waits for
the other to finish writing. The lock is the operating system's (``flock``), so it ends
with the process that holds it, however that process ends (``kill -9`` included): there is
no stale lock to clean up. The file is left in place (removing it could let a waiting
writer lock a name another re-creates). Where ``flock`` is missing (Windows) nothing is
locked.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Callable, Iterator, Mapping

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock
    fcntl = None

__all__ = ["FolderLocked", "LOCK_NAME", "WriteFailed", "atomic_write", "folder_lock",
           "replace_files"]

LOCK_NAME = ".lock"


class WriteFailed(OSError):
    """Writing a file failed (disk full, quota, permissions); nothing partial was left
    behind."""


def atomic_write(path: Path, write: Callable[[Path], None],
                 name_of: Callable[[bytes], str] | None = None) -> Path:
    """``write(tmp)`` to a temporary file beside ``path``, flush it to disk, rename it into
    place; ``name_of(bytes)`` may choose the final name from the file's bytes. On failure
    the temporary file is removed and :class:`WriteFailed` names the file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
            if name_of is not None:
                path = path.with_name(name_of(fh.read()))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteFailed(exc.errno, f"cannot write {path.name} in {path.parent}: "
                                     f"{exc.strerror or exc}") from exc
    return path


def replace_files(folder: str | Path, texts: Mapping[str, str]) -> list[Path]:
    """Write the text files ``texts`` (name -> text) of ``folder`` as one change.

    Every text is first written whole to a temporary file beside its target and flushed to
    disk; only when all are written are they renamed into place (one ``os.replace`` each,
    nothing left to fail but the renames). A failure while writing (disk full, a read-only
    file, permissions) removes the temporaries and raises :class:`WriteFailed` naming the
    file: every file is then as it was. Writing in place instead, ``tacebench migrate``
    stopped by a full disk left a study's hand-written targets.toml cut to its first
    bytes, after rewriting its cohort.toml. A file that exists keeps its permission bits.

    Returns
    -------
    list of Path
        The files written, in the order of ``texts``.
    """
    folder = Path(folder)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in texts.items():
            path = folder / name
            tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
            staged.append((tmp, path))
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            if path.exists():
                shutil.copymode(path, tmp)
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        name = staged[-1][1].name if staged else "?"
        raise WriteFailed(exc.errno, f"cannot write {name} in {folder}: "
                                     f"{exc.strerror or exc}; no file was changed") from exc
    for tmp, path in staged:
        os.replace(tmp, path)
    return [path for _, path in staged]


class FolderLocked(ValueError):
    """Another process is writing the folder."""


@contextlib.contextmanager
def folder_lock(directory: str | Path, *, wait: bool = False,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold ``directory`` (created if missing) for one writer.

    Parameters
    ----------
    directory : path
    wait : bool
        Wait for another holder to finish (default: refuse at once).
    on_wait : callable, optional
        With ``wait``, told who holds the folder before the wait begins (a command says
        so rather than hang in silence).

    Raises
    ------
    FolderLocked
        Another process holds it and ``wait`` is False: its process id, host and start time
        are named.
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
            if not wait:
                raise FolderLocked(f"{directory} is being written by another run "
                                   f"({_holder(path)}); wait for it to end: two runs writing "
                                   "one folder would mix their files") from None
            if on_wait is not None:
                on_wait(_holder(path))
            fcntl.flock(fd, fcntl.LOCK_EX)
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
