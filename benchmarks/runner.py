"""Run a study: chunks of replicates in parallel (joblib, incl. Dask), resumable, reproducible.

Reproducibility: replicate ``r`` of scenario ``s`` draws its data from
``SeedSequence(seed, spawn_key=(crc32(scenario name), r, 0))`` and a method that needs
randomness (matching order, bootstrap) from ``spawn_key=(crc32(scenario), r, 1,
crc32(method name))``. No stream depends on which worker, chunk or order a replicate runs
in, so results are bit-identical for any ``n_jobs``, backend or chunk size; and adding a
scenario or a method leaves the others' numbers unchanged.

Speed: work is sent as chunks of replicates of one scenario, so joblib's per-task cost and
the one-off worker start-up (about 0.6 s) are amortised; each worker prepares a scenario's
generator once (:func:`benchmarks.dgm.prepared`) and reuses it; a chunk's rows are
collected as plain Python lists and become arrays once per chunk (no pandas per replicate).
"""
from __future__ import annotations

import contextlib
import math
import time
import traceback
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .dgm import prepared
from .methods import MethodOutput, get_fit, validate_method
from .store import RunDirectory, write_frame
from .study import Study

_FIXED = ("estimate", "se", "ci_lower", "ci_upper")


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def replicate_seed(seed: int, scenario: str, rep: int) -> np.random.SeedSequence:
    """The seed of one replicate's data (see the module docstring)."""
    return np.random.SeedSequence(seed, spawn_key=(_crc(scenario), rep, 0))


def method_seed(seed: int, scenario: str, rep: int, method: str) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(_crc(scenario), rep, 1, _crc(method)))


def _call(fit, data, config, rng) -> tuple[MethodOutput | None, str, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fit(data, config, rng)
        except Exception as exc:  # a failing estimator is data, never the end of a study
            return None, f"{type(exc).__name__}: {exc}"[:500], ""
    warn = "; ".join(sorted({f"{w.category.__name__}: {w.message}" for w in caught}))[:500]
    return out, "", warn


def run_chunk(study: Study, scenario_index: int, start: int, stop: int) -> dict[str, np.ndarray]:
    """Replicates ``[start, stop)`` of one scenario: one row per (replicate, method)."""
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
    extras: dict[str, list] = {}
    row = 0
    for rep in range(start, stop):
        try:
            data = dgm.generate(np.random.default_rng(replicate_seed(study.seed, scenario.name, rep)))
            dgm_error = ""
        except Exception as exc:
            data, dgm_error = None, f"data generation failed: {type(exc).__name__}: {exc}"[:500]
        for k, m, fit, config, uses_rng in methods:
            if data is None:
                out, err, warn = None, dgm_error, ""
            else:
                rng = (np.random.default_rng(method_seed(study.seed, scenario.name, rep, m.name))
                       if uses_rng else None)
                out, err, warn = _call(fit, data, config, rng)
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
                    extras.setdefault(f"x_{key}", [math.nan] * row).append(float(v))
            for c, v in zip(_FIXED, vals):
                cols[c].append(v)
            cols["converged"].append(conv)
            cols["error"].append(err)
            cols["warning"].append(warn)
            row += 1
            for lst in extras.values():
                if len(lst) < row:
                    lst.append(math.nan)
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
        result[c] = np.asarray(extras[c], dtype=np.float64)
    return result


def scenario_truths(study: Study, scenario_index: int) -> list[dict]:
    """True value of every estimand that a scenario's methods target."""
    scenario = study.scenarios[scenario_index]
    dgm = prepared(study.fingerprint, scenario)
    wanted = sorted({m.estimand for m in study.methods if m.name in scenario.methods})
    rows = []
    for name in wanted:
        est = study.estimand(name)
        # The truth does not depend on the run's seed: same scenario, same truth.
        seed = np.random.SeedSequence(_crc("truth"), spawn_key=(_crc(scenario.name), _crc(name)))
        rows.append({"scenario_index": scenario_index, "scenario": scenario.name,
                     "estimand": name, "truth": float(dgm.truth(est, seed))})
    return rows


def plan_chunks(study: Study, reps: int, done: dict[int, np.ndarray],
                chunk_size: int) -> list[tuple[int, int, int]]:
    """Contiguous ranges of missing replicates, at most ``chunk_size`` long, round-robin
    over scenarios so that every scenario progresses evenly."""
    per_scenario = []
    for s in study.scenarios:
        mask = np.zeros(reps, dtype=bool)
        have = done.get(s.index)
        if have is not None:
            m = min(reps, have.size)
            mask[:m] = have[:m]
        ranges = []
        r = 0
        while r < reps:
            if mask[r]:
                r += 1
                continue
            stop = r
            while stop < reps and not mask[stop] and stop - r < chunk_size:
                stop += 1
            ranges.append((s.index, r, stop))
            r = stop
        per_scenario.append(ranges)
    out = []
    for i in range(max((len(p) for p in per_scenario), default=0)):
        out.extend(p[i] for p in per_scenario if i < len(p))
    return out


@dataclass(frozen=True)
class RunReport:
    """What a call to :func:`run_study` did."""

    out: str
    reps: int
    scenarios: int
    replicates_total: int
    replicates_run: int
    replicates_skipped: int
    elapsed: float
    failures: int

    @property
    def rate(self) -> float:
        """Replicates (of one scenario, all its methods) per second in this call."""
        return self.replicates_run / self.elapsed if self.elapsed > 0 else math.nan


@contextlib.contextmanager
def _backend(backend: str | None, scheduler: str | None, n_jobs: int):
    if backend != "dask":
        yield backend
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("backend='dask' needs dask[distributed]; install tacebench[dask]") from None
    if scheduler:
        client = Client(scheduler)
    else:
        n = n_jobs if n_jobs > 0 else None
        client = Client(LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None))
    try:
        from joblib import parallel_config
        with parallel_config(backend="dask"):  # registers joblib's Dask backend
            yield None
    finally:
        client.close()


