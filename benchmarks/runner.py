"""Run a study: scenarios x replicates through the Monte Carlo engine, resumable, reproducible.

The study is a :class:`tacebench.engine.Design` with one cell per scenario. Reproducibility
(the engine's seed scheme): replicate ``r`` of scenario ``s`` draws its data from
``stream_seed(seed, s.name, r, 0)`` (``SeedSequence(seed, spawn_key=(crc32(scenario name), r,
0))``) and a method that needs randomness (matching order, bootstrap) from
``stream_seed(seed, s.name, r, 1, method name)``. No stream depends on which worker, chunk or
order a replicate runs in, so results are bit-identical for any ``n_jobs``, backend or chunk
size; and adding a scenario or a method leaves the others' numbers unchanged.

Resume: the run directory records the code version (:func:`tacebench.engine.code_version`,
and the study's own modules' :func:`benchmarks.run_state.user_code`); a run computed by
other code, or whose manifest is missing or damaged, is never continued: ``force=True``
moves its results to ``OUT/superseded/<version>/`` and starts again, so the two are kept
apart. Every file of the folder is checked before any work (:mod:`benchmarks.run_state`).

Speed: work is sent as chunks of replicates of one scenario, so joblib's per-task cost and
the one-off worker start-up (about 0.6 s) are amortised; each worker prepares a scenario's
generator once (:func:`benchmarks.dgm.prepared`) and reuses it; a chunk's rows are
collected as plain Python lists and become arrays once per chunk (no pandas per replicate).
"""
from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tacebench.engine import (Cell, Chunk, ChunkResult, Design, check_options, code_version,
                              default_chunk_size, map_calls, release, run_design,
                              single_threaded_blas, stream_seed, workers_for)
from tacebench.engine.files import folder_lock
from tacebench.estimators.batch import WorkerAllocator
from tacebench.simulate.cache import PlanCache, default_plan_cache, set_default_plan_cache

from .batch_chunk import fit_chunk, generate_chunk
from .dgm import check_scenarios, prepared
from .faults import DEFAULT_RETRIES, retry_lost_workers
from .fit_call import call_fit
from .methods import get_fit, validate_method
from .sessions import RunTotals, finish_session, start_session, totals
from .run_state import (RunNotice, RunRefused, braced, check_run, read_manifest, read_truths,
                        repair, user_code)
from .store import RunDirectory, write_frame
from .study import Study
from .truths import TruthFailed, scenario_truths

_FIXED = ("estimate", "se", "ci_lower", "ci_upper")


def replicate_seed(seed: int, scenario: str, rep: int) -> np.random.SeedSequence:
    """The seed of one replicate's data (see the module docstring)."""
    return stream_seed(seed, scenario, rep, 0)


def method_seed(seed: int, scenario: str, rep: int, method: str) -> np.random.SeedSequence:
    return stream_seed(seed, scenario, rep, 1, method)


