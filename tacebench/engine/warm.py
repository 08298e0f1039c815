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
import os
import warnings
from importlib import import_module
from typing import Callable, Iterable, Iterator

from .blas import set_blas_threads
from .lifetime import watch_caller

__all__ = ["POOL", "WorkerStart", "discard", "finish_start", "local_backend", "start_workers",
           "workers_for"]


def local_backend(backend: str | None):
    """joblib's backend for ``backend`` (None: joblib's default, loky), with loky's workers
    watching the process that starts them from their first instant
    (:func:`~tacebench.engine.lifetime.watch_caller` as the executor's initializer): a
    worker that never got a call (the warm-up's calls are not dealt one per worker: with
    nothing to import, one worker took both) outlived a ``kill -9``ed command. Every
    engine pool is made with the same initializer and arguments, so joblib keeps reusing
    one pool. Other backends are returned as named (each call also watches,
    :func:`~tacebench.engine.run.map_calls`)."""
    if backend not in (None, "loky"):
        return backend
    # (Parallel takes no initializer; the loky backend passes its keyword arguments to its
    # executor, the route joblib documents as parallel_config's backend_params)
    from joblib.parallel import LokyBackend

    return LokyBackend(initializer=watch_caller, initargs=(os.getpid(),))


def _import(modules: tuple[str, ...], initializer: Callable[[], None] | None) -> int:
    # (the worker watches its parent from its start: local_backend's initializer)
    set_blas_threads(1)
    if initializer is not None:
        initializer()
    for name in modules:
        import_module(name)
    return len(modules)


class WorkerStart:
    """The process's loky pool as the commands start it: the warm-up calls in
    flight (a joblib generator each, drained by :meth:`finish`) and the ``(n_jobs,
    modules)`` last started. joblib keeps one loky pool per process, so the engine holds
    one of these, :data:`POOL`; the module's functions are its methods."""

    def __init__(self) -> None:
        self.pending: list[Iterator] = []
        self.started: tuple[int, tuple[str, ...]] | None = None
        self._exit_hook = False

    def start(self, n_jobs: int, modules: Iterable[str] = (),
              initializer: Callable[[], None] | None = None) -> bool:
        """Start the pool of ``n_jobs`` loky workers now, each importing ``modules``.

        Returns at once; the workers import in the background. Does nothing for
        ``n_jobs=1`` (no workers: chunks run inline), nor when the same ``n_jobs`` and
        ``modules`` were started last (the pool is kept: joblib reuses it).

        Parameters
        ----------
        n_jobs : int
            As :func:`~tacebench.engine.run.run_design` will be called with (``-1``: all
            cores).
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
        if self.started == (n_jobs, modules):
            return True
        self.finish()
        if not self._exit_hook:
            atexit.register(self.discard)
            self._exit_hook = True
        self.started = (n_jobs, modules)
        parallel = Parallel(n_jobs=n_jobs, backend=local_backend(None),
                            return_as="generator_unordered")
        # one call per worker: each call takes a worker about a second, so an idle worker
        # takes the next one rather than the first worker taking them all
        self.pending.append(parallel(delayed(_import)(modules, initializer)
                                     for _ in range(workers_for(n_jobs))))
        return True

    def finish(self) -> None:
        """Wait for the workers started by :meth:`start` to finish their imports."""
        while self.pending:
            for _ in self.pending.pop():
                pass

    def discard(self) -> None:
        """Drop the warm-up calls no run has drained (a command that ends before its first
        run, e.g. on a usage error), without joblib's warning that their results were not
        used or their imports cancelled."""
        self.started = None
        while self.pending:
            calls = self.pending.pop()
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=UserWarning,
                                        module=r"joblib\.parallel")
                calls.close()


#: The process's pool (one loky pool per process, as joblib keeps it).
POOL = WorkerStart()
start_workers = POOL.start
finish_start = POOL.finish
discard = POOL.discard


def workers_for(n_jobs: int) -> int:
    """Worker count of ``n_jobs`` as joblib reads it (-1: all cores)."""
    from joblib import cpu_count

    return n_jobs if n_jobs > 0 else max(1, cpu_count() + 1 + n_jobs)
