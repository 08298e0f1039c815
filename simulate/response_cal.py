"""Calibration of the response columns (thresholds, survival link, missing assessments,
carried progression) and of covariate missingness, on the fixed calibration sample of
:mod:`simulate.calibrate`.

One model serves every response column: a latent normal score cut at per-arm
thresholds fitted so the assessed patients' level shares are the published ones
(:func:`~simulate.response_cuts.assessment_cuts`: the latent's exact quantiles where the
model gives its law in closed form, else the calibration sample's weighted quantiles). The overall best response's latent is correlated with the
death time's normal score (``os_hr_pd`` calibrates that correlation); a further
column's latent is correlated with its parent's; a later assessment holds the patients
who progressed at the earlier one at its last level and fits its thresholds on the rest.
With ``response.effects`` the overall latent adds a covariate linear predictor
(:func:`~simulate.outcomes.response_latent`); its thresholds are fitted to the same
published shares with the predictor in, so each arm's marginal distribution is unchanged.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy import special

from .survival import cox_binary_hr
from .calibration_cohort import cohort_weights
from .effect_terms import check_spans, compile_effects
from .outcomes import AssessmentPlan, OutcomePlan, assessment_codes, response_latent
from .response_cuts import NormalLatent, assessment_cuts
from .plan import _CAL_SEED, CovariatePlan
from .spec import SpecError
from .spec_outcomes import Assessment
from .study import CohortSpec

_R_MAX = 0.995


def _arm_missing(c: CohortSpec, r: Assessment, key: str) -> list[float]:
    """Per-arm probability that the assessment ``r`` (at ``key``) is not made."""
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
            raise SpecError(f"{key}.missing", f"{r.missing} disagrees with the {implied} unassessed patients "
                            "implied by the per-arm counts")
        if not implied:
            out = [r.missing / c.n] * len(out)
    elif r.missing_rate is not None:
        out = [r.missing_rate if q is None else q for q in out]
    return [0.0 if q is None else q for q in out]


def weighted_mean_sd(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """The ``w``-weighted mean and SD of ``x`` (population SD; 1 when ``x`` is constant)."""
    mean = float(np.average(x, weights=w))
    return mean, float(np.sqrt(np.average((x - mean) ** 2, weights=w))) or 1.0


def _missingness(c: CohortSpec, r: Assessment, key: str, arm: np.ndarray, os_time: np.ndarray
                 ) -> tuple[tuple, np.ndarray]:
    """Per-arm ``(q_early, q_late)`` and each sampled patient's probability of no assessment.

    ``early_death``: patients whose OS ends before the assessment lack it first.
    """
    early = os_time < r.assessment_time
    q = _arm_missing(c, r, key)
    miss, miss_p = [], np.empty(len(arm))
    for a in range(len(c.arms)):
        m = arm == a
        f = float(early[m].mean())
        if r.missing_mechanism == "early_death" and f > 0:
            qe, ql = min(1.0, q[a] / f), max(0.0, (q[a] - f) / (1 - f)) if f < 1 else 0.0
        else:
            qe = ql = q[a]
        miss.append((qe, ql))
        miss_p[m] = np.where(early[m], qe, ql)
    return tuple(miss), miss_p


def calibrate_response(op: OutcomePlan, c: CohortSpec, cp: CovariatePlan, sample: dict
                       ) -> tuple[OutcomePlan, dict]:
    """Every response column: ``response`` (with its survival link), then ``response_columns``."""
    rng = np.random.default_rng(_CAL_SEED + 3)
    n, arm = sample["n"], sample["arm"]
    entry = rng.random(n) * op.accrual
    cen = np.minimum(op.accrual + op.follow_up - entry, op.admin_max)
    if op.loss_rate > 0:
        cen = np.minimum(cen, rng.exponential(1.0 / op.loss_rate, n))
    t_d = sample["t_d"]
    os_time, os_event = np.minimum(t_d, cen), (t_d <= cen)
    plans, report = [], {}
    latent, codes = {"os": sample["w_d"]}, {}
    by_name: dict[str, AssessmentPlan] = {}
    r = c.response
    if r is not None:
        plan, report["response"], lat = _overall(c, r, cp, sample, os_time, os_event)
        plans.append(plan)
        by_name["response"] = plan
        latent["response"] = plan.child_latent(lat)
        codes["response"] = assessment_codes(plan, lat, arm)
    noise = np.random.default_rng(_CAL_SEED + 4)
    for col in c.response_columns:
        key = f"response_columns.{col.name}"
        src = col.source_column
        lat = col.correlation * latent[src] + np.sqrt(1 - col.correlation ** 2) * noise.standard_normal(n)
        miss, miss_p = _missingness(c, col, key, arm, os_time)
        carried = None if col.follows is None else codes[src] == len(col.levels) - 1
        probs = [np.asarray(col.arms[a.label].level_probs()) for a in c.arms]
        plan = AssessmentPlan(col.name, src, col.correlation, col.follows is not None,
                              assessment_cuts(lat, 1.0 - miss_p, arm, probs, carried,
                                              _column_law(col, by_name, carried is not None)),
                              miss, col.assessment_time)
        plans.append(plan)
        by_name[col.name] = plan
        latent[col.name], codes[col.name] = lat, assessment_codes(plan, lat, arm, codes.get(src))
        report[col.name] = {"missing_probability": [q for q, _ in miss], "parent": src,
                            "follows": col.follows is not None, "correlation": col.correlation}
        if carried is not None:
            held = [float(carried[arm == a].mean()) for a in range(len(c.arms))]
            report[col.name]["carried_last_level"] = held
    op = dataclasses.replace(op, responses=tuple(plans))
    report["depends_on_covariates"] = op.response_dependence
    return op, report


def _normal(name: str, by_name: dict[str, AssessmentPlan]) -> bool:
    """Whether the latent that column ``name`` passes on is standard normal in every arm:
    the death time's normal score, or a column without effects built on such a latent."""
    while name != "os":
        ap = by_name[name]
        if ap.effects:
            return False
        name = ap.parent
    return True


