"""Start the worker processes early, so that their imports overlap the caller's set-up.

A loky worker is a fresh interpreter: before its first chunk it imports the modules the
task needs (about a second for the replication machinery), and joblib starts the workers
only when the first :func:`~tacebench.engine.run.run_design` call begins. A command that
knows it will run chunks can call :func:`start_workers` first: the workers of the same pool
(joblib reuses one loky executor for the same ``n_jobs``) start now and import the listed
modules while the calling process loads, audits and compiles its first study. The next
:func:`~tacebench.engine.run.map_calls` waits for these imports to end before it sends its
own calls (:func:`finish_start`), so two joblib calls never share the pool at once.

Nothing here changes what a task computes: the workers are the ones the run would have
started, with the same initializer and one BLAS thread.
"""
from __future__ import annotations

import atexit
import warnings
from importlib import import_module
from typing import Callable, Iterable, Iterator

from .blas import set_blas_threads

__all__ = ["discard", "finish_start", "start_workers", "workers_for"]

#: the warm-up calls in flight (a joblib generator), drained by :func:`finish_start`
_pending: list[Iterator] = []
#: (n_jobs, modules) of the last start: a second start of the same pool does nothing
_started: list[tuple[int, tuple[str, ...]]] = []


def _import(modules: tuple[str, ...], initializer: Callable[[], None] | None) -> int:
    set_blas_threads(1)
    if initializer is not None:
        initializer()
    for name in modules:
        import_module(name)
    return len(modules)


def workers_for(n_jobs: int) -> int:
    """Worker count of ``n_jobs`` as joblib reads it (-1: all cores)."""
    from joblib import cpu_count

    return n_jobs if n_jobs > 0 else max(1, cpu_count() + 1 + n_jobs)


def start_workers(n_jobs: int, modules: Iterable[str] = (),
                  initializer: Callable[[], None] | None = None) -> bool:
    """Start the pool of ``n_jobs`` loky workers now, each importing ``modules``.

    Returns at once; the workers import in the background. Does nothing for ``n_jobs=1``
    (no workers: chunks run inline), nor when the same ``n_jobs`` and ``modules`` were
    started last (the pool is kept: joblib reuses it).

    Parameters
    ----------
    n_jobs : int
        As :func:`~tacebench.engine.run.run_design` will be called with (``-1``: all cores).
    modules : iterable of str
        Modules each worker imports (those the tasks' unpickling and first chunk need).
    initializer : callable, optional
        Run in each worker first, as the run's ``initializer``.

    Returns
    -------
    bool
        True if workers were started.
    """
    from joblib import Parallel, delayed

    if n_jobs == 1:
        return False
    modules = tuple(modules)
    if _started and _started[-1] == (n_jobs, modules):
        return True
    finish_start()
    if not _started:
        atexit.register(discard)
    _started[:] = [(n_jobs, modules)]
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    # one call per worker: each call takes a worker about a second, so an idle worker
    # takes the next one rather than the first worker taking them all
    _pending.append(parallel(delayed(_import)(modules, initializer)
                             for _ in range(workers_for(n_jobs))))
    return True


def finish_start() -> None:
    """Wait for the workers started by :func:`start_workers` to finish their imports."""
    while _pending:
        for _ in _pending.pop():
            pass


def discard() -> None:
    """Drop the warm-up calls no run has drained (a command that ends before its first run,
    e.g. on a usage error), without joblib's warning that their results were not used or
    their imports cancelled."""
    _started.clear()
    while _pending:
        calls = _pending.pop()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"joblib\.parallel")
            calls.close()
