"""Run a design's chunks: inline, on joblib workers (loky, threading, multiprocessing) or on
a Dask cluster; results come back per chunk as they finish and are returned in design order.

The engine knows nothing about cohorts or estimators. A caller gives it a *task*: a
picklable callable ``task(cell, chunk, batch_size) -> ChunkResult`` that runs the replicates
of one chunk (drawing each replicate's seed from :meth:`Cell.seed`) and counts what failed,
with the reason. A task that can analyse a stack of replicates at once does so in batches
of ``batch_size`` and falls back to one replicate at a time otherwise; since every seed is
named by its place in the design, the numbers never depend on ``n_jobs``, the backend, the
chunk size or the batch size.

``sink(result)`` (in the calling process) sees each chunk as soon as it is done - the study
runner writes it to disk there, so a killed run loses at most the chunks in flight.
``initializer()`` runs in a worker before each chunk (and is idempotent): process-wide
settings such as allocator tuning belong there, never in library code. ``upkeep()`` runs in
a worker after each chunk, before its result goes back: loky measures a worker's memory
then, and ends one that has grown by 300 MB since its first task, so memory that the
process keeps but no longer uses is given back there
(:class:`tacebench.estimators.batch.WorkerAllocator`).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Mapping, Sequence

from tacebench.records import ArrayRecord

from .blas import set_blas_threads, single_threaded_blas
from .design import Cell, Chunk, Design, default_chunk_size, plan_chunks
from .lifetime import watch_caller
from .warm import finish_start, local_backend, workers_for

__all__ = ["BACKENDS", "ChunkResult", "RunOutcome", "SchedulerUnreachable", "TaskError",
           "batches", "check_options", "run_design", "workers_for"]

#: backend name -> how the engine runs it ("inline" only with n_jobs=1)
BACKENDS = ("loky", "threading", "multiprocessing", "dask")


@dataclass(frozen=True, eq=False)
class ChunkResult(ArrayRecord):
    """What a task returns for one chunk.

    ``payload`` is the task's own output (draws, result columns); ``failures`` counts
    replicates per ``(key, reason)`` whose analysis could not be computed (key names the
    target or method); ``notes`` counts anything else worth reporting, per message. Results
    compare by value (a payload's arrays element by element, NaN equal to NaN).
    """

    chunk: Chunk
    payload: Any
    failures: Mapping[tuple[str, str], int] = field(default_factory=dict)
    notes: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    """All chunks run by one call, in design order, with their failures added up."""

    results: tuple[ChunkResult, ...]
    failures: Mapping[tuple[str, str], int]
    notes: Mapping[str, int]
    replicates_run: int
    elapsed: float

    def payloads(self, cell: int | None = None) -> list[Any]:
        return [r.payload for r in self.results if cell is None or r.chunk.cell == cell]


def batches(reps: Sequence[int] | range, batch_size: int | None) -> Iterator[list[int]]:
    """``reps`` in consecutive batches of at most ``batch_size`` (all at once for None)."""
    reps = list(reps)
    step = len(reps) if not batch_size else int(batch_size)
    for i in range(0, len(reps), max(step, 1)):
        yield reps[i:i + step]


#: Dask address schemes; those of a network address need a host and a port.
_SCHEMES = {"tcp": True, "tls": True, "ws": True, "wss": True, "ucx": True, "inproc": False}


def scheduler_problem(address) -> str:
    """What is wrong with a Dask scheduler address ('' if nothing), by its form alone, so
    that a typo is refused before a run writes anything: ``[scheme://]host:port`` (scheme
    tcp by default, as Dask reads it) or ``inproc://...``."""
    if not isinstance(address, str) or not address:
        return f"must be an address such as tcp://host:8786; got {address!r}"
    scheme, _, rest = address.partition("://") if "://" in address else ("tcp", "", address)
    if scheme not in _SCHEMES:
        return (f"{address!r} has the unknown scheme {scheme!r} (one of "
                f"{', '.join(_SCHEMES)}); an address looks like tcp://host:8786")
    host, _, port = rest.rpartition(":")
    if _SCHEMES[scheme] and not (host and port.isdigit() and 0 < int(port) < 65536):
        return (f"{address!r} is not host:port (an address looks like tcp://host:8786; "
                "`dask scheduler` prints it)")
    return ""


def check_options(n_jobs: int, backend: str | None = None, scheduler: str | None = None,
                  batch_size: int | None = None) -> None:
    """Raise ``ValueError`` naming the argument and its value unless the options are ones
    :func:`run_design` and :func:`map_calls` accept: a caller that writes anything before
    its first call (a run directory) checks them first."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs: must be a positive integer or -1 (all cores); got {n_jobs!r}")
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"backend: must be one of {list(BACKENDS)}; got {backend!r}")
    if scheduler and backend != "dask":
        raise ValueError(f"scheduler: needs backend='dask'; got backend={backend!r}")
    if scheduler and (problem := scheduler_problem(scheduler)):
        raise ValueError(f"scheduler: {problem}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or batch_size < 1):
        raise ValueError(f"batch_size: must be a positive integer; got {batch_size!r}")


def _in_worker(task, cell: Cell, chunk: Chunk, batch_size, initializer, upkeep=None
               ) -> ChunkResult:
    set_blas_threads(1)  # as inline: the numbers must not depend on the worker's BLAS threads
    if initializer is not None:
        initializer()
    try:
        return task(cell, chunk, batch_size)
    except TaskError:         # stated for the user by the task: passed on as it is
        raise
    except Exception as exc:  # a bug outside any one analysis: say where, then stop
        raise RuntimeError(f"{cell.name!r} replicates [{chunk.start}, {chunk.stop}): "
                           f"{traceback.format_exc()}") from exc
    finally:
        if upkeep is not None:  # the task's arrays are freed by now; its result is not yet sent
            upkeep()


class TaskError(Exception):
    """A task's own reason to stop the run, worded for the user (e.g. a generated study
    folder that fails its check): the run stops and the caller shows the message, not
    the worker's traceback that wraps any other exception."""