def _column_law(col, by_name: dict[str, AssessmentPlan], follows: bool) -> NormalLatent | None:
    """The exact law of a further column's latent (:class:`~simulate.response_cuts.NormalLatent`),
    or ``None`` when it has none in closed form: a parent latent that is not standard
    normal, or a later assessment of a column that itself carries an earlier one's last
    level (its last level is then no longer one side of its own threshold)."""
    src = col.source_column
    if not _normal(src, by_name):
        return None
    if not follows:
        return NormalLatent()
    parent = by_name[src]
    if parent.follows:
        return None
    return NormalLatent(col.correlation, tuple(float(cuts[0]) for cuts in parent.cuts))


def _response_lp(c: CohortSpec, r, cp: CovariatePlan, sample: dict) -> tuple[tuple, np.ndarray | None]:
    """The compiled ``response.effects`` and their linear predictor on the calibration sample."""
    if not r.effects:
        return (), None
    types = {v.name: v.type for v in c.all_variables}
    types.update({d.name: "categorical" if cp.levels.get(d.name) else "continuous" for d in c.derived})
    cols = dict(sample["cols"])
    if c.unmeasured is not None:
        types[c.unmeasured.name] = "binary"
        cols[c.unmeasured.name] = sample["u"]
    effects = compile_effects(r.effects, types, {nm: len(lv) for nm, lv in cp.levels.items()}, "response",
                              ratio="odds_ratio")
    check_spans(effects, cols, "response", "odds_ratio")
    proto = AssessmentPlan("response", "os", 0.0, False, (), (), r.assessment_time, effects)
    return effects, proto.covariate_lp(cols, sample["n"])