def run_chunk(study: Study, scenario_index: int, start: int, stop: int,
              batch_size: int | None = None) -> dict[str, np.ndarray]:
    """Replicates ``[start, stop)`` of one scenario: one row per (replicate, method).

    The replicates are generated first (as one stack where the generator can,
    :func:`benchmarks.batch_chunk.generate_chunk`), then each method fits them in batches of
    ``batch_size`` (None: the whole chunk) where its family can
    (:func:`benchmarks.batch_chunk.fit_chunk`); the rows and numbers do not depend on it."""
    scenario = study.scenarios[scenario_index]
    dgm = prepared(study.fingerprint, scenario)
    methods = []
    for k, m in enumerate(study.methods):
        if m.name in scenario.methods:
            module_fit = get_fit(m.family)
            config = validate_method(m.family, m.config, where=m.name)
            uses_rng = getattr(module_fit, "uses_rng", False)
            methods.append((k, m, module_fit, config, uses_rng))
    cols: dict[str, list] = {c: [] for c in ("rep", "method_index", "method", "estimand",
                                             *_FIXED, "converged", "error", "warning")}
    # extra columns filled by row position (NaN where a method reports no such value)
    extras: dict[str, np.ndarray] = {}
    n_rows = (stop - start) * len(methods)
    row = 0
    datas, dgm_errors = generate_chunk(
        dgm, {rep: replicate_seed(study.seed, scenario.name, rep) for rep in range(start, stop)})

    def call_one(rep: int, j: int):
        _, m, fit, config, uses_rng = methods[j]
        rng = (np.random.default_rng(method_seed(study.seed, scenario.name, rep, m.name))
               if uses_rng else None)
        return call_fit(fit, datas[rep], config, rng)

    fitted = fit_chunk(methods, datas, batch_size, call_one)
    for rep in range(start, stop):
        for j, (k, m, fit, config, uses_rng) in enumerate(methods):
            if rep in dgm_errors:
                out, err, warn = None, dgm_errors[rep], ""
            else:
                out, err, warn = fitted[(rep, j)]
                if out is not None and out.converged and (bad := unusable(out)):
                    # a NaN or infinite estimate or a SE that is not a positive number,
                    # reported as converged, is a failure with its reason (a non-converged
                    # one, e.g. a monotone likelihood's +-inf, says so itself)
                    out, err = None, f"ValueError: {bad}"
            cols["rep"].append(rep)
            cols["method_index"].append(k)
            cols["method"].append(m.name)
            cols["estimand"].append(m.estimand)
            if out is None:
                vals = (math.nan,) * 4
                conv = False
            else:
                ci = out.ci if out.ci is not None else (math.nan, math.nan)
                vals = (float(out.estimate), float(out.se), float(ci[0]), float(ci[1]))
                conv = bool(out.converged)
                for key, v in out.extra.items():
                    column = extras.get(f"x_{key}")
                    if column is None:
                        column = extras[f"x_{key}"] = np.full(n_rows, math.nan)
                    column[row] = float(v)
            for c, v in zip(_FIXED, vals):
                cols[c].append(v)
            cols["converged"].append(conv)
            cols["error"].append(err)
            cols["warning"].append(warn)
            row += 1
    n = len(cols["rep"])
    result: dict[str, np.ndarray] = {
        "scenario_index": np.full(n, scenario_index, dtype=np.int32),
        "scenario": np.array([scenario.name] * n, dtype=object),
        "rep": np.asarray(cols.pop("rep"), dtype=np.int64),
        "method_index": np.asarray(cols.pop("method_index"), dtype=np.int32),
    }
    for c in ("method", "estimand", "error", "warning"):
        result[c] = np.array(cols.pop(c), dtype=object)
    for c in _FIXED:
        result[c] = np.asarray(cols.pop(c), dtype=np.float64)
    result["converged"] = np.asarray(cols.pop("converged"), dtype=bool)
    for c in sorted(extras):
        result[c] = extras[c]
    return result


def unusable(out) -> str:
    """Why a converged method output cannot be scored ('' if it can): a non-finite
    estimate, or a SE that is not a finite positive number (the coverage and rejection of
    a NaN or negative SE were silently dropped or computed as if it were valid)."""
    estimate, se = float(out.estimate), float(out.se)
    if not math.isfinite(estimate):
        return f"non-finite estimate {estimate!r}"
    if not (math.isfinite(se) and se > 0):
        return f"non-finite or non-positive SE {se!r}"
    return ""


@dataclass(frozen=True)
class RunReport:
    """What a call to :func:`run_study` did; ``failures`` and ``whole_run`` cover the whole
    run, every session (resume) included."""

    out: str
    reps: int
    scenarios: int
    replicates_total: int
    replicates_run: int
    replicates_skipped: int
    elapsed: float
    failures: int
    whole_run: RunTotals

    @property
    def rate(self) -> float:
        """Replicates (of one scenario, all its methods) per second in this call."""
        return self.replicates_run / self.elapsed if self.elapsed > 0 else math.nan


@dataclass(frozen=True)
class _StudyTask:
    """The engine's task: one chunk of a scenario, all its methods (picklable)."""

    study: Study

    def __call__(self, cell: Cell, chunk: Chunk, batch_size: int | None) -> ChunkResult:
        # Failures are counted from the run directory at the end (resumed parts included),
        # so the chunk carries only its columns.
        return ChunkResult(chunk, run_chunk(self.study, cell.index, chunk.start, chunk.stop,
                                            batch_size))


