"""Public entry points: compile a spec once, then generate cohorts fast.

>>> plan = compile_plan("tace_sorafenib_ehs")           # fitted + calibrated (PlanCache)
>>> cohort = generate_cohort(plan, seed=1)               # ~1 ms for 423 patients
>>> cohort.to_frame().head()
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tacebench.records import ArrayRecord

from .cache import PlanCache, default_plan_cache
from .associations import solve_effects
from .calibrate import censoring_of, column_types, fit_endpoint
from .calibration_cohort import CAL_PER_ARM, calibration_sample, draw_death_times
from .censoring_cal import CensoringDesign, solve_censoring
from .io import load_spec
from .outcomes import OutcomePlan, apply_missing, draw_outcomes
from .plan import CovariatePlan, add_derived, compile_covariates, draw_covariates, propagate_missing
from .progression import TTPTargets
from .response_cal import calibrate_missing, calibrate_response
from .spec import SpecError
from .spec_base import CohortSpecError
from .spec_outcome_checks import pfs_beyond_os_problems
from .streams import LockstepDraws
from .study import CohortSpec, StudySpec, spec_hash
from .therapy_draw import TherapyPlan, check_exposure, therapy


@dataclass(frozen=True)
class SimulationPlan:
    """A compiled, calibrated cohort generator (picklable; pass it to workers)."""

    study_id: str
    cohort_name: str
    spec_hash: str
    spec: CohortSpec
    covariates: CovariatePlan
    outcomes: OutcomePlan
    report: dict = field(default_factory=dict)

    @property
    def arm_labels(self) -> tuple[str, ...]:
        return self.covariates.arm_labels


@dataclass(frozen=True, eq=False)
class Cohort(ArrayRecord):
    """One synthetic cohort: one row per patient (see docs/design.md for the columns)."""

    columns: dict[str, np.ndarray]
    levels: dict[str, tuple[str, ...]]
    arm_labels: tuple[str, ...]
    study_id: str = ""
    cohort_name: str = ""

    @property
    def n(self) -> int:
        return len(self.columns["arm"])

    def to_frame(self):
        """Tidy pandas view: ``arm`` and categorical codes as their labels."""
        import pandas as pd

        data = {}
        for k, v in self.columns.items():
            if k == "arm":
                data[k] = pd.Categorical.from_codes(v, self.arm_labels)
            elif k in self.levels and self.levels[k] and v.dtype == np.int8:  # response codes, -1 = none
                data[k] = pd.Categorical.from_codes(v.astype(int), list(self.levels[k]))
            elif k in self.levels and self.levels[k] and _is_categorical(self.levels[k]):
                codes = np.where(np.isnan(v), -1, v).astype(int)
                data[k] = pd.Categorical.from_codes(codes, list(self.levels[k]))
            else:
                data[k] = v
        return pd.DataFrame(data)


def _is_categorical(levels: tuple[str, ...]) -> bool:
    return tuple(levels) != ("0", "1")


#: Marks "use the process-wide default" (:func:`~simulate.cache.default_plan_cache`).
DEFAULT_CACHE: Any = type("DefaultCache", (), {"__repr__": lambda self: "DEFAULT_CACHE"})()


def resolve_plan_cache(cache) -> PlanCache | None:
    """``cache`` as a :class:`PlanCache` or ``None``: :data:`DEFAULT_CACHE` is the current
    process-wide default, ``None`` disables caching."""
    if cache is DEFAULT_CACHE:
        return default_plan_cache()
    if cache is None or isinstance(cache, PlanCache):
        return cache
    raise TypeError(f"cache must be a PlanCache or None (None disables caching); got {cache!r}")


def compile_plan(spec: "StudySpec | str | Path", cohort: str | None = None, *,
                 cache: "PlanCache | None" = DEFAULT_CACHE) -> SimulationPlan:
    """Fit marginals, build the copula, solve assignment and calibrate outcomes.

    ``cache``: a :class:`~simulate.cache.PlanCache` (default: the process-wide
    :func:`~simulate.cache.default_plan_cache`, memory only unless ``TACEBENCH_CACHE_DIR``
    was set when simulate was imported); ``None`` compiles afresh and stores nothing. Plans
    are keyed by the cohort specification's hash and the simulate code fingerprint, and are
    deterministic: a cached plan is the plan a fresh compile gives with the same number of
    BLAS threads. (A multi-threaded OpenBLAS sums some products in another order, and the
    calibration carries that last-bit difference into the plan; tacebench's runs and its
    entry points, ``tacebench.compile_plan`` among them, compile with one thread.)
    """
    if isinstance(spec, SimulationPlan):
        return spec
    store = resolve_plan_cache(cache)
    study = load_spec(spec)
    c = study.cohort(cohort)
    h = spec_hash(c)
    try:
        if store is None:
            return _compile(study.id, c, h)
        return store.get_or_compile(h, lambda: _compile(study.id, c, h, store.parts))
    except SpecError as err:   # found by the fit: named with file and cohort, as at load time
        where = f"cohorts.{c.name}" if study.path is None else f"{study.path}: cohorts.{c.name}"
        raise CohortSpecError(err, where) from None


def _compile(study_id: str, c: CohortSpec, h: str, parts=None) -> SimulationPlan:
    cp = compile_covariates(c, parts)
    report: dict[str, Any] = {"covariates": cp.report, "calibration_sample_per_arm": CAL_PER_ARM}
    tv = None
    if c.time_varying is not None:
        t = c.time_varying
        tv = TherapyPlan(c.arm_labels.index(t.arm), t.start, t.duration, float(np.log(t.hr_per_month)),
                         0.0 if t.inclusion is None else t.inclusion.min_months)
    sample = calibration_sample(cp, c, tv)
    if tv is not None:
        accrual, follow_up, admin_max, _ = censoring_of(c)
        check_exposure(sample["tv"], c.time_varying.hr_per_month, min(accrual + follow_up, admin_max))
    spec_c = c
    if c.censoring is not None and c.censoring.outcome_free:
        # solved before the outcomes, so crude-HR targets and the association fit see it
        early, report["censoring"] = solve_censoring(c.censoring, sample, cp, {})
        c = replace(c, censoring=replace(c.censoring, follow_up=early.follow_up, loss_rate=early.loss_rate))
    os_plan = pfs_plan = None
    r_pd = 0.0
    if c.os is not None:
        if c.os.associations:  # the conditional effects that reproduce the paper's Cox table
            # (the OS fit of the solved effects is the solver's last one, not repeated)
            _effects, assoc, (os_plan, report["os"]) = solve_effects(c, cp, sample, column_types(cp, c))
        else:
            os_plan, report["os"] = fit_endpoint(c.os, "os", sample, cp, c, tv=sample["tv"])
        if c.os.associations:
            report["os"]["associations"] = assoc
        sample["t_d"] = draw_death_times(os_plan, sample, sample["tv"])
    if c.pfs is not None:
        r_pd = c.pfs.os_correlation
        ttp = None
        if c.ttp is not None and c.ttp.calibrate:  # the same progression time, fitted jointly
            ttp = TTPTargets.build(c.ttp.calibrate, sample, cp.arm_labels, r_pd)
        pfs_plan, report["pfs"] = fit_endpoint(c.pfs, "pfs", sample, cp, c, os_plan=os_plan, r_pd=r_pd,
                                               extra=ttp)
        if ttp is not None:
            report["ttp"] = ttp.report(pfs_plan.knots, pfs_plan.rates, _risk(pfs_plan, sample))
        beyond = pfs_beyond_os_problems(c)
        if beyond:
            report["pfs"]["notes"] = [f"{key}: {message}" for key, message in beyond]
    cen = c.censoring
    design = CensoringDesign(0.0, np.inf)
    if cen is not None:
        times = {"os": sample.get("t_d")}
        if cen.unknowns and pfs_plan is not None and any(
                getattr(t, "endpoint", "os") == "pfs" for t in (cen.events, cen.median_followup)):
            times["pfs"] = _pfs_times(pfs_plan, sample, r_pd)
        design, cen_report = solve_censoring(cen, sample, cp, times)
        if cen.unknowns:
            report["censoring"] = cen_report
    op = OutcomePlan(os_plan, pfs_plan, r_pd, accrual=design.accrual, follow_up=design.follow_up,
                     admin_max=design.admin_max, loss_rate=design.loss_rate, tv=tv, ttp=c.ttp is not None)
    if c.response is not None or c.response_columns:
        op, report["response"] = calibrate_response(op, c, cp, sample)
    if c.missing:
        op, report["missing"] = calibrate_missing(op, c, cp, sample)
    return SimulationPlan(study_id, c.name, h, spec_c, cp, op, report)


def _risk(ep, sample) -> np.ndarray:
    """``exp(eta)`` of each calibration-sample patient under endpoint plan ``ep``."""
    eta = ep.covariate_lp(sample["cols"], sample["n"], sample["treated"]) + ep.beta_treat * sample["treated"]
    return np.exp(eta if sample["u"] is None else eta + ep.beta_u * sample["u"])


def _pfs_times(pfs_plan, sample, r_pd):
    from scipy import special

    w_p = r_pd * sample["w_d"] + np.sqrt(1 - r_pd ** 2) * sample["w_p"]
    eta = (pfs_plan.covariate_lp(sample["cols"], sample["n"], sample["treated"])
           + pfs_plan.beta_treat * sample["treated"])
    if sample["u"] is not None:
        eta = eta + pfs_plan.beta_u * sample["u"]
    t_p = pfs_plan.event_times(-special.log_ndtr(-w_p), eta, sample["treated"])
    return np.minimum(t_p, sample["t_d"])


def _rng(seed, arg: str = "seed") -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError(f"{arg}: an explicit seed (int or SeedSequence) is required, got None")
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{arg}: must be >= 0, got {seed}")
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    raise ValueError(f"{arg}: must be an int, SeedSequence or Generator, got {seed!r}")


def generate_cohort(spec: "SimulationPlan | StudySpec | str | Path", cohort: str | None = None, *,
                    seed: "int | np.random.SeedSequence | np.random.Generator", with_ps: bool = True) -> Cohort:
    """One synthetic cohort of the paper's size with all outcomes.

    Parameters
    ----------
    spec : SimulationPlan, StudySpec, study id or path
        A compiled plan (fastest) or anything :func:`compile_plan` accepts.
    cohort : str, optional
        Cohort name (``None``: the only cohort, or ``"main"``).
    seed : int, SeedSequence or Generator
        All randomness flows from it (same seed, same cohort, bit for bit).
    with_ps : bool
        Compute the exact true propensity (the most expensive part); ``False`` fills NaN.
        A one-arm cohort has no propensity: its ``true_ps`` is NaN either way.
    """
    plan = compile_plan(spec, cohort)
    cols = cohort_columns(plan, _rng(seed), with_ps)
    return Cohort(cols, cohort_levels(plan), plan.covariates.arm_labels, plan.study_id, plan.cohort_name)


def cohort_columns(plan: SimulationPlan, rng: "np.random.Generator | LockstepDraws", with_ps: bool
                   ) -> dict[str, np.ndarray]:
    """The per-cohort kernel: every column of one cohort, or of R stacked replicates.

    With a :class:`~simulate.streams.LockstepDraws` every data column gets a leading
    replicate axis; ``arm`` and ``treated`` stay one row vector (the arm layout is the
    same in every replicate). The draws are made in one fixed order, which is what
    keeps replicate ``r`` of a stacked run identical to its one-cohort run.
    """
    cp, op = plan.covariates, plan.outcomes
    arm, x, ps, u = draw_covariates(cp, rng, with_ps=with_ps)
    n = len(arm)
    treated = (arm == cp.treated_arm).astype(np.int8)
    cols: dict[str, np.ndarray] = {"arm": arm.astype(np.int8), "treated": treated}
    order = [v.name for v in plan.spec.all_variables]
    internal = {nm: j for j, nm in enumerate(cp.names)}
    for nm in order:  # options of a multiselect keep their place; add_derived fills them
        cols[nm] = x[..., internal[nm]] if nm in internal else None
    add_derived(cp, cols, n)
    if u is not None:
        cols[cp.u_name] = u
    tv = therapy(op.tv, arm, rng)
    if op.os is not None:
        cols.update(draw_outcomes(op, cols, arm, treated, u, rng, tv))
    if op.missing:
        apply_missing(op, cols, rng, n)
        propagate_missing(cp, cols)
    cols["true_ps"] = ps
    return cols


def cohort_levels(plan: SimulationPlan) -> dict[str, tuple[str, ...]]:
    """Level labels of the categorical columns (``Cohort.levels``)."""
    levels = {k: v for k, v in plan.covariates.levels.items() if v}
    if plan.spec.response is not None:
        levels["response"] = plan.spec.response.levels
    for col in plan.spec.response_columns:
        levels[col.name] = col.levels
    return levels


def generate_cohorts(spec, n_cohorts: int, *, seed, cohort: str | None = None, with_ps: bool = True
                     ) -> list[Cohort]:
    """``n_cohorts`` independent cohorts from ``SeedSequence(seed).spawn(n_cohorts)``."""
    if isinstance(n_cohorts, bool) or not isinstance(n_cohorts, (int, np.integer)) or n_cohorts < 1:
        raise ValueError(f"n_cohorts: must be a positive integer, got {n_cohorts!r}")
    plan = compile_plan(spec, cohort)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(_seed_int(seed))
    return [generate_cohort(plan, seed=s, with_ps=with_ps) for s in ss.spawn(int(n_cohorts))]


def _seed_int(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: must be a non-negative int or SeedSequence, got {seed!r}")
    return int(seed)


__all__ = ["Cohort", "DEFAULT_CACHE", "SimulationPlan", "compile_plan", "generate_cohort", "generate_cohorts", "SpecError"]