def run_study(study: Study, out, *, reps: int | None = None, n_jobs: int = 1,
              backend: str | None = None, scheduler: str | None = None,
              chunk_size: int | None = None, resume: bool = False, progress: bool = True,
              fmt: str | None = None) -> RunReport:
    """Run (or resume) a study into the directory ``out``; see :mod:`benchmarks.store`.

    Parameters
    ----------
    reps : replicates per scenario (default ``study.reps``); a resumed run may raise it.
    n_jobs, backend : as :class:`joblib.Parallel` (``backend="dask"`` connects to
        ``scheduler``, an address such as ``tcp://host:8786``, or starts a local cluster).
    chunk_size : replicates per task (default: the study's, else about four tasks per worker
        and scenario, between 5 and 200).
    resume : continue a run in ``out``; without it ``out`` must hold no results.
    """
    from joblib import delayed
    from tqdm.auto import tqdm

    reps = study.reps if reps is None else reps
    if not isinstance(reps, int) or reps < 1:
        raise ValueError(f"reps must be a positive integer; got {reps!r}")
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer; got {n_jobs!r}")
    if backend is not None and not isinstance(backend, str):
        raise ValueError(f"backend must be a joblib backend name; got {backend!r}")
    if scheduler and backend != "dask":
        raise ValueError(f"scheduler needs backend='dask'; got backend={backend!r}")
    run = RunDirectory(out, fmt)
    manifest = run.read_manifest()
    if manifest is not None and not resume:
        raise ValueError(f"out={str(out)!r} already holds a run; pass resume=True (--resume) "
                         "to continue it or choose another directory")
    if manifest is not None:
        for key, mine in (("fingerprint", study.fingerprint), ("seed", study.seed)):
            if manifest[key] != mine:
                raise ValueError(f"cannot resume {out}: its {key} is {manifest[key]!r} but the "
                                 f"study's is {mine!r}")
        run = RunDirectory(out, manifest["format"])
        run.remove_temporaries()
    else:
        run.write_json("study.json", study.raw)
        run.write_json("manifest.json", {
            "study": study.name, "fingerprint": study.fingerprint, "seed": study.seed,
            "format": run.fmt, "tacebench": _version(), "numpy": np.__version__})
    workers = n_jobs if n_jobs > 0 else max(1, _cpu_count() + 1 + n_jobs)
    if chunk_size is None:
        chunk_size = study.chunk_size or int(np.clip(math.ceil(reps / (4 * workers)), 5, 200))
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}")
    done = run.done()
    tasks = plan_chunks(study, reps, done, chunk_size)
    total = reps * len(study.scenarios)
    todo = sum(stop - start for _, start, stop in tasks)
    failures = 0
    t0 = time.perf_counter()
    with _backend(backend, scheduler, n_jobs) as be:
        parallel = _streaming(n_jobs, be, workers)
        truth_path = run.path / "truth.csv"
        if not truth_path.exists():
            rows = [r for rs in parallel([delayed(scenario_truths)(study, s.index)
                                          for s in study.scenarios]) for r in rs]
            write_frame(pd.DataFrame(rows).sort_values(["scenario_index", "estimand"]), truth_path)
        if tasks:
            bar = tqdm(total=total, initial=total - todo, unit="rep", disable=not progress,
                       desc=study.name, smoothing=0.1)
            results = parallel([delayed(_task)(study, s, a, b) for s, a, b in tasks])
            for s, a, b, columns in results:
                run.write_chunk(s, a, b, columns)
                failures += int((~columns["converged"]).sum())
                bar.update(b - a)
            bar.close()
    elapsed = time.perf_counter() - t0
    return RunReport(out=str(run.path), reps=reps, scenarios=len(study.scenarios),
                     replicates_total=total, replicates_run=todo,
                     replicates_skipped=total - todo, elapsed=elapsed, failures=failures)