@dataclass(frozen=True)
class _WorkerSetup:
    """A worker's initializer: allocator tuning, and, in a worker *process* (which the engine
    ends if the run's process dies: :func:`tacebench.engine.lifetime.watch_caller`), the run
    directory's plan folder as that process's plan cache, so each scenario's cohort plan is
    compiled once per run (by the first worker that needs it) rather than once per worker
    (about 1 s each). The run's ``upkeep`` gives freed heap memory back after each chunk
    (:class:`tacebench.estimators.batch.WorkerAllocator`), so the pool does not replace a
    worker as leaking. Threads of the calling process (``threading``, an in-process Dask
    cluster) already share its in-memory cache, whose settings are left alone."""

    plan_dir: Path
    caller_pid: int

    def __call__(self) -> None:
        WorkerAllocator(self.caller_pid).setup()
        if os.getpid() == self.caller_pid:
            return
        if default_plan_cache().disk_dir != self.plan_dir:
            set_default_plan_cache(PlanCache(disk_dir=self.plan_dir))


def _design(study: Study, reps: int) -> Design:
    return Design.of({s.name: (s.name,) for s in study.scenarios}, reps, study.seed)


@single_threaded_blas()  # plans compiled in this process as in the workers (engine.blas)
def run_study(study: Study, out, *, reps: int | None = None, n_jobs: int = 1,
              backend: str | None = None, scheduler: str | None = None,
              chunk_size: int | None = None, resume: bool = False, progress: bool = True,
              fmt: str | None = None, force: bool = False,
              retries: int = DEFAULT_RETRIES) -> RunReport:
    """Run (or resume) a study into the directory ``out``; see :mod:`benchmarks.store`.

    Parameters
    ----------
    reps : replicates per scenario (default ``study.reps``); a resumed run may raise it.
    n_jobs, backend : as :func:`tacebench.engine.run_design` (``backend="dask"`` connects to
        ``scheduler``, an address such as ``tcp://host:8786``, or starts a local cluster).
    chunk_size : replicates per task (default: the study's, else about four tasks per worker
        and scenario, between 5 and 200).
    resume : continue a run in ``out``; without it ``out`` must hold no results.
    force : a run computed by other code (tacebench's or the study's own modules), or
        results without a readable manifest, are moved to ``out/superseded/<version>/``
        and the study starts again (never mixed).
    retries : times the run goes on after losing worker processes (:mod:`benchmarks.faults`).

    Returns
    -------
    RunReport
        ``failures`` counts the failed fits of the whole run on disk, resumed parts included;
        ``whole_run`` adds up every session's replicates and time (``OUT/sessions.json``).

    Raises
    ------
    benchmarks.run_state.RunRefused
        ``out`` holds results this call may not continue (the message says how to go on).
    benchmarks.store.WriteFailed
        A chunk could not be written (disk full): the run stops, what is written is whole.
    benchmarks.faults.WorkersLost
        Worker processes kept dying after ``retries`` retries.
    """
    reps = study.reps if reps is None else reps
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 2:
        # (every performance measure needs two replicates)
        raise ValueError(f"reps must be an integer >= 2; got {reps!r}")
    # every argument checked before the run directory is written: a bad one leaves nothing
    check_options(n_jobs, backend, scheduler)
    for name, flag in (("resume", resume), ("force", force), ("progress", progress)):
        if not isinstance(flag, (bool, np.bool_)):  # (resume="no" resumed)
            raise ValueError(f"{name}: must be True or False; got {flag!r}")
    if Path(out).exists() and not Path(out).is_dir():
        raise ValueError(f"out={str(out)!r} is a file; a run writes a folder there")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        raise ValueError(f"chunk_size: must be a positive integer; got {chunk_size!r}")
    run = RunDirectory(out, fmt)  # (checks fmt)
    check_scenarios(study)  # what each generator needs, before anything is written
    with folder_lock(out):  # one run at a time writes OUT (tacebench.engine.files)
        return _run(study, run, reps, n_jobs, backend, scheduler, chunk_size, resume, progress,
                    force, retries, fmt)


