"""What every lesson shares: the replicate loop, summaries and claims (worlds:
:mod:`.worlds`).

A lesson is a small Monte Carlo study told as a story. Each *world* is a published cohort
(``tacebench/studies/<id>/cohort.toml``, read as data) edited by the scenario factors of
:mod:`benchmarks.cohort_factors` and, where a world needs more, by an ``edit`` of its TOML
table (simulate's spec format). ``n_reps`` cohorts are drawn per world from
``SeedSequence(seed).spawn(n_reps)`` (the same children in every world: common random
numbers), every estimator is fitted on every cohort, and the lesson's claims are stated
on the averages with their Monte Carlo standard errors and judged as :mod:`.claims` says,
so that each is a property of the world, not of a lucky seed.
"""
from __future__ import annotations

import math
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tacebench.simulate.cache import LRUCache

from tacebench.engine import Cell, Chunk, ChunkResult, Design, run_design
from tacebench.engine.files import atomic_write
from tacebench.records import ArrayRecord
from tacebench.simulate import generate_cohort

from ..measures import wald_interval
# (re-exported: the lessons and their tests reach the claims through this module)
from .claims import (CLAIM_LEVEL, CLAIM_Z, MIN_COHORTS, Claim, exact_claim, mean_claim,
                     share_claim, smaller_bias_claim)

#: Default seed of every lesson (the committed figures and reports use it).
DEFAULT_SEED = 20250
#: Most cohorts per world a lesson accepts: the full lessons run 200-400 in seconds; at
#: 100,000 the slowest lesson runs for over an hour and its MCSEs are 16 times smaller.
MAX_COHORTS = 100_000


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Estimate:
    """One estimator in one world, summarised over the replicate cohorts.

    ``mean_log`` is the mean of the replicate log-HRs, ``hr = exp(mean_log)``, ``mcse`` its
    Monte Carlo SE; ``emp_sd`` the empirical SD of the log-HR (the true sampling spread),
    ``mean_se`` the mean model SE (what a single study reports), ``coverage`` the share of
    95% Wald intervals that contain the truth, ``n_analysed`` the mean number of patients
    the estimator used.
    """

    world: str
    method: str
    label: str
    estimand: str
    truth: float
    hr: float
    mean_log: float
    mcse: float
    emp_sd: float
    mean_se: float
    coverage: float
    n_analysed: float
    n_reps: int
    n_failed: int = 0

    @property
    def bias(self) -> float:
        """Mean log-HR minus the log of the truth (0 = unbiased; > 0 = towards HR 1 when
        the truth is below 1)."""
        return self.mean_log - math.log(self.truth)


@dataclass(frozen=True, eq=False)
class LessonResult(ArrayRecord):
    """Everything a lesson computed: truths, estimates, claims, tables and files written."""

    lesson: str
    title: str
    study: str
    seed: int
    n_reps: int
    truths: Mapping[str, Mapping[str, float]]
    estimates: tuple[Estimate, ...]
    claims: tuple[Claim, ...]
    numbers: Mapping[str, float]
    worlds: Mapping[str, str]
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    figures: Mapping[str, Path] = field(default_factory=dict)
    report: Path | None = None
    seconds: float = 0.0

    def estimate(self, world: str, method: str) -> Estimate:
        for e in self.estimates:
            if e.world == world and e.method == method:
                return e
        raise KeyError(f"no estimate for world={world!r}, method={method!r}; have "
                       f"{sorted({(e.world, e.method) for e in self.estimates})}")

    def claim(self, key: str) -> Claim:
        for c in self.claims:
            if c.key == key:
                return c
        raise KeyError(f"no claim {key!r}; have {[c.key for c in self.claims]}")

    @property
    def all_hold(self) -> bool:
        return all(c.holds for c in self.claims)

    @property
    def contradicted(self) -> list[str]:
        """Keys of the claims that the numbers contradict (should be empty)."""
        return [c.key for c in self.claims if c.status == "contradicted"]

    def to_frame(self) -> pd.DataFrame:
        """One row per (world, estimator): truth, mean HR, bias, SDs, coverage."""
        rows = [{**asdict(e), "bias": e.bias} for e in self.estimates]
        return pd.DataFrame(rows)

    def claims_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**asdict(c), "status": c.status} for c in self.claims])

    def to_dict(self) -> dict:
        return {"lesson": self.lesson, "study": self.study, "seed": self.seed,
                "n_reps": self.n_reps, "truths": {k: dict(v) for k, v in self.truths.items()},
                "estimates": [asdict(e) for e in self.estimates],
                "claims": [{**asdict(c), "status": c.status} for c in self.claims],
                "numbers": dict(self.numbers),
                "figures": {k: str(v) for k, v in self.figures.items()},
                "report": None if self.report is None else str(self.report)}