def _streaming(n_jobs: int, backend: str | None, workers: int):
    """A function mapping a list of delayed calls to an iterator of results as they finish.

    Backends without generator support (``multiprocessing``) run the calls in batches of a
    few per worker, so results still reach the disk as the run goes."""
    from joblib import Parallel

    try:
        parallel = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator_unordered")
        return parallel
    except ValueError as exc:
        if "return_as" not in str(exc):
            raise
    parallel = Parallel(n_jobs=n_jobs, backend=backend)
    step = 2 * workers

    def batched(calls):
        for i in range(0, len(calls), step):
            yield from parallel(calls[i:i + step])
    return batched


def _task(study: Study, s: int, start: int, stop: int):
    from tacebench.estimators.batch import tune_allocator

    tune_allocator()  # in the worker process (idempotent)
    try:
        return s, start, stop, run_chunk(study, s, start, stop)
    except Exception as exc:  # a bug outside any one estimator: report where, then stop
        raise RuntimeError(f"scenario {study.scenarios[s].name!r} replicates [{start}, {stop}): "
                           f"{traceback.format_exc()}") from exc


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("tacebench")
    except PackageNotFoundError:
        return "0+unknown"


def _cpu_count() -> int:
    from joblib import cpu_count
    return cpu_count()


def load_results(out, reps: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(results, truths)`` of a run directory, results sorted and trimmed to ``reps``."""
    run = RunDirectory(out, (RunDirectory(out).read_manifest() or {}).get("format"))
    if run.read_manifest() is None:
        raise ValueError(f"out={str(out)!r} is not a study run directory (no manifest.json)")
    results = run.read_results(reps)
    truths = pd.read_csv(run.path / "truth.csv", keep_default_na=False,
                         dtype={"scenario": str, "estimand": str}, float_precision="round_trip")
    return results, truths