def _run(study: Study, run: RunDirectory, reps: int, n_jobs: int, backend: str | None,
         scheduler: str | None, chunk_size: int | None, resume: bool, progress: bool,
         force: bool, retries: int, fmt: str | None) -> RunReport:
    """:func:`run_study` once its arguments are checked and ``run``'s lock is held."""
    from tqdm.auto import tqdm

    out = run.path
    version = code_version()
    manifest = check_run(run, study, version=version, resume=resume, force=force, fmt=fmt)
    if manifest is not None:
        run = RunDirectory(out, manifest["format"])
        for reason in repair(run, study):  # before any work: derived files made good
            warnings.warn(reason, RunNotice, stacklevel=2)
    else:
        run.write_json("study.json", study.raw)
        run.write_json("manifest.json", {
            "study": study.name, "fingerprint": study.fingerprint, "seed": study.seed,
            "format": run.fmt, "tacebench": release(), "code_version": version,
            "user_code": user_code(study), "numpy": np.__version__})
    workers = workers_for(n_jobs)
    if chunk_size is None:
        chunk_size = study.chunk_size or default_chunk_size(reps, workers)
    design = _design(study, reps)
    done = run.done()
    total = reps * len(study.scenarios)
    before = sum(int(m[:reps].sum()) for m in done.values())
    setup = _WorkerSetup(run.path / "plans", os.getpid())
    truth_path = run.path / "truth.csv"
    if not truth_path.exists():
        try:
            rows = [r for rs in map_calls([(scenario_truths, (study, s.index))
                                           for s in study.scenarios],
                                          n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                                          initializer=setup)
                    for r in rs]
        except TruthFailed as exc:  # (the run folder is written: say how to go on)
            raise RunRefused(f"{braced(exc)}. No replicate was run; fix the generator and "
                             f"rerun with {{resume}} into {braced(out)}") from exc
        write_frame(pd.DataFrame(rows).sort_values(["scenario_index", "estimand"]), truth_path)
    bar = tqdm(total=total, initial=before, unit="rep", disable=not progress or before == total,
               desc=study.name, smoothing=0.1)
    sessions = start_session(run, code_version=version, seed=study.seed, reps=reps,
                             backend=backend or ("inline" if n_jobs == 1 else "loky"),
                             n_jobs=n_jobs, scheduler=scheduler, chunk_size=chunk_size)
    ran, failed, t0 = [0], [0], time.perf_counter()

    def sink(res: ChunkResult) -> None:
        run.write_chunk(res.chunk.cell, res.chunk.start, res.chunk.stop, res.payload)
        ran[0] += len(res.chunk)
        failed[0] += int((~res.payload["converged"]).sum())

    def attempt():  # plans from what is on disk, so a retry never repeats a chunk
        return run_design(design, _StudyTask(study), n_jobs=n_jobs, backend=backend,
                          scheduler=scheduler, chunk_size=chunk_size, done=run.done(),
                          progress=bar.update, initializer=setup,
                          upkeep=WorkerAllocator(os.getpid()).upkeep, sink=sink,
                          keep_payloads=False)
    try:
        retry_lost_workers(attempt, retries)
    except BaseException as exc:  # recorded, then raised: a stopped session is on record
        with contextlib.suppress(OSError):  # a full disk may refuse the record too
            finish_session(run, sessions, replicates_run=ran[0],
                           elapsed=time.perf_counter() - t0, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        bar.close()
    elapsed = time.perf_counter() - t0
    finish_session(run, sessions, replicates_run=ran[0], elapsed=elapsed)
    # a fresh run's failures are its chunks' (counted as written); a resumed run's include
    # the chunks of earlier sessions, read back from disk
    failures = failed[0] if before == 0 else sum(
        int((~f["converged"]).sum()) for f in run.iter_results(columns=["converged"], reps=reps))
    return RunReport(out=str(run.path), reps=reps, scenarios=len(study.scenarios),
                     replicates_total=total, replicates_run=ran[0],
                     replicates_skipped=total - ran[0], elapsed=elapsed, failures=failures,
                     whole_run=totals(sessions))


def load_results(out, reps: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(results, truths)`` of a run directory, results sorted and trimmed to ``reps``.

    Raises
    ------
    ValueError
        ``out`` is no run directory, or one of its files is missing or damaged (named)."""
    manifest = read_manifest(RunDirectory(out))
    if manifest is None:
        raise ValueError(f"{out} is not a study run directory (no manifest.json)")
    run = RunDirectory(out, manifest["format"])
    results = run.read_results(reps)
    if not (run.path / "truth.csv").exists():
        raise ValueError(f"{run.path / 'truth.csv'} is missing; resuming the run (study run "
                         "--resume) computes it again")
    try:
        truths = read_truths(run.path / "truth.csv")
    except ValueError as exc:
        raise ValueError(f"{exc}; resuming the run (study run --resume) computes it again"
                         ) from None
    return results, truths