def _overall(c: CohortSpec, r, cp: CovariatePlan, sample: dict, os_time: np.ndarray, os_event: np.ndarray
             ) -> tuple[AssessmentPlan, dict, np.ndarray]:
    """The overall best response: cuts, the latent correlation with death (``os_hr_pd``)
    and the covariate effects; with the calibration sample's latent.

    The cuts are per arm. ``os_hr_pd`` is the whole cohort's HR of PD vs non-PD among
    the assessed patients, and the latent's centre and scale (which the columns built on
    it see) the whole cohort's mean and SD: both over the sample weighted to the cohort's
    arm sizes (:func:`~simulate.calibration_cohort.cohort_weights`), not its equal arms;
    the HR's Cox fit also weights each patient by the probability of being assessed (an
    early death is less often assessed under ``early_death`` missingness).
    """
    from scipy import optimize
    n, arm = sample["n"], sample["arm"]
    effects, lp = _response_lp(c, r, cp, sample)
    miss, miss_p = _missingness(c, r, "response", arm, os_time)
    w = 1.0 - miss_p
    cohort = cohort_weights(sample, cp.arm_n)   # the HR of PD and the latent's scale: whole cohort
    probs = [np.asarray(r.arms[a.label].level_probs()) for a in c.arms]
    k = len(r.levels)

    law = NormalLatent() if lp is None else None   # without effects the latent is standard normal

    def cuts_for(rho):
        lat = response_latent(rho * sample["w_d"] + np.sqrt(1 - rho ** 2) * sample["w_r"], lp)
        return lat, assessment_cuts(lat, w, arm, probs, law=law)

    def hr_pd(rho):
        lat, cuts = cuts_for(rho)
        code = np.empty(n, int)
        for a in range(len(c.arms)):
            m = arm == a
            code[m] = (k - 1) - np.searchsorted(cuts[a], lat[m])
        keep = w > 0   # the paper's HR is among the assessed: each patient weighs its chance of it
        return cox_binary_hr(os_time[keep], os_event[keep], (code[keep] == k - 1).astype(float),
                             (cohort * w)[keep])

    rep: dict = {"missing_probability": _arm_missing(c, r, "response"), "mechanism": r.missing_mechanism}
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
    lat, cuts = cuts_for(rho)
    rep["os_correlation"] = rho
    rep["effects"] = {e[0]: np.exp(e[2]).tolist() for e in effects}   # odds ratios
    center, scale = weighted_mean_sd(lat, cohort) if effects else (0.0, 1.0)
    return AssessmentPlan("response", "os", float(rho), False, cuts, miss, r.assessment_time, effects, center,
                          scale), rep, lat


def calibrate_missing(op: OutcomePlan, c: CohortSpec, cp: CovariatePlan, sample: dict
                      ) -> tuple[OutcomePlan, dict]:
    """The covariate missingness rules (``OutcomePlan.missing``), each to its whole-cohort share.

    An MCAR rule's probability is its ``rate``. A MAR rule is logistic in its
    ``depends_on`` variable standardised by the cohort's mean and SD, with the declared
    odds ratio per SD; its intercept solves ``E[expit(a + b z)] = rate`` over the cohort.
    The rate is a share of the whole cohort, whose arms are rarely the calibration
    sample's equal ones: the mean, SD and expectation are over the sample weighted to
    the cohort's arm sizes (:func:`~simulate.calibration_cohort.cohort_weights`), so a
    cohort's expected missing share is the rate whatever its arm sizes.
    """
    from scipy import optimize
    rules, rep = [], {}
    cols = sample["cols"]
    if c.unmeasured is not None and sample["u"] is not None:
        cols = {**cols, c.unmeasured.name: sample["u"]}
    w = cohort_weights(sample, cp.arm_n)
    for m in c.missing:
        if m.mechanism == "MCAR" or m.rate == 0:
            rules.append((m.variable, float(special.logit(max(m.rate, 1e-300))), 0.0, None, 0.0, 1.0))
            rep[m.variable] = {"rate": m.rate, "mechanism": "MCAR"}
            continue
        dep = np.asarray(cols[m.depends_on], float)
        ctr, scl = weighted_mean_sd(dep, w)
        zdep = (dep - ctr) / scl
        slope = float(np.log(m.odds_ratio))
        icpt = optimize.brentq(lambda a: np.average(special.expit(a + slope * zdep), weights=w) - m.rate,
                               -50, 50, xtol=1e-12)
        rules.append((m.variable, float(icpt), slope, m.depends_on, ctr, scl))
        rep[m.variable] = {"rate": m.rate, "mechanism": "MAR", "depends_on": m.depends_on,
                           "odds_ratio_per_sd": m.odds_ratio}
    return dataclasses.replace(op, missing=tuple(rules)), rep
