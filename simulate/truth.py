"""True causal estimands of a calibrated cohort model (overall or progression-free survival).

Potential-outcome survival curves ``S^a(t) = E_x[exp(-H(t | x, a))]`` are computed
exactly from each subject's conditional survival on a large fixed-seed covariate
sample (:data:`N_TRUTH` subjects): ATE over the whole population (the arm-size-weighted
mixture), ATT over the treated arm. From them:

- conditional HR: ``exp(beta_treat)`` of the PH model (given covariates). With
  arm-specific hazards (a treatment HR that changes over time) it is the conditional Cox
  estimand: the root ``beta`` of the partial-likelihood score of a Cox model with the
  true covariate effects as offset and one treatment coefficient, fitted to both
  potential outcomes of every subject followed to ``horizon``, i.e. the time-averaged
  conditional HR a correctly adjusted Cox model estimates in a huge cohort (it equals
  ``exp(beta_treat)`` under proportional hazards). An effect acting in one arm only (a
  treatment-by-covariate interaction) makes the treatment HR depend on the covariates:
  ``exp(beta_treat)`` is then the HR where those effects are 0 (their reference levels);
- marginal HR: the population Cox estimand (Struthers & Kalbfleisch 1986; Austin 2013),
  i.e. the root ``beta`` of the partial-likelihood score of a Cox model fitted to both
  potential outcomes of every subject, followed to ``horizon`` (``None``: no censoring;
  with a time-varying effect the estimand depends on it, as any Cox HR does):
  ``int_0^tau (1 - p_beta(t)) dF_1(t) = int_0^tau p_beta(t) dF_0(t)`` with
  ``p_beta = e^beta S^1 / (e^beta S^1 + S^0)``. With ``censoring``, every subject is
  followed as the cohort's own censoring follows it (administrative end, staggered
  accrual, loss: ``G(t) = P(C > t)`` of the plan, the same for everyone): the events are
  thinned by ``G``, ``int (1 - p_beta) G dF_1 = int p_beta G dF_0``, the HR a Cox model
  fitted to a huge censored cohort of the model converges to. Marginal hazards are not
  proportional (non-collapsibility), so it differs from the uncensored one;
- RMST difference to ``rmst_tau``, survival difference at ``landmark`` months and the
  difference of medians.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .cache import LRUCache
from .cohort import DEFAULT_CACHE, SimulationPlan, compile_plan
from .plan import _CAL_SEED, add_derived, draw_covariates
from .potential_curves import bivariate_normal_cdf, potential_curves  # noqa: F401  (re-exported)
from .survival import censoring_survival, cox_estimand, marginal_curve

N_TRUTH = 50_000
_GRID_STEP = 0.05
# PFS curves cost a bivariate normal CDF per subject and time: a coarser grid (the
# midpoint / trapezoid / interpolation errors stay O(step^2), < 1e-3 on the estimands)
_GRID_STEP_PFS = 0.25
#: Process-wide default cache of :func:`true_estimands` (bounded LRU of 128 results; pass
#: ``cache=`` to use another, ``cache=None`` to compute afresh; rebinding this name replaces
#: the default). Keys: the plan's spec hash (which covers simulate's source) and the
#: estimand arguments.
TRUTH_CACHE = LRUCache(max_size=128)
_MISSING = object()  # a cache look-up that found nothing


@dataclass(frozen=True)
class TrueEstimands:
    """True estimands of one endpoint (treated vs control) for ATE and ATT populations.

    For PFS, ``conditional_hr`` is the treatment HR of the progression model: PFS =
    min(progression, death) is not exactly proportional given covariates. With
    arm-specific hazards ``conditional_hr`` is the conditional Cox estimand over the
    follow-up (see the module docstring), the marginal HRs the marginal Cox estimands.
    """

    conditional_hr: float
    marginal_hr_ate: float
    marginal_hr_att: float
    rmst_difference_ate: float
    rmst_difference_att: float
    survival_difference_ate: float
    survival_difference_att: float
    median_difference_ate: float
    median_difference_att: float
    median_treated_ate: float
    median_control_ate: float
    rmst_tau: float
    landmark: float
    horizon: float | None
    n_subjects: int
    endpoint: str = "os"

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame([{"estimand": k, "value": v} for k, v in self.to_dict().items()])


def marginal_hr(grid: np.ndarray, s1: np.ndarray, s0: np.ndarray,
                weight: np.ndarray | None = None) -> float:
    """Population Cox estimand from two survival curves on ``grid`` (midpoint rule);
    ``weight``: the censoring survival on ``grid`` (None: no censoring)."""
    return cox_estimand(grid, s1, s0, weight=weight).hr


def follow_up_weight(plan: SimulationPlan, grid: np.ndarray, censoring: bool) -> np.ndarray | None:
    """``G(t) = P(C > t)`` of the plan's censoring on ``grid`` if ``censoring``, else None
    (every subject followed to the end of the grid)."""
    if not censoring:
        return None
    op = plan.outcomes
    return censoring_survival(grid, op.accrual, op.follow_up, op.admin_max, op.loss_rate)


def conditional_cox_hr(plan: SimulationPlan, n: int, grid: np.ndarray, endpoint: str = "os",
                       weight: np.ndarray | None = None) -> float:
    """Conditional Cox estimand of an endpoint model over ``grid`` (ATE population).

    Both potential outcomes of ``n`` subjects, the true covariate effects as offset:
    risk sets ``sum_i exp(eta_i) S_ia(t)``, events ``-d sum_i S_ia(t)``
    (:func:`~simulate.survival.cox_estimand`). Under proportional hazards this is
    ``exp(beta_treat)``; with arm-specific hazards, the information-weighted average of
    the time-varying conditional HR; ``weight``: the censoring survival on ``grid`` (None:
    no censoring).
    """
    cp = plan.covariates
    ep = plan.outcomes.os if endpoint == "os" else plan.outcomes.pfs
    rng = np.random.default_rng(_CAL_SEED + 7)
    arm, x, _, u = draw_covariates(cp, rng, np.maximum(np.round(cp.pi * n).astype(int), 1), with_ps=False)
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    s, r = {}, {}
    for a in (True, False):
        rates, _ = ep.arm_rates(a)
        # the covariate part of each potential outcome (an effect of one arm acts in it only)
        lp = ep.covariate_lp(cols, len(arm), a) + (ep.beta_u * u if u is not None else 0.0) + ep.beta_treat * a
        s[a] = marginal_curve(grid, ep.knots, rates, lp)
        # risk sets weighted by the covariate part alone (the treatment is the coefficient)
        r[a] = np.exp(-ep.beta_treat * a) * marginal_curve(grid, ep.knots, rates, lp, risk_weighted=True)
    return cox_estimand(grid, s[True], s[False], at_risk1=r[True], at_risk0=r[False],
                        weight=weight).hr


def _median(grid, s):
    below = np.flatnonzero(s <= 0.5)
    if not len(below):
        return np.inf
    j = below[0]
    return float(np.interp(0.5, [s[j], s[j - 1]], [grid[j], grid[j - 1]])) if j > 0 else float(grid[0])


def true_estimands(spec, cohort: str | None = None, *, horizon: float | None = None,
                   rmst_tau: float | None = None, landmark: float = 12.0, n_subjects: int = N_TRUTH,
                   endpoint: str = "os", censoring: bool = False,
                   cache: "LRUCache | None" = DEFAULT_CACHE,
                   plan_cache=DEFAULT_CACHE) -> TrueEstimands:
    """True OS (or PFS) estimands of a two-arm cohort model.

    Parameters
    ----------
    endpoint : {"os", "pfs"}
        PFS needs an ``outcomes.pfs`` model; its curves are exact (see
        :func:`~simulate.potential_curves.potential_curves`).
    horizon : float, optional
        Follow-up (months) of the marginal-HR estimand; ``None`` = until everyone dies.
    censoring : bool
        Follow every subject of the HR estimands (marginal, and the conditional Cox
        estimand with arm-specific hazards) as the cohort's censoring does (module
        docstring): the HR a Cox model of censored cohorts of the model targets. RMST,
        survival and median differences are functions of the potential-outcome curves
        alone and do not depend on it.
    rmst_tau : float, optional
        RMST horizon; default ``administrative_max`` if set, else 24 months.
    landmark : float
        Time of the survival difference (months).
    cache : LRUCache or None
        Where results are kept per spec and arguments (default: :data:`TRUTH_CACHE`);
        ``None`` computes afresh and stores nothing.
    plan_cache : PlanCache or None
        Passed to :func:`~simulate.cohort.compile_plan` when ``spec`` is not a plan.
    """
    return true_estimands_at(spec, [(rmst_tau, landmark)], cohort, horizon=horizon,
                             n_subjects=n_subjects, endpoint=endpoint, censoring=censoring,
                             cache=cache, plan_cache=plan_cache)[0]


def true_estimands_at(spec, horizons, cohort: str | None = None, *, horizon: float | None = None,
                      n_subjects: int = N_TRUTH, endpoint: str = "os", censoring: bool = False,
                      cache: "LRUCache | None" = DEFAULT_CACHE, plan_cache=DEFAULT_CACHE
                      ) -> tuple[TrueEstimands, ...]:
    """:func:`true_estimands` at several ``(rmst_tau, landmark)`` pairs, the OS curves
    computed once.

    Each pair's estimands come from the curves on that pair's own grid (the one
    :func:`true_estimands` integrates over, which holds ``rmst_tau`` and ``landmark``),
    so they are its numbers exactly; the OS curves are computed once on the union of the
    pairs' grids and read at each grid's points (a curve's value at a time does not
    depend on the other times of the grid). A benchmark scenario's risk and RMST
    differences at 6, 12 and 24 months then cost one pair of curves, not five.

    Parameters
    ----------
    spec, cohort, horizon, n_subjects, endpoint, censoring, cache, plan_cache
        As :func:`true_estimands`.
    horizons : sequence of (rmst_tau, landmark)
        ``rmst_tau`` may be ``None`` (the default of :func:`true_estimands`).

    Returns
    -------
    tuple of TrueEstimands
        One per pair, equal to ``true_estimands(spec, rmst_tau=..., landmark=...)``; each
        is kept in ``cache`` under the key that call would use.
    """
    return true_estimands_followed(spec, horizons, cohort, (censoring,), horizon=horizon,
                                   n_subjects=n_subjects, endpoint=endpoint, cache=cache,
                                   plan_cache=plan_cache)[censoring]


def true_estimands_followed(spec, horizons, cohort: str | None = None,
                            censorings=(True, False), *, horizon: float | None = None,
                            n_subjects: int = N_TRUTH, endpoint: str = "os",
                            cache: "LRUCache | None" = DEFAULT_CACHE, plan_cache=DEFAULT_CACHE
                            ) -> dict[bool, tuple[TrueEstimands, ...]]:
    """:func:`true_estimands_at` under each of ``censorings`` (the HRs under the cohort's
    censoring and without it) from one set of curves: ``{censoring: estimands}``, each
    equal to ``true_estimands_at(..., censoring=censoring)`` and cached under its key."""
    plan = compile_plan(spec, cohort, cache=plan_cache)
    cp = plan.covariates
    if cp.treated_arm < 0 or plan.outcomes.os is None:
        raise ValueError(f"spec: true estimands need two arms and an OS model ({plan.study_id}/{plan.cohort_name})")
    if endpoint not in ("os", "pfs"):
        raise ValueError(f"endpoint: must be 'os' or 'pfs', got {endpoint!r}")
    if endpoint == "pfs" and plan.outcomes.pfs is None:
        raise ValueError(f"endpoint: 'pfs' needs an outcomes.pfs model, {plan.study_id}/{plan.cohort_name} has none")
    default_tau = plan.outcomes.admin_max if np.isfinite(plan.outcomes.admin_max) else 24.0
    pairs = [(default_tau if tau is None else tau, landmark) for tau, landmark in horizons]
    if cache is DEFAULT_CACHE:
        cache = TRUTH_CACHE
    if cache is not None and not isinstance(cache, LRUCache):
        raise TypeError(f"cache must be an LRUCache or None; got {cache!r}")
    censorings = tuple(dict.fromkeys(bool(c) for c in censorings))
    keys = {c: [(plan.spec_hash, horizon, tau, landmark, n_subjects, endpoint)
                + (("censoring",) if c else ()) for tau, landmark in pairs] for c in censorings}
    held = {c: [cache.get(k, _MISSING) if cache is not None else _MISSING for k in keys[c]]
            for c in censorings}
    missing = list(dict.fromkeys(p for c in censorings for p, v in zip(pairs, held[c])
                                 if v is _MISSING))
    computed = _true_estimands_many(plan, horizon, missing, n_subjects, endpoint, censorings)
    out = {}
    for c in censorings:
        values = []
        for key, pair, value in zip(keys[c], pairs, held[c]):
            if value is _MISSING:
                value = computed[c][missing.index(pair)]
                if cache is not None:
                    cache.put(key, value)
            values.append(value)
        out[c] = tuple(values)
    return out


def _grid(end: float, rmst_tau: float, landmark: float, endpoint: str) -> np.ndarray:
    """The time grid of one ``(rmst_tau, landmark)``: fine to 60 months, then every half
    month to the last time needed, with ``rmst_tau`` and ``landmark`` themselves."""
    top = max(end, rmst_tau, landmark)
    step = _GRID_STEP if endpoint == "os" else _GRID_STEP_PFS
    fine = np.arange(0.0, min(top, 60.0) + step / 2, step)
    return np.unique(np.concatenate([fine, np.arange(fine[-1], top + 0.5, 0.5), [rmst_tau, landmark]]))


def _true_estimands_many(plan: SimulationPlan, horizon, pairs, n_subjects, endpoint,
                         censorings=(False,)) -> dict[bool, list[TrueEstimands]]:
    """Each pair's estimands under each of ``censorings``, from one set of curves."""
    end = horizon if horizon is not None else 600.0
    grids = [_grid(end, tau, landmark, endpoint) for tau, landmark in pairs]
    out: dict[bool, list] = {c: [] for c in censorings}
    if not pairs:
        return out
    if endpoint != "os" or len(pairs) < 2:
        # PFS curves stop at the first time their bound is below 1e-12, a point of the
        # grid they run on: each pair keeps its own
        for (tau, landmark), grid in zip(pairs, grids):
            curves = {pop: potential_curves(plan, pop, n_subjects, grid, endpoint) for pop in ("ate", "att")}
            for c in censorings:
                out[c].append(_true_estimands(plan, horizon, tau, landmark, n_subjects, endpoint,
                                              grid, curves, c))
        return out
    union = np.unique(np.concatenate(grids))
    curves = {pop: potential_curves(plan, pop, n_subjects, union, endpoint) for pop in ("ate", "att")}
    for (tau, landmark), grid in zip(pairs, grids):
        at = np.searchsorted(union, grid)  # every point of the grid is a point of the union
        on_grid = {pop: (s1[at], s0[at]) for pop, (s1, s0) in curves.items()}
        for c in censorings:
            out[c].append(_true_estimands(plan, horizon, tau, landmark, n_subjects, endpoint,
                                          grid, on_grid, c))
    return out


