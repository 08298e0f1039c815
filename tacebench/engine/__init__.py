"""The one Monte Carlo engine of tacebench: designs, seeds, chunks, backends, run records.

``tacebench replicate`` (replicates of a study), ``tacebench study run`` (scenarios x
methods) and ``tacebench teach`` (worlds x cohorts) all run through :func:`run_design`:

- a :class:`Design` of cells x replicates with one seed scheme (:func:`stream_seed`);
- chunks planned round-robin over cells, resumable from a mask of replicates done;
- inline, joblib (loky, threading, multiprocessing) or Dask execution, results streamed
  to a sink as chunks finish and returned in design order;
- failure accounting per (key, reason) added up over chunks;
- :func:`code_version`, which a resumable run records and checks;
- :func:`start_workers`, so workers import while the caller sets up its first run, and
  :class:`Ahead` (:func:`set_up_ahead`), so the caller sets up its next runs while the
  workers run this one;
- :func:`exit_with_parent`, so worker processes never outlive a killed run;
- one BLAS thread for every computation (:func:`single_threaded_blas`), so that the numbers
  do not depend on ``n_jobs``;
- warnings recorded per call by the thread that raised them (:func:`record_warnings`), so
  that a row's warnings do not depend on the backend;
- files written whole or not at all (:mod:`tacebench.engine.files`), so that a run killed
  or stopped by a full disk never leaves a truncated file that reads as a complete one.

It is a leaf: it imports no other tacebench package; the tasks it runs come from
``tacebench.replications`` and ``tacebench.benchmarks``.
"""
from .ahead import Ahead, set_up_ahead
from .blas import blas_threads, set_blas_threads, single_threaded_blas
from .design import MAX_REPS, Cell, Chunk, Design, default_chunk_size, plan_chunks
from .lifetime import exit_with_parent
from .run import (BACKENDS, ChunkResult, RunOutcome, SchedulerUnreachable, TaskError, batches,
                  check_options, map_calls, run_design, scheduler_problem, workers_for)
from .seeds import name_key, spawn_key, stream_seed
from .version import code_version, release, source_fingerprint
from .warm import finish_start, start_workers
from .warning_log import describe as describe_warnings, record_warnings

__all__ = ["Ahead", "BACKENDS", "MAX_REPS", "Cell", "Chunk", "ChunkResult", "Design", "RunOutcome",
           "SchedulerUnreachable", "TaskError", "batches", "blas_threads", "check_options", "code_version",
           "default_chunk_size", "describe_warnings", "exit_with_parent", "finish_start", "map_calls", "name_key",
           "plan_chunks", "record_warnings", "release", "run_design", "scheduler_problem", "set_blas_threads",
           "set_up_ahead", "single_threaded_blas", "source_fingerprint", "spawn_key",
           "start_workers", "stream_seed", "workers_for"]
