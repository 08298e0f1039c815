"""Faults a run survives: a worker process lost mid-run is retried from what is on disk.

When a worker process dies (killed, out of memory, its machine gone), joblib's loky
backend raises ``TerminatedWorkerError`` for the whole map and Dask raises ``KilledWorker``
once a task has lost its workers too often (Dask itself reschedules the chunks of a lost
worker first). The chunks finished before are on disk; :func:`retry_lost_workers` runs the
map again with the replicates on disk excluded, so the run completes with every replicate
computed exactly once, from seeds that do not depend on the worker (identical numbers).
"""
from __future__ import annotations

import warnings
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, TypeVar

from .run_state import RunNotice

T = TypeVar("T")

#: attempts after the first when workers are lost
DEFAULT_RETRIES = 3


def lost_worker_errors() -> tuple[type[BaseException], ...]:
    """The exceptions by which joblib and Dask report a worker process that died."""
    errors: list[type[BaseException]] = [BrokenProcessPool]  # loky's TerminatedWorkerError
    try:
        from distributed.scheduler import KilledWorker
        errors.append(KilledWorker)
    except ImportError:  # pragma: no cover - without the [dask] extra
        pass
    return tuple(errors)


class WorkersLost(RuntimeError):
    """Workers kept dying: the run stopped after its retries (what is on disk is kept)."""


def retry_lost_workers(attempt: Callable[[], T], retries: int = DEFAULT_RETRIES) -> list[T]:
    """Call ``attempt()`` until it returns without losing a worker, at most ``retries``
    more times; returns the outcome of every attempt that returned (the last one).

    ``attempt`` must plan its work from what is on disk each time, so nothing runs twice.
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries: must be a non-negative integer; got {retries!r}")
    errors = lost_worker_errors()
    for k in range(retries + 1):
        try:
            return attempt()
        except errors as exc:
            if k == retries:
                raise WorkersLost(f"worker processes died {retries + 1} times; last: "
                                  f"{type(exc).__name__}: {exc}. The chunks written are kept; "
                                  "rerun with --resume") from exc
            warnings.warn(f"a worker process died ({type(exc).__name__}); retrying the "
                          "replicates not on disk", RunNotice, stacklevel=2)
    raise AssertionError("unreachable")
