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
"""
from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_STATE: dict[str, object] = {}


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