#: Results of the lessons' ``compute(seed, n_reps)`` (keyed by lesson, seed and replicate
#: count; at most 8, each a few MB): a lesson run and its ``--update-docs`` rerun share one
#: Monte Carlo. ``compute(..., cache=None)`` recomputes; pass another :class:`LRUCache` to
#: keep results elsewhere.
RUNS_CACHE = LRUCache(max_size=8)

_DEFAULT: Any = object()  # "the module-level default", looked up at call time


def memo(cache, key, compute: Callable[[], Any]) -> Any:
    """``compute()`` through ``cache`` (:data:`RUNS_CACHE` by default; ``None``: no cache)."""
    store = RUNS_CACHE if cache is _DEFAULT else cache
    if store is None:
        return compute()
    if not isinstance(store, LRUCache):
        raise TypeError(f"cache must be an LRUCache or None; got {store!r}")
    return store.get_or_compute(key, compute)


#: Variable types that are one analysable column each (not e.g. a multiselect pattern,
#: whose options are already columns of their own).
COLUMN_TYPES = ("continuous", "binary", "categorical", "count")


def measured_covariates(spec, cohort: str) -> list[str]:
    """The cohort's measured baseline variables that enter an analysis as one column."""
    return [v.name for v in spec.cohort(cohort).variables if v.type in COLUMN_TYPES]


def arm_names(cohort) -> tuple[str, str]:
    """``(control label, treated label)`` of a generated two-arm cohort."""
    arm, z = cohort.columns["arm"], cohort.columns["treated"]
    treated = cohort.arm_labels[int(arm[z == 1][0])]
    control = cohort.arm_labels[int(arm[z == 0][0])]
    return control, treated


def check_seed(seed) -> int:
    """``seed`` as an ``int``: a non-negative integer (not a bool, float or string)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return int(seed)


def check_reps(n_reps) -> int:
    """``n_reps`` as an ``int``: an integer from 2 to :data:`MAX_COHORTS` (a bool, float or
    string is refused, not rounded)."""
    if isinstance(n_reps, bool) or not isinstance(n_reps, (int, np.integer)) or n_reps < 2:
        raise ValueError(f"n_reps must be an integer >= 2; got {n_reps!r}")
    if n_reps > MAX_COHORTS:
        raise ValueError(f"n_reps must be at most {MAX_COHORTS:,} cohorts per world; got "
                         f"{n_reps:,}")
    return int(n_reps)


def check_out(out) -> Path:
    """``out`` as a Path: a folder named by a non-empty string or path (``""`` would be the
    current folder, written into without a word)."""
    if not isinstance(out, (str, Path)) or not str(out).strip():
        raise ValueError(f"out must name a folder; got {out!r}")
    return Path(out)


def cohort_design(seed: int, n_reps: int) -> Design:
    """The lesson's cohorts as an engine design: cohort ``r`` from ``stream_seed(seed, r)``
    (``SeedSequence(seed).spawn(n_reps)[r]``), the same cohorts in every world (common random
    numbers)."""
    return Design((Cell(0, "cohorts", (), check_reps(n_reps)),), check_seed(seed))


def first_cohort_seed(design: Design) -> np.random.SeedSequence:
    """The seed of the design's first cohort (the one the figures show), without building
    the seeds of all the others (``Design.seeds`` would, for every replicate)."""
    return design.cells[0].seed(design.seed, 0)


@dataclass(frozen=True)
class _CohortTask:
    """The engine's task of a lesson: generate each cohort, fit ``fit_one`` on it."""

    plan: Any
    fit_one: Callable[..., dict[str, float]]
    with_rng: bool
    seed: int

    def __call__(self, cell: Cell, chunk: Chunk, batch_size: int | None) -> ChunkResult:
        rows = []
        for r in chunk.reps:
            rng = np.random.default_rng(cell.seed(self.seed, r))
            cols = generate_cohort(self.plan, seed=rng, with_ps=False).columns
            rows.append({"rep": r, **(self.fit_one(cols, rng) if self.with_rng
                                       else self.fit_one(cols))})
        return ChunkResult(chunk, rows)