class SchedulerUnreachable(RuntimeError):
    """The Dask scheduler a run was given does not answer, or stopped answering mid-run
    (the run stops; nothing it finished is lost)."""


def _connection_lost() -> tuple[type[BaseException], ...]:
    """distributed's errors for a scheduler gone mid-run: its connection closed, or the
    tasks cancelled because it was lost."""
    from distributed.client import FutureCancelledError
    from distributed.comm import CommClosedError

    return (FutureCancelledError, CommClosedError)


class _LostConnectionLog(logging.Filter):
    """Drops the client's log of its failed reconnection to a lost scheduler (a 25-line
    traceback before the run's own one-line message says the same)."""

    def filter(self, record: logging.LogRecord) -> bool:
        lost = (asyncio.CancelledError, *_connection_lost())
        return not (record.exc_info and isinstance(record.exc_info[1], lost))


@contextlib.contextmanager
def _dask(scheduler: str | None, n_jobs: int):
    """A Dask client on ``scheduler``, or on a local cluster of ``n_jobs`` worker processes
    started here; both closed at the end. A scheduler lost mid-run ends the run with
    :class:`SchedulerUnreachable`."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("backend='dask' needs dask[distributed]; install tacebench[dask]") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError) as exc:  # distributed's "Timed out trying to connect"
            raise SchedulerUnreachable(f"cannot connect to the Dask scheduler {scheduler!r} "
                                       f"({exc}): check that it is running and reachable"
                                       ) from None
    else:
        n = n_jobs if n_jobs > 0 else None
        # ":0", a free port: None still binds 8787 and warns when it is taken
        # (distributed does not disable the dashboard for None), and another cluster may hold it
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=":0")
        client = Client(cluster)
        from .dask_quiet import IgnoreInterrupt
        client.register_plugin(IgnoreInterrupt(os.getpid()))  # Ctrl-C is the command's
    quiet = _LostConnectionLog()
    logging.getLogger("distributed.client").addFilter(quiet)
    try:
        yield client
    except _connection_lost() as exc:  # (was a 40-line traceback, no way on)
        where = f"the Dask scheduler {scheduler!r}" if scheduler else "the local Dask cluster"
        raise SchedulerUnreachable(f"lost the connection to {where} mid-run "
                                   f"({type(exc).__name__}: {str(exc).splitlines()[0].rstrip('.')})"
                                   ) from None
    finally:
        try:
            client.close()
        finally:  # (the cluster as well when closing the client fails or is interrupted)
            logging.getLogger("distributed.client").removeFilter(quiet)
            if cluster is not None:
                # closed here, not by distributed's exit hook, which printed 22 INFO lines
                # of its scheduler and nanny shutdown after the command's own output
                cluster.close()


def _submitted(client, calls: list[tuple[Callable, tuple]]) -> Iterator[Any]:
    """Each call a task of its own on ``client``'s cluster; results as they finish.

    Submitted by the client itself, not through joblib's Dask backend: that backend runs
    each batch under ``parallel_config(backend="dask")`` in the worker, which opens a
    client of the worker's own to the scheduler. After Ctrl-C, that client (left to the
    garbage collector once the cluster had closed: "IOLoop is closed", from
    ``Client.__del__``) or the backend's gathering of results ("ConnectionPool is closed")
    now and then printed a traceback. A task's future is dropped as soon as its result is
    read (``as_completed`` holds each until it yields it, and nothing else holds them), so
    the workers do not hold finished results to the end of the run; tasks not yet finished
    when the run stops go with the client (closing it releases them)."""
    from distributed import as_completed

    for future in as_completed([client.submit(fn, *args, pure=False) for fn, args in calls]):
        yield future.result()


def _streaming(n_jobs: int, backend: str | None, workers: int):
    """Map delayed calls to an iterator of results as they finish (backends without
    generator support run a few calls per worker at a time, so results still stream)."""
    from joblib import Parallel

    try:
        return Parallel(n_jobs=n_jobs, backend=backend, return_as="generator_unordered")
    except ValueError as exc:
        if "return_as" not in str(exc):
            raise
    parallel = Parallel(n_jobs=n_jobs, backend=backend)
    step = 2 * workers

    def batched(calls):
        for i in range(0, len(calls), step):
            yield from parallel(calls[i:i + step])
    return batched


def _initialized(initializer, fn, args, caller: int):
    watch_caller(caller)  # a worker process ends with the process that started it
    set_blas_threads(1)
    if initializer is not None:
        initializer()
    return fn(*args)


def map_calls(calls: list[tuple[Callable, tuple]], *, n_jobs: int = 1, backend: str | None = None,
              scheduler: str | None = None,
              initializer: Callable[[], None] | None = None) -> Iterator[Any]:
    """Run ``fn(*args)`` for each call, in parallel as :func:`run_design` does; results in
    completion order. For set-up work that is not a chunk (a scenario's true values).
    ``initializer`` runs in a worker before each call (never inline). Every call runs with
    one BLAS thread, inline or in a worker (:mod:`tacebench.engine.blas`: the numbers must
    not depend on ``n_jobs``); the calling process's count is restored at the end."""
    from joblib import delayed

    check_options(n_jobs, backend, scheduler)
    if n_jobs == 1 and backend is None:
        with single_threaded_blas():
            for fn, args in calls:
                yield fn(*args)
        return
    if not calls:
        return
    finish_start()  # workers started early (engine.warm) end their imports first
    with (_dask(scheduler, n_jobs) if backend == "dask" else contextlib.nullcontext()) \
            as client, single_threaded_blas():
        if client is not None:
            yield from _submitted(client, [(_initialized, (initializer, fn, a, os.getpid()))
                                           for fn, a in calls])
            return
        yield from _streaming(n_jobs, local_backend(backend), workers_for(n_jobs))(
            [delayed(_initialized)(initializer, fn, a, os.getpid()) for fn, a in calls])


def run_design(design: Design, task: Callable[[Cell, Chunk, int | None], ChunkResult], *,
               n_jobs: int = 1, backend: str | None = None, scheduler: str | None = None,
               chunk_size: int | None = None, batch_size: int | None = None,
               done: Mapping[int, "object"] | None = None,
               sink: Callable[[ChunkResult], None] | None = None,
               progress: Callable[[int], None] | None = None,
               initializer: Callable[[], None] | None = None,
               upkeep: Callable[[], None] | None = None,
               keep_payloads: bool = True) -> RunOutcome:
    """Run every replicate of ``design`` not in ``done`` through ``task``.

    Parameters
    ----------
    design : Design
    task : callable
        ``task(cell, chunk, batch_size) -> ChunkResult``; must be picklable for process
        backends (a module-level function or a dataclass instance).
    n_jobs : int
        Workers; ``-1`` = all cores. ``1`` without a backend runs inline.
    backend : {"loky", "threading", "multiprocessing", "dask"}, optional
        joblib's backend, or ``"dask"``: a Dask client on ``scheduler`` (an address such
        as ``tcp://host:8786``) or on a local cluster of ``n_jobs`` workers started for
        the run submits one task per chunk.
    chunk_size : int, optional
        Replicates per chunk (default :func:`default_chunk_size`).
    batch_size : int, optional
        Replicates a task analyses as one stack (default: the whole chunk).
    done : mapping, optional
        Cell index -> boolean mask of replicates already done (resume).
    sink, progress, initializer, upkeep : callable, optional
        See the module docstring; ``progress(k)`` is told of ``k`` more replicates done.
        ``initializer`` and ``upkeep`` run in workers only, never inline.
    keep_payloads : bool
        False when ``sink`` stores the payloads: the outcome then holds each chunk's counts
        without its payload, so memory stays flat however long the run.

    Returns
    -------
    RunOutcome
        Chunks in design order (cell, then first replicate), whatever order they ran in.
    """
    check_options(n_jobs, backend, scheduler, batch_size)
    workers = workers_for(n_jobs)
    if chunk_size is None:
        chunk_size = default_chunk_size(max((c.reps for c in design.cells), default=1), workers)
    chunks = plan_chunks(design, chunk_size, done)
    t0 = time.perf_counter()
    got: list[ChunkResult] = []
    failures: Counter = Counter()
    notes: Counter = Counter()

    if n_jobs == 1 and backend is None:   # inline: no worker, so no initializer
        calls = [(task, (design.cells[ch.cell], ch, batch_size)) for ch in chunks]
    else:
        calls = [(_in_worker, (task, design.cells[ch.cell], ch, batch_size, initializer,
                               upkeep)) for ch in chunks]
    for res in map_calls(calls, n_jobs=n_jobs, backend=backend, scheduler=scheduler):
        got.append(res if keep_payloads else replace(res, payload=None))
        if sink is not None:
            sink(res)
        if progress is not None:
            progress(len(res.chunk))
    got.sort(key=lambda r: (r.chunk.cell, r.chunk.start))
    # added up in design order, not in the order chunks finished, so that the keys of
    # the counts (printed, written to JSON) come in the same order for any n_jobs
    for res in got:
        failures.update(res.failures)
        notes.update(res.notes)
    return RunOutcome(tuple(got), dict(failures), dict(notes),
                      sum(len(r.chunk) for r in got), time.perf_counter() - t0)
