"""True causal estimands of a calibrated cohort model (overall survival).

Potential-outcome survival curves ``S^a(t) = E_x[exp(-H(t | x, a))]`` are computed
exactly from each subject's conditional survival on a large fixed-seed covariate
sample (:data:`N_TRUTH` subjects): ATE over the whole population (the arm-size-weighted
mixture), ATT over the treated arm. From them:

- conditional HR: ``exp(beta_treat)`` of the PH model (given covariates);
- marginal HR: the population Cox estimand (Struthers & Kalbfleisch 1986; Austin 2013),
  i.e. the root ``beta`` of the partial-likelihood score of a Cox model fitted to both
  potential outcomes of every subject, followed to ``horizon`` (``None``: no censoring):
  ``int_0^tau (1 - p_beta(t)) dF_1(t) = int_0^tau p_beta(t) dF_0(t)`` with
  ``p_beta = e^beta S^1 / (e^beta S^1 + S^0)``;
- RMST difference to ``rmst_tau``, survival difference at ``landmark`` months and the
  difference of medians.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize

from .cohort import SimulationPlan, compile_plan
from .outcomes import therapy
from .plan import _CAL_SEED, add_derived, draw_covariates
from .survival import baseline_cumhaz, tv_cumhaz

N_TRUTH = 50_000
_GRID_STEP = 0.05
_CACHE: dict = {}


@dataclass(frozen=True)
class TrueEstimands:
    """True OS estimands (treated vs control) for ATE and ATT populations."""

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

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame([{"estimand": k, "value": v} for k, v in self.to_dict().items()])


def _curves(plan: SimulationPlan, population: str, n: int, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cp, op = plan.covariates, plan.outcomes
    rng = np.random.default_rng(_CAL_SEED + 7)
    if population == "ate":
        counts = np.maximum(np.round(cp.pi * n).astype(int), 1)
    else:
        counts = np.zeros(len(cp.arm_n), int)
        counts[cp.treated_arm] = n
    arm, x, _, u = draw_covariates(cp, rng, counts, with_ps=False)
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    ep = op.os
    base = ep.covariate_lp(cols, len(arm)) + (ep.beta_u * u if u is not None else 0.0)
    h0 = baseline_cumhaz(grid, ep.knots, ep.rates, ep.cum)
    out = []
    for a in (cp.treated_arm, 1 - cp.treated_arm):
        risk = np.exp(base + ep.beta_treat * (a == cp.treated_arm))
        tv = therapy(op.tv, np.full(len(arm), a), rng) if op.tv is not None and op.tv[3] != 0.0 else None
        s = np.empty(len(grid))
        for j in range(len(grid)):
            if tv is not None and tv[0].any():
                h = tv_cumhaz(grid[j], ep.knots, ep.rates, tv[1], tv[2], tv[3])
            else:
                h = h0[j]
            s[j] = np.mean(np.exp(-h * risk))
        out.append(s)
    return out[0], out[1]


def marginal_hr(grid: np.ndarray, s1: np.ndarray, s0: np.ndarray) -> float:
    """Population Cox estimand from two survival curves on ``grid`` (midpoint rule)."""
    f1, f0 = -np.diff(s1), -np.diff(s0)
    m1, m0 = (s1[1:] + s1[:-1]) / 2, (s0[1:] + s0[:-1]) / 2

    def score(beta):
        p = np.exp(beta) * m1 / (np.exp(beta) * m1 + m0)
        return np.sum((1 - p) * f1) - np.sum(p * f0)

    return float(np.exp(optimize.brentq(score, -10, 10, xtol=1e-12)))


def _median(grid, s):
    below = np.flatnonzero(s <= 0.5)
    if not len(below):
        return np.inf
    j = below[0]
    return float(np.interp(0.5, [s[j], s[j - 1]], [grid[j], grid[j - 1]])) if j > 0 else float(grid[0])


def true_estimands(spec, cohort: str | None = None, *, horizon: float | None = None,
                   rmst_tau: float | None = None, landmark: float = 12.0, n_subjects: int = N_TRUTH
                   ) -> TrueEstimands:
    """True OS estimands of a two-arm cohort model (cached per spec and arguments).

    Parameters
    ----------
    horizon : float, optional
        Follow-up (months) of the marginal-HR estimand; ``None`` = until everyone dies.
    rmst_tau : float, optional
        RMST horizon; default ``administrative_max`` if set, else 24 months.
    landmark : float
        Time of the survival difference (months).
    """
    plan = compile_plan(spec, cohort)
    cp = plan.covariates
    if cp.treated_arm < 0 or plan.outcomes.os is None:
        raise ValueError(f"spec: true estimands need two arms and an OS model ({plan.study_id}/{plan.cohort_name})")
    if rmst_tau is None:
        rmst_tau = plan.outcomes.admin_max if np.isfinite(plan.outcomes.admin_max) else 24.0
    key = (plan.spec_hash, horizon, rmst_tau, landmark, n_subjects)
    if key in _CACHE:
        return _CACHE[key]
    end = horizon if horizon is not None else 600.0
    top = max(end, rmst_tau, landmark)
    fine = np.arange(0.0, min(top, 60.0) + _GRID_STEP / 2, _GRID_STEP)
    grid = np.unique(np.concatenate([fine, np.arange(fine[-1], top + 0.5, 0.5), [rmst_tau, landmark]]))
    res = {}
    for pop in ("ate", "att"):
        s1, s0 = _curves(plan, pop, n_subjects, grid)
        g = grid <= end
        res[pop] = {"hr": marginal_hr(grid[g], s1[g], s0[g]),
                    "rmst": float(np.trapezoid((s1 - s0)[grid <= rmst_tau], grid[grid <= rmst_tau])),
                    "surv": float(np.interp(landmark, grid, s1) - np.interp(landmark, grid, s0)),
                    "m1": _median(grid, s1), "m0": _median(grid, s0)}
    out = TrueEstimands(float(np.exp(plan.outcomes.os.beta_treat)), res["ate"]["hr"], res["att"]["hr"],
                        res["ate"]["rmst"], res["att"]["rmst"], res["ate"]["surv"], res["att"]["surv"],
                        res["ate"]["m1"] - res["ate"]["m0"], res["att"]["m1"] - res["att"]["m0"],
                        res["ate"]["m1"], res["ate"]["m0"], float(rmst_tau), float(landmark), horizon, n_subjects)
    _CACHE[key] = out
    return out