def replicate(plan, design: Design, fit_one: Callable[..., dict[str, float]], *,
              with_rng: bool = False) -> pd.DataFrame:
    """Fit ``fit_one(columns)`` on each cohort of ``design``; one row per replicate.

    With ``with_rng`` the estimator also gets the cohort's generator, continued after the
    cohort was drawn (``fit_one(columns, rng)``), for randomised steps such as the choice
    among tied matches. Runs inline through the engine (``fit_one`` is often a closure).
    """
    task = _CohortTask(plan, fit_one, with_rng, design.seed)
    out = run_design(design, task, chunk_size=design.cells[0].reps)
    return pd.DataFrame([row for rows in out.payloads() for row in rows])


def guarded(fn: Callable[[], Any], name: str) -> dict[str, float]:
    """``fn()`` -> ``MethodOutput`` as ``{name: estimate, name_se: se, name_<k>: extra[k]}``;
    NaN when the fit is impossible on this cohort (e.g. a separated PS model), which
    :func:`summarise` counts as a failure."""
    try:
        out = fn()
    except ValueError:
        return {name: math.nan, f"{name}_se": math.nan}
    return {name: out.estimate, f"{name}_se": out.se,
            **{f"{name}_{k}": float(v) for k, v in out.extra.items()}}


def covers(est: np.ndarray, se: np.ndarray, truth: float) -> np.ndarray:
    """Whether each nominal 95% Wald interval covers ``truth`` (the measures' own interval)."""
    lo, hi = wald_interval(est, se, 0.95)
    return (lo <= truth) & (truth <= hi)


def summarise(df: pd.DataFrame, world: str, method: str, label: str, estimand: str,
              truth: float) -> Estimate:
    """Estimate row from the replicate columns ``<method>`` (log HR), ``<method>_se`` and,
    if present, ``<method>_n`` (patients analysed)."""
    est = df[method].to_numpy(float)
    se = df[f"{method}_se"].to_numpy(float)
    ok = np.isfinite(est) & np.isfinite(se)
    est, se = est[ok], se[ok]
    n_ok = int(ok.sum())
    if n_ok < 2:
        raise ValueError(f"{world}/{method}: fewer than 2 usable replicates")
    lt = math.log(truth)
    n_col = f"{method}_n"
    n_an = float(df.loc[ok, n_col].mean()) if n_col in df else math.nan
    sd = float(est.std(ddof=1))
    return Estimate(world, method, label, estimand, float(truth), float(math.exp(est.mean())),
                    float(est.mean()), sd / math.sqrt(n_ok), sd, float(se.mean()),
                    float(np.mean(covers(est, se, lt))), n_an, n_ok,
                    int(len(df) - n_ok))


def bias_values(df: pd.DataFrame, method: str, truth: float) -> np.ndarray:
    return df[method].to_numpy(float) - math.log(truth)


# ----------------------------------------------------------------------------- data


def published_target(study: str, target_id: str) -> dict:
    """A reported number of a seed paper (``targets.toml`` read as data, with its quote)."""
    from tacebench.simulate.io import find_study

    path = find_study(study.partition("@")[0]).parent / "targets.toml"
    with open(path, "rb") as fh:
        targets = tomllib.load(fh).get("targets", [])
    for t in targets:
        if t.get("id") == target_id:
            return t
    raise ValueError(f"target_id {target_id!r} is not in {path}")


def finish(res: LessonResult, out: Path, started: float,
           render: Callable[[LessonResult], str]) -> LessonResult:
    """Stamp the run time, write the Markdown report ``OUT/<lesson>-report.md``."""
    from dataclasses import replace

    path = Path(out) / f"{res.lesson}-report.md"
    res = replace(res, report=path, seconds=time.perf_counter() - started)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render(res)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return res


def resolve_reps(n_reps: int | None, fast: bool, full: int, quick: int) -> int:
    """Cohorts per world: ``n_reps`` if given (checked by :func:`check_reps`), else the
    lesson's fast or full setting."""
    if n_reps is None:
        return quick if fast else full
    return check_reps(n_reps)
