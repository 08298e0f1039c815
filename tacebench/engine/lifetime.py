"""Worker processes that exit when the process that started them dies (no orphans).

joblib's loky workers and a local Dask cluster's workers are children of the process that
runs the study. When that process is killed outright (``kill -9``, an out-of-memory kill)
nothing tells them: they waited for work for minutes, holding memory and keeping joblib's
resource trackers alive. :func:`exit_with_parent`, called once in each worker, starts a
daemon thread that notices the parent is gone (the kernel gives an orphan a new parent,
so ``os.getppid()`` changes) and ends the worker.

The engine's loky workers run :func:`watch_caller` as their executor's initializer
(:func:`~tacebench.engine.warm.local_backend`), so each watches from its start, whether or
not it ever gets a call; on the other backends every call starts it first
(:func:`~tacebench.engine.run.map_calls`, hence every ``run_design``). No command leaves
workers behind: before, only the study runner's workers watched, and two loky workers of a
``kill -9``ed ``tacebench closed-loop`` went on working (10% CPU each, 40 s later) with
nobody to report to.

Polling is used rather than Linux's ``PR_SET_PDEATHSIG`` because that signal follows the
parent *thread* that forked the worker: loky starts workers from a management thread, whose
exit would kill healthy workers.
"""
from __future__ import annotations

import os
import threading

__all__ = ["exit_with_parent", "watch_caller"]

_watching: dict[int, threading.Thread] = {}   # pid -> watchdog (a forked child starts anew)


def _watch(parent: int, interval: float) -> None:
    stop = threading.Event()
    while not stop.wait(interval):
        if os.getppid() != parent:
            # os._exit, not sys.exit: the worker's other threads may be blocked in a call
            # that never returns now that its parent is gone.
            os._exit(1)


def exit_with_parent(interval: float = 0.5) -> bool:
    """Exit this process within about ``interval`` seconds of its parent's death.

    Idempotent: the first call in a process starts the watchdog, later calls do nothing.

    Parameters
    ----------
    interval : float
        Seconds between checks of the parent process id.

    Returns
    -------
    bool
        True if this call started the watchdog.
    """
    if not interval > 0:
        raise ValueError(f"interval: must be a positive number of seconds; got {interval!r}")
    pid = os.getpid()
    if pid in _watching:
        return False
    thread = threading.Thread(target=_watch, args=(os.getppid(), interval),
                              name="tacebench-exit-with-parent", daemon=True)
    _watching[pid] = thread
    thread.start()
    return True


def watch_caller(caller: int) -> bool:
    """In a worker process that the process ``caller`` started, :func:`exit_with_parent`.

    Nothing in ``caller`` itself (inline, the ``threading`` backend, an in-process Dask
    cluster) nor in a process another started (a remote Dask worker outlives its clients).

    Parameters
    ----------
    caller : int
        The process id of the process that dispatched the call.

    Returns
    -------
    bool
        True if this call started the watchdog.
    """
    if os.getpid() != caller and os.getppid() == caller:
        return exit_with_parent()
    return False
