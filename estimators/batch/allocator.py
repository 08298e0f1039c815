"""Keep freed array memory in the process: glibc malloc thresholds for Monte Carlo loops.

A batched replicate (``estimators.batch``) makes a few hundred temporary arrays of
100 kB - 5 MB. With glibc's default thresholds, memory freed at the top of the heap goes
back to the operating system (``M_TRIM_THRESHOLD``) and large blocks are ``mmap``-ed, so
the next array of that size is faulted in again page by page: on the development machine
that was a fifth to a third of a batched IPTW replicate (see ``docs/speed.md``). Raising
both thresholds keeps that memory for reuse, at the price of holding up to
``trim_mb`` of freed memory.

Process-wide, so a library never does this at import: the front doors call
:func:`tune_allocator` (the ``tacebench`` command, the study runner's workers, the speed
suite), and a script of your own that runs the batched estimators should call it once at
its start. ``TACEBENCH_MALLOC_TUNE=0`` turns it off; elsewhere than glibc it does nothing.

The price has a second part in a long-lived worker: freed blocks in the middle of the heap
stay resident (fragmentation), so a study runner's worker grew to 500+ MB over a 500-replicate
run, and joblib's process pool (loky) ends a worker whose memory has grown by 300 MB after
its first task, as a presumed leak: three workers were replaced per run of the default
study, each re-importing the package and re-preparing its scenarios, with a "worker
stopped" warning. Most of that memory was arrays held by reference cycles until a full garbage
collection (a worker that collected before each task stayed under 300 MB), then kept by the
allocator. :func:`trim_if_grown` collects them and gives the memory back (glibc
``malloc_trim``) once the process has grown by ``grown_mb`` since its first call (and by
``again_mb`` since its last trim).

When it runs matters: loky measures a worker *after* each task, against its size after
its first task. A replicate command's workers start with an import-only warm-up task
(about 70 MB), and a chunk of a large study leaves them at 300-370 MB: trimming before
the next task came too late, and the main job still lost a worker. :class:`WorkerAllocator`
therefore records the size before the first chunk and trims after each chunk (the engine's
``upkeep``), before the pool looks.
"""
from __future__ import annotations

import ctypes
import gc
import os
import sys
from dataclasses import dataclass

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_STATE: dict[str, object] = {}  # this process's settings: per process by nature


def tune_allocator(trim_mb: int = 128, mmap_mb: int = 32) -> bool:
    """Raise glibc's trim and mmap thresholds (MB; glibc caps the mmap one at 32 MB on
    64-bit systems). Returns whether the thresholds are in place; idempotent."""
    if "tuned" in _STATE:
        return bool(_STATE["tuned"])
    tuned = False
    if os.environ.get("TACEBENCH_MALLOC_TUNE", "1") != "0" and sys.platform.startswith("linux"):
        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):  # not glibc (e.g. musl)
            mallopt = None
        if mallopt is not None:
            tuned = (mallopt(_M_MMAP_THRESHOLD, int(mmap_mb) << 20) == 1
                     and mallopt(_M_TRIM_THRESHOLD, int(trim_mb) << 20) == 1)
    _STATE["tuned"] = tuned
    return tuned


def allocator_state() -> str:
    """A line for reports: whether :func:`tune_allocator` has run and what it set."""
    if "tuned" not in _STATE:
        return "glibc defaults (tune_allocator not called)"
    if _STATE["tuned"]:
        return ("glibc M_TRIM_THRESHOLD 128 MB, M_MMAP_THRESHOLD 32 MB "
                "(estimators.batch.tune_allocator)")
    return "defaults (TACEBENCH_MALLOC_TUNE=0 or not glibc)"


def _resident_bytes() -> int | None:
    """This process's resident set size, or None where ``/proc`` has no ``statm``."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def trim_if_grown(grown_mb: int = 192, keep_mb: int = 128, again_mb: int = 64) -> bool:
    """Return freed heap memory to the operating system once the process has grown.

    Parameters
    ----------
    grown_mb : int
        Trim when the resident size exceeds the first call's size by more than this many
        MB (loky ends a worker at 300 MB over its size after its first task; the margin
        is the growth a trim cannot give back: memory the process still uses, and the
        ``keep_mb`` it keeps) ...
    again_mb : int
        ... and the size after the last trim (the first call's size at first) by more
        than this many: a process whose memory in use stays above ``grown_mb`` is not
        collected and trimmed after every task, only when it has grown again.
    keep_mb : int
        Free memory kept at the top of the heap (as :func:`tune_allocator`'s trim
        threshold), so the next task's arrays still find it.

    Returns
    -------
    bool
        Whether it collected and trimmed (never where glibc or ``/proc`` are absent, nor after
        ``TACEBENCH_MALLOC_TUNE=0``).
    """
    if os.environ.get("TACEBENCH_MALLOC_TUNE", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    rss = _resident_bytes()
    if rss is None:
        return False
    base = _STATE.setdefault("base_rss", rss)
    last = _STATE.setdefault("trimmed_rss", rss)
    if rss - int(base) <= int(grown_mb) << 20 or rss - int(last) <= int(again_mb) << 20:
        return False
    gc.collect()  # arrays held by reference cycles were most of the growth measured
    try:
        ctypes.CDLL(None).malloc_trim(ctypes.c_size_t(int(keep_mb) << 20))
    except (OSError, AttributeError):  # not glibc
        return False
    _STATE["trimmed_rss"] = _resident_bytes() or rss
    return True


@dataclass(frozen=True)
class WorkerAllocator:
    """A pool worker's allocator, for the engine: :meth:`setup` as its ``initializer``
    (before each chunk) and :meth:`upkeep` as its ``upkeep`` (after each chunk, before the
    pool measures the worker).

    Parameters
    ----------
    caller_pid : int
        The process that made the pool (``os.getpid()`` there). Its own threads (a
        ``threading`` backend, an in-process Dask cluster) are tuned, never trimmed.
    """

    caller_pid: int

    def setup(self) -> None:
        """:func:`tune_allocator`; in a worker process, the size that :func:`trim_if_grown`
        measures growth from (recorded on the first call, before the first chunk)."""
        tune_allocator()
        if os.getpid() != self.caller_pid:
            trim_if_grown()

    def upkeep(self) -> None:
        """In a worker process, :func:`trim_if_grown`: freed memory goes back before loky
        compares the worker with its size after its first task."""
        if os.getpid() != self.caller_pid:
            trim_if_grown()
