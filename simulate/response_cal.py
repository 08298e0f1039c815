"""Calibration of best response (thresholds, survival link, missing assessments) and of
covariate missingness, on the fixed calibration sample of :mod:`simulate.calibrate`."""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy import optimize, special

from .calibrate import cox_binary_hr
from .outcomes import OutcomePlan
from .plan import _CAL_SEED, CovariatePlan
from .spec import SpecError
from .study import CohortSpec

_R_MAX = 0.995


def _arm_missing(c: CohortSpec) -> list[float]:
    """Per-arm probability that best response is not assessed."""
    r = c.response
    out = []
    implied = 0
    for a in c.arms:
        s = r.arms[a.label]
        if s.counts is not None and sum(s.counts) < a.n:
            implied += a.n - sum(s.counts)
            out.append((a.n - sum(s.counts)) / a.n)
        else:
            out.append(None)
    if r.missing is not None:
        if implied and implied != r.missing:
            raise SpecError("response.missing", f"{r.missing} disagrees with the {implied} unassessed patients "
                            "implied by the per-arm counts")
        if not implied:
            out = [r.missing / c.n] * len(out)
    elif r.missing_rate is not None:
        out = [r.missing_rate if q is None else q for q in out]
    return [0.0 if q is None else q for q in out]


def _weighted_cuts(lat: np.ndarray, w: np.ndarray, probs_best_first: np.ndarray) -> np.ndarray:
    """Thresholds on ``lat`` (worst -> best) giving the level proportions among weight ``w``."""
    order = np.argsort(lat)
    cw = np.cumsum(w[order])
    cw /= cw[-1]
    cum = np.cumsum(probs_best_first[::-1])[:-1]
    cuts = np.interp(cum, cw, lat[order])
    cuts = np.where(cum >= 1 - 1e-12, np.inf, cuts)
    return np.where(cum <= 1e-12, -np.inf, cuts)


def calibrate_response(op: OutcomePlan, c: CohortSpec, cp: CovariatePlan, sample: dict
                       ) -> tuple[OutcomePlan, dict]:
    r = c.response
    rng = np.random.default_rng(_CAL_SEED + 3)
    n, arm = sample["n"], sample["arm"]
    entry = rng.random(n) * op.accrual
    cen = np.minimum(op.accrual + op.follow_up - entry, op.admin_max)
    if op.loss_rate > 0:
        cen = np.minimum(cen, rng.exponential(1.0 / op.loss_rate, n))
    t_d = sample["t_d"]
    os_time, os_event = np.minimum(t_d, cen), (t_d <= cen)
    early = os_time < r.assessment_time
    q = _arm_missing(c)
    miss = []
    miss_p = np.empty(n)
    for a in range(len(c.arms)):
        m = arm == a
        f = float(early[m].mean())
        if r.missing_mechanism == "early_death" and f > 0:
            qe, ql = min(1.0, q[a] / f), max(0.0, (q[a] - f) / (1 - f)) if f < 1 else 0.0
        else:
            qe = ql = q[a]
        miss.append((qe, ql))
        miss_p[m] = np.where(early[m], qe, ql)
    w = 1.0 - miss_p
    probs = [np.asarray(r.arms[a.label].level_probs()) for a in c.arms]
    k = len(r.levels)

    def cuts_for(rho):
        lat = rho * sample["w_d"] + np.sqrt(1 - rho ** 2) * sample["w_r"]
        return lat, tuple(_weighted_cuts(lat[arm == a], w[arm == a], probs[a]) for a in range(len(c.arms)))

    def hr_pd(rho):
        lat, cuts = cuts_for(rho)
        code = np.empty(n, int)
        for a in range(len(c.arms)):
            m = arm == a
            code[m] = (k - 1) - np.searchsorted(cuts[a], lat[m])
        keep = w > 0
        return cox_binary_hr(os_time[keep], os_event[keep], (code[keep] == k - 1).astype(float))

    rep: dict = {"missing_probability": q, "mechanism": r.missing_mechanism}
    rho = r.os_correlation
    if r.os_hr_pd is not None:
        target = r.os_hr_pd
        lo_hr, hi_hr = hr_pd(0.0), hr_pd(_R_MAX)
        if target <= lo_hr:
            rho = 0.0
        elif target >= hi_hr:
            rho = _R_MAX
            rep["note"] = f"HR(PD vs non-PD) cannot exceed {hi_hr:.3g} in this model; target {target}"
        else:
            rho = optimize.brentq(lambda x: hr_pd(x) - target, 0.0, _R_MAX, xtol=1e-6)
        rep["os_hr_pd"] = {"target": target, "fitted": hr_pd(rho)}
    _, cuts = cuts_for(rho)
    rep["os_correlation"] = rho
    op = dataclasses.replace(op, resp_cuts=cuts, r_resp=float(rho), resp_miss=tuple(miss),
                             assessment_time=r.assessment_time)
    return op, rep


def calibrate_missing(op: OutcomePlan, c: CohortSpec, cp: CovariatePlan, sample: dict
                      ) -> tuple[OutcomePlan, dict]:
    rules, rep = [], {}
    cols = sample["cols"]
    if c.unmeasured is not None and sample["u"] is not None:
        cols = {**cols, c.unmeasured.name: sample["u"]}
    for m in c.missing:
        if m.mechanism == "MCAR" or m.rate == 0:
            rules.append((m.variable, float(special.logit(max(m.rate, 1e-300))), 0.0, None, 0.0, 1.0))
            rep[m.variable] = {"rate": m.rate, "mechanism": "MCAR"}
            continue
        dep = np.asarray(cols[m.depends_on], float)
        ctr, scl = float(np.mean(dep)), float(np.std(dep)) or 1.0
        zdep = (dep - ctr) / scl
        slope = float(np.log(m.odds_ratio))
        icpt = optimize.brentq(lambda a: special.expit(a + slope * zdep).mean() - m.rate, -50, 50, xtol=1e-12)
        rules.append((m.variable, float(icpt), slope, m.depends_on, ctr, scl))
        rep[m.variable] = {"rate": m.rate, "mechanism": "MAR", "depends_on": m.depends_on,
                           "odds_ratio_per_sd": m.odds_ratio}
    return dataclasses.replace(op, missing=tuple(rules)), rep
