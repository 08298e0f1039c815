"""One BLAS thread per process while tacebench computes, so numbers do not depend on n_jobs.

OpenBLAS splits a matrix product over its threads and adds the partial sums in an order that
depends on their number. A plan compiled by an iterative solver amplifies that last-bit
difference: on the same seed, a study run with ``n_jobs=1`` (the calling process, where
OpenBLAS starts one thread per core) and with ``n_jobs=2`` (loky workers, which it limits to
``cores // n_jobs`` threads) generated survival times 2.5e-9 apart, and RMST differences
6e-8 apart. The engine therefore runs every computation with one BLAS thread: the calling
process inside :func:`single_threaded_blas` (which restores the count on exit) and each
worker through :func:`set_blas_threads` before its first chunk. The arrays tacebench
multiplies are small (hundreds of rows, tens of columns), where threads gain nothing.

The count is one per process, while the calling process sets up the next studies and worlds
on threads beside the run: the blocks of all its threads therefore share one count of open
blocks, under a lock. The first to open saves the counts and sets one thread, the last to
close restores them; a block closing on one thread never restores a multi-threaded BLAS
under a set-up still running on another.

OpenBLAS is reached through its own C API (``openblas_set_num_threads`` and the symbol
variants of the scipy-openblas wheels) in every OpenBLAS library the process has loaded
(numpy and scipy each ship one); a BLAS without that API (MKL, Accelerate) is left alone and
:func:`blas_threads` reports nothing for it.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import threading
from pathlib import Path

__all__ = ["blas_threads", "set_blas_threads", "single_threaded_blas"]

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
            "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_", "openblas_get_num_threads")


def _openblas_libraries() -> list[str]:
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if line.strip()}
    except OSError:  # not Linux: no way to list the loaded libraries
        return []
    return sorted(p for p in paths if "openblas" in p.lower() and ".so" in p)


@functools.lru_cache(maxsize=1)
def _libraries() -> tuple[tuple[str, ctypes.CDLL], ...]:
    # read once per process (about 2 ms: /proc/self/maps and the loads): a worker sets its
    # count before every chunk, and the libraries of a process do not change
    import numpy  # noqa: F401  (load the libraries first)
    import scipy.linalg  # noqa: F401

    out = []
    for path in _openblas_libraries():
        try:
            out.append((path, ctypes.CDLL(path)))
        except OSError:
            continue
    return tuple(out)


def _call(lib: ctypes.CDLL, names: tuple[str, ...], *args):
    for name in names:
        if hasattr(lib, name):
            return getattr(lib, name)(*args)
    return None


def blas_threads() -> dict[str, int]:
    """The thread count of each loaded OpenBLAS, by library file name."""
    out = {}
    for path, lib in _libraries():
        n = _call(lib, _GETTERS)
        if n is not None:
            out[Path(path).name] = int(n)
    return out


def set_blas_threads(n: int = 1) -> dict[str, int]:
    """Set every loaded OpenBLAS to ``n`` threads; returns the previous counts."""
    before = blas_threads()
    for _, lib in _libraries():
        _call(lib, _SETTERS, ctypes.c_int(int(n)))
    return before


class _OneThread:
    """The open :func:`single_threaded_blas` blocks of the process, over all its threads,
    and the counts the first of them found (restored when the last closes)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.saved: dict[str, int] = {}

    def enter(self) -> None:
        with self.lock:
            if self.open == 0:
                self.saved = set_blas_threads(1)
            self.open += 1

    def exit(self) -> None:
        with self.lock:
            self.open -= 1
            if self.open == 0:
                for path, lib in _libraries():
                    n = self.saved.get(Path(path).name)
                    if n is not None:
                        _call(lib, _SETTERS, ctypes.c_int(n))


_ONE_THREAD = _OneThread()
if hasattr(os, "register_at_fork"):   # a forked worker starts with no block open, and a
    os.register_at_fork(after_in_child=_ONE_THREAD.__init__)  # lock no other thread holds


@contextlib.contextmanager
def single_threaded_blas():
    """One BLAS thread inside the block, the previous counts restored once no block of any
    thread of the process is open (usable as a decorator)."""
    _ONE_THREAD.enter()
    try:
        yield
    finally:
        _ONE_THREAD.exit()