def _true_estimands(plan: SimulationPlan, horizon, rmst_tau, landmark, n_subjects, endpoint,
                    grid: np.ndarray, curves: dict | None = None, censoring: bool = False
                    ) -> TrueEstimands:
    """The estimands of one pair from its ``grid`` and, when given, its ``curves``
    (population -> (treated, control) on ``grid``; default: computed here); the HRs
    under the plan's censoring if ``censoring``."""
    end = horizon if horizon is not None else 600.0
    weight = follow_up_weight(plan, grid[grid <= end], censoring)
    res = {}
    for pop in ("ate", "att"):
        s1, s0 = curves[pop] if curves is not None else potential_curves(plan, pop, n_subjects, grid, endpoint)
        g = grid <= end
        res[pop] = {"hr": marginal_hr(grid[g], s1[g], s0[g], weight),
                    "rmst": float(np.trapezoid((s1 - s0)[grid <= rmst_tau], grid[grid <= rmst_tau])),
                    "surv": float(np.interp(landmark, grid, s1) - np.interp(landmark, grid, s0)),
                    "m1": _median(grid, s1), "m0": _median(grid, s0)}
    ep = plan.outcomes.os if endpoint == "os" else plan.outcomes.pfs
    cond = float(np.exp(ep.beta_treat)) if ep.treat_log_hr is None else \
        conditional_cox_hr(plan, n_subjects, grid[grid <= end], endpoint, weight)
    out = TrueEstimands(cond, res["ate"]["hr"], res["att"]["hr"],
                        res["ate"]["rmst"], res["att"]["rmst"], res["ate"]["surv"], res["att"]["surv"],
                        res["ate"]["m1"] - res["ate"]["m0"], res["att"]["m1"] - res["att"]["m0"],
                        res["ate"]["m1"], res["ate"]["m0"], float(rmst_tau), float(landmark), horizon, n_subjects,
                        endpoint)
    return out
