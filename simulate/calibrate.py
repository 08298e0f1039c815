"""Calibration of the outcome model to a paper's reported numbers (once per spec).

All calibrations use one large fixed-seed sample of the cohort (:data:`CAL_PER_ARM`
patients per arm) and are deterministic:

- OS (then PFS): piecewise log-hazards and the treatment log-HR solve, by least squares
  on the complementary log-log scale, ``S_a(t) = mean_i exp(-H(t | x_i, a))`` = the
  reported per-arm medians / rates; a light penalty on neighbouring log-hazard
  differences (``smoothness``, toward the Weibull ``shape``'s, flat by default) fixes the
  shape where the targets leave it free. The
  marginal survival is computed exactly from the conditional survival of every sampled
  patient (no event-time noise). PFS uses ``P(T_P > t, T_D > t | x, W_D)``. With
  ``hazards = "arm_specific"`` or a crude-HR target, :func:`_fit_general` solves a
  treatment log-HR per knot interval (or one) together with the crude HR.
- loss to follow-up: the exponential rate whose expected event count (given the death
  times and the administrative censoring of the sample) equals the reported count.
- response: per-arm thresholds so the *assessed* patients' proportions match; with
  ``os_hr_pd``, the latent correlation such that a Cox fit of OS on PD vs non-PD in
  the sample (weighted to the cohort's arm sizes, and each patient by its probability of
  assessment: the HR is the whole cohort's, among the assessed) gives the reported HR.
- MAR missingness: intercepts so the expected missing rate of the whole cohort (the
  sample weighted to its arm sizes) is as given.

A target of the whole cohort (the crude HR, an event count or median follow-up, the Cox
table, the two above) weights the sample's equal arms to the cohort's arm sizes
(:func:`~simulate.calibration_cohort.cohort_weights`); a per-arm target reads its arm.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .effect_terms import check_spans, compile_effects
from .outcomes import EndpointPlan
from .plan import CovariatePlan
from .study import CohortSpec
from .calibration_quality import check_grid, check_rows
from .joint_survival import CurveMemo, DeathOrder, joint_curve, joint_median
from .target_means import ArmRows, RiskMemo, target_means
from .survival import (baseline_cumhaz, censoring_survival, cumulative_at_knots, marginal_curve, marginal_median,
                       prepared_therapy)

def hazard_trend(knots: np.ndarray, shape: float) -> np.ndarray:
    """The neighbouring log-hazard differences of a Weibull hazard of ``shape``,
    ``(shape - 1) log t``, at the midpoints of the knot pieces (the last, open piece's
    midpoint is as far past its knot as the previous piece's half width): the differences
    the smoothness penalty pulls the calibrated log-hazards toward (all 0 at shape 1)."""
    knots = np.asarray(knots, float)
    if len(knots) < 2:
        return np.zeros(0)
    mid = np.append((knots[:-1] + knots[1:]) / 2, knots[-1] + (knots[-1] - knots[-2]) / 2)
    return (shape - 1.0) * np.diff(np.log(mid))


class _BaseCurves:
    """Each arm's crude-HR curve (:func:`~simulate.survival.marginal_curve`) at the fit's
    base point. A finite-difference step in one arm's parameters (a treatment log-HR of
    the treated arm's hazard, arm-specific) leaves the other arm's curve inputs as they
    were: its curve is read here, the doubles computed for the same inputs, not computed
    again. :meth:`at` is told each parameter vector: one that differs from the base
    point's in exactly one parameter is a step (its curves are not kept), any other
    different one is the new base point."""

    def __init__(self) -> None:
        self._theta: np.ndarray | None = None
        self._rebase = True
        self._kept: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def at(self, theta) -> None:
        theta = np.array(theta, dtype=float)
        moved = (None if self._theta is None or theta.shape != self._theta.shape
                 else np.count_nonzero(theta != self._theta))
        self._rebase = moved != 1 and moved != 0
        if self._rebase:
            self._theta, self._kept = theta, {}

    def curve(self, a: int, rates: np.ndarray, lp: np.ndarray, compute) -> np.ndarray:
        kept = self._kept.get(a)
        if kept is not None and np.array_equal(kept[0], rates) and np.array_equal(kept[1], lp):
            return kept[2].copy()
        out = compute()
        if self._rebase:
            self._kept[a] = (np.array(rates), np.array(lp), out.copy())
        return out


def _cumhaz_matrix(times, knots, rates, n, tv):
    """``H0(t)`` of every patient (rows) at ``times`` (columns); ``tv``: a
    :func:`~simulate.survival.prepared_therapy` (or ``None``). Without therapy every
    patient has the same ``H0(t)``: the ``(len(times),)`` vector of them instead."""
    cum = cumulative_at_knots(knots, rates)
    if tv is None:
        return baseline_cumhaz(np.asarray(times, float), knots, rates, cum)
    h = np.empty((n, len(times)))
    mask, segments, b = tv
    for j, t in enumerate(times):
        h[:, j] = baseline_cumhaz(t, knots, rates, cum)
        h[mask, j] = segments.cumhaz(t, rates, b)
    return h


def column_types(cp: CovariatePlan, c: CohortSpec) -> dict[str, str]:
    """The type of every column an effect may name (multiselect options are binary)."""
    types = {nm: t for nm, t in zip(cp.names, cp.types)}
    for _name, opts, _bits, _labels in cp.multiselect:
        types.update(dict.fromkeys(opts, "binary"))
    for d in c.derived:
        types[d.name] = "categorical" if d.name in cp.levels and cp.levels[d.name] else "continuous"
    if c.unmeasured is not None:
        types[c.unmeasured.name] = "binary"
    return types


def fit_endpoint(ep, name: str, sample: dict, cp: CovariatePlan, c: CohortSpec, *, tv=None,
                 os_plan: EndpointPlan | None = None, r_pd: float = 0.0,
                 extra=None) -> tuple[EndpointPlan, dict]:
    """Solve an endpoint's baseline log-hazards (and treatment log-HR) to its targets.

    ``extra``: further targets of the same hazard on another scale (the TTP targets of
    the progression time, :class:`~simulate.progression.TTPTargets`), fitted jointly.
    """
    from scipy import optimize
    types = column_types(cp, c)
    nlev = {nm: len(lv) for nm, lv in cp.levels.items()}
    effects = compile_effects(ep.effects, types, nlev, f"outcomes.{name}", treated_of=cp.treated_of)
    check_spans(effects, sample["cols"], f"outcomes.{name}")
    u = c.unmeasured
    beta_u = 0.0 if u is None else float(np.log(u.os_hr if name == "os" or u.pfs_hr is None else u.pfs_hr))
    knots = np.asarray(ep.knots, float)
    proto = EndpointPlan(knots, np.ones(len(knots)), effects, 0.0, beta_u)
    n, arm = sample["n"], sample["arm"]
    base_lp = proto.covariate_lp(sample["cols"], n, sample["treated"]) + (beta_u * sample["u"] if sample["u"] is not None else 0.0)
    treated = sample["treated"]
    calib_treat = ep.treatment_hr == "calibrate" and cp.treated_arm >= 0
    fixed_bt = 0.0 if ep.treatment_hr == "calibrate" else float(np.log(ep.treatment_hr))
    if ep.baseline_hazard is not None and not calib_treat:
        plan = EndpointPlan(knots, np.asarray(ep.baseline_hazard, float), effects, fixed_bt, beta_u)
        return plan, {"targets": [], "fixed": True}
    if ep.hazards == "arm_specific" or any(t.kind == "hr" for t in ep.calibrate):
        start = None
        surv_t = tuple(t for t in ep.calibrate if t.kind != "hr")
        if ep.hazards != "arm_specific" and surv_t:
            # one HR with crude-HR targets: started from the (cheap) fit of the survival
            # targets alone, which the crude HR moves little, so the costly HR residual is
            # evaluated less often (seed 004's PFS fit: 50 times instead of 81)
            start, _ = fit_endpoint(replace(ep, calibrate=surv_t), name, sample, cp, c, tv=tv, os_plan=os_plan,
                                    r_pd=r_pd)
        return _fit_general(ep, sample, cp, c, EndpointPlan(knots, np.ones(len(knots)), effects, fixed_bt, beta_u),
                            base_lp, tv=tv, os_plan=os_plan, r_pd=r_pd, start=start)
    targets = list(ep.calibrate)
    times = sorted({t.value if t.kind == "median" else t.time for t in targets})
    tindex = {t: j for j, t in enumerate(times)}
    labels = cp.arm_labels
    masks = [arm == labels.index(t.arm) for t in targets]
    arms = [labels.index(t.arm) for t in targets]
    rows_of = {a: np.flatnonzero(arm == a) for a in set(arms)}
    goal = np.array([np.log(-np.log(0.5 if t.kind == "median" else t.value)) for t in targets])
    if extra is not None:
        goal = np.concatenate([goal, extra.goal])
    cols_t = [tindex[t.value if t.kind == "median" else t.time] for t in targets]
    joint = None
    if os_plan is not None:  # PFS: joint survival with death
        joint = (np.stack([sample["t_d"] > t for t in times], axis=1), sample["w_d"], r_pd)
    fixed_rates = None if ep.baseline_hazard is None else np.log(np.asarray(ep.baseline_hazard, float))
    k = len(knots)
    trend = hazard_trend(knots, ep.shape)

    def unpack(theta):
        rates = fixed_rates if fixed_rates is not None else theta[:k]
        bt = theta[-1] if calib_treat else fixed_bt
        return np.exp(rates), bt

    therapy_h = prepared_therapy(knots, tv)
    # A target's survival at time t depends on the log-hazards of the pieces up to t's only
    # (and on the treatment log-HR): a finite-difference step in a later piece leaves it
    # unchanged to the bit, so it is looked up (in this fit's own memo) instead of computed.
    piece_of = [int(q) for q in np.clip(np.searchsorted(knots, times, side="right") - 1, 0, k - 1)]
    pieces = [piece_of[j] for j in cols_t] + ([] if extra is None else extra.pieces(knots))
    memo: dict | None = {} if therapy_h is None else None
    risk_of, gathered = RiskMemo(base_lp, treated), ArmRows()

    def surv(theta):
        rates, bt = unpack(theta)
        keys = [(i, rates[:q + 1].tobytes(), float(bt)) for i, q in enumerate(pieces)]
        known = {} if memo is None else {i: memo[key] for i, key in enumerate(keys) if key in memo}
        risk = risk_of(bt)
        got = target_means(_cumhaz_matrix(times, knots, rates, n, therapy_h), risk, arms, cols_t, rows_of, joint,
                            known, gathered)
        if extra is not None:
            got = np.concatenate([got, extra.survival(knots, rates, risk, {i - len(arms): v for i, v in known.items()
                                                                          if i >= len(arms)})])
        if memo is not None:
            memo.update(zip(keys, got))
        return got

    def resid(theta):
        s = np.clip(surv(theta), 1e-12, 1 - 1e-12)
        r = np.log(-np.log(s)) - goal
        if fixed_rates is None and k > 1:
            r = np.concatenate([r, np.sqrt(ep.smoothness) * 0.3 * (np.diff(theta[:k]) - trend)])
        return r

    first = targets[0]
    lam0 = np.log(2) / first.value if first.kind == "median" else -np.log(first.value) / first.time
    theta0 = []
    if fixed_rates is None:
        theta0 += [np.log(lam0) - float(np.log(np.mean(np.exp(base_lp))))] * k
    if calib_treat:
        theta0.append(0.0)
    sol = optimize.least_squares(resid, np.asarray(theta0), method="trf", xtol=1e-10, ftol=1e-10, max_nfev=2000)
    rates, bt = unpack(sol.x)
    got = surv(sol.x)
    lp_all = base_lp + bt * sample["treated"]
    report = {"targets": [{"arm": t.arm, "kind": t.kind, "time": t.time, "value": t.value,
                           "target": t.target, "fitted": _fitted_value(t, g, sample, masks[i], rates, lp_all,
                                                                       knots, tv, os_plan, r_pd)}
                          for i, (t, g) in enumerate(zip(targets, got))],
              "treatment_hr": float(np.exp(bt)), "baseline_hazard": rates.tolist()}
    return EndpointPlan(knots, rates, effects, float(bt), beta_u), report


#: months: the grid on which a PFS fit reads its crude HR. Each point costs two special
#: functions per alive patient: on the check's 0.1-month grid seed 004's compilation took
#: 13 s of CPU instead of 6, for an estimand 2e-4 away (a printed HR's rounding is 5e-3).
PFS_HR_STEP = 0.25


def censoring_of(c: CohortSpec) -> tuple[float, float, float, float]:
    """``(accrual, follow_up, admin_max, loss_rate)`` of the generator (no censoring: infinite follow-up)."""
    cen = c.censoring
    if cen is None:
        return 0.0, np.inf, np.inf, 0.0
    # an 'hr' target needs numeric censoring (simulate.study refuses 'calibrate' with it)
    loss = 0.0 if cen.loss_rate == "calibrate" else float(cen.loss_rate)
    follow_up = np.inf if cen.follow_up == "calibrate" else cen.follow_up
    return cen.accrual, follow_up, cen.administrative_max or np.inf, loss


def _fit_general(ep, sample: dict, cp: CovariatePlan, c: CohortSpec, proto: EndpointPlan, base_lp: np.ndarray, *,
                 tv=None, os_plan: EndpointPlan | None = None, r_pd: float = 0.0,
                 start: EndpointPlan | None = None) -> tuple[EndpointPlan, dict]:
    """Calibration with arm-specific hazards and/or crude-HR targets (least squares).

    Unknowns: the control arm's piecewise log-hazards and either one treatment log-HR
    (proportional) or one per knot interval (``arm_specific``: the treated arm's hazard
    is ``h0 exp(b_k)`` on piece ``k``). Residuals: ``log(-log S)`` of each survival
    target, ``log HR`` of each crude-HR target (the population Cox estimand of the two
    arms' marginal curves under the study's censoring, arms weighted by their sizes), and
    the smoothness penalty on neighbouring log-hazards and, arm-specific, on neighbouring
    treatment log-HRs (so the effect stays constant where the targets leave it free).
    PFS (``os_plan`` given): the arms' curves jointly with death
    (:func:`~simulate.joint_survival.joint_curve`), the crude HR read on a grid of
    :data:`PFS_HR_STEP`. ``start``: a plan whose log-hazards and treatment log-HR start
    the search (proportional hazards), else flat hazards and no effect.
    """
    from scipy import optimize
    arm_specific = ep.hazards == "arm_specific"
    knots, k = proto.knots, len(proto.knots)
    n, arm, treated = sample["n"], sample["arm"], sample["treated"]
    labels = cp.arm_labels
    surv_t = [t for t in ep.calibrate if t.kind != "hr"]
    hr_t = [t for t in ep.calibrate if t.kind == "hr"]
    times = sorted({t.value if t.kind == "median" else t.time for t in surv_t})
    cols_t = [times.index(t.value if t.kind == "median" else t.time) for t in surv_t]
    arms = [labels.index(t.arm) for t in surv_t]
    rows_of = {a: np.flatnonzero(arm == a) for a in set(arms)}
    goal = np.array([np.log(-np.log(0.5 if t.kind == "median" else t.value)) for t in surv_t]
                    + [np.log(t.value) for t in hr_t])
    fixed_rates = None if ep.baseline_hazard is None else np.log(np.asarray(ep.baseline_hazard, float))
    calib_treat = ep.treatment_hr == "calibrate" and cp.treated_arm >= 0
    is_t = treated == 1
    joint = None if os_plan is None else (np.stack([sample["t_d"] > t for t in times], axis=1), sample["w_d"], r_pd)
    accrual, follow_up, admin_max, loss = censoring_of(c)
    follow_end, grid = min(accrual + follow_up, admin_max), None
    if hr_t:
        grid = check_grid(hr_t, follow_end) if os_plan is None else check_grid(hr_t, follow_end, PFS_HR_STEP)
    g = None if grid is None else censoring_survival(grid, accrual, follow_up, admin_max, loss)
    # PFS: each arm's patients ordered by death time once, for every curve of the fit
    deaths = None if os_plan is None or not hr_t else {
        a: DeathOrder.build(sample["t_d"][arm == a], sample["w_d"][arm == a], r_pd) for a in range(len(labels))}
    # (the Jacobian's curves share most points with the base point's: computed once)
    memos = {a: CurveMemo() for a in range(len(labels))}
    bases = _BaseCurves()
    arm_n = {a.label: a.n for a in c.arms}
    nr = 0 if fixed_rates is not None else k
    therapy_h = prepared_therapy(knots, tv)
    risk_of, gathered = RiskMemo(base_lp, treated), ArmRows()
    trend = hazard_trend(knots, ep.shape)

    def unpack(theta):
        rates = np.exp(fixed_rates if fixed_rates is not None else theta[:k])
        if arm_specific:
            return rates, 0.0, theta[nr:nr + k]
        return rates, (theta[nr] if calib_treat else proto.beta_treat), None

    def surv(rates, bt, b):
        if arm_specific:
            h_c, h_t = baseline_cumhaz(times, knots, rates), baseline_cumhaz(times, knots, rates * np.exp(b))
            h0, risk = np.where(is_t[:, None], h_t[None, :], h_c[None, :]), risk_of(None)
        else:
            h0, risk = _cumhaz_matrix(times, knots, rates, n, therapy_h), risk_of(bt)
        return target_means(h0, risk, arms, cols_t, rows_of, joint, gathered=gathered)

    def crude(rates, bt, b):
        curves = {}
        for a, lab in enumerate(labels):
            m = arm == a
            r = rates * np.exp(b) if arm_specific and a == cp.treated_arm else rates
            lp = base_lp[m] + bt * treated[m]
            curves[lab] = (bases.curve(a, r, lp, lambda: marginal_curve(grid, knots, r, lp))
                           if deaths is None
                           else joint_curve(grid, knots, r, np.exp(lp), deaths[a], memos[a]))
        return check_rows("", hr_t, grid, curves, g, arm_n)

    def resid(theta):
        bases.at(theta)
        par = unpack(theta)
        s = np.clip(surv(*par), 1e-12, 1 - 1e-12) if surv_t else np.zeros(0)
        hr = [ch.achieved for ch in crude(*par)] if hr_t else []
        r = np.concatenate([np.log(-np.log(s)), np.log(hr)]) - goal
        pen = [np.diff(theta[:k]) - trend] if fixed_rates is None else []
        if arm_specific:
            pen.append(np.diff(theta[nr:nr + k]))
        return np.concatenate([r] + [np.sqrt(ep.smoothness) * 0.3 * p for p in pen])

    first = (surv_t or [None])[0]
    lam0 = 0.1 if first is None else (np.log(2) / first.value if first.kind == "median"
                                      else -np.log(first.value) / first.time)
    theta0 = [] if fixed_rates is not None else [np.log(lam0) - float(np.log(np.mean(np.exp(base_lp))))] * k
    theta0 += [0.0] * k if arm_specific else [0.0] if calib_treat else []
    if start is not None:
        theta0 = ([] if fixed_rates is not None else list(np.log(start.rates))) + (
            [start.beta_treat] if calib_treat else [])
    sol = optimize.least_squares(resid, np.asarray(theta0), method="trf", xtol=1e-10, ftol=1e-10, max_nfev=4000)
    rates, bt, b = unpack(sol.x)
    plan = EndpointPlan(knots, rates, proto.effects, float(bt), proto.beta_u,
                        None if b is None else np.asarray(b, float))
    got = list(surv(rates, bt, b)) if surv_t else []
    lp_all = base_lp + bt * treated

    def fitted(t, v):
        a = labels.index(t.arm)
        arm_rates = rates * np.exp(b) if arm_specific and a == cp.treated_arm else rates
        return _fitted_value(t, v, sample, arm == a, arm_rates, lp_all, knots, tv, os_plan, r_pd)
    rows = [{"arm": t.arm, "kind": t.kind, "time": t.time, "value": t.value, "target": t.target,
             "fitted": fitted(t, v)} for t, v in zip(surv_t, got)]
    rows += [{"arm": t.arm, "kind": "hr", "time": None, "value": t.value, "target": t.target,
              "fitted": ch.achieved} for t, ch in zip(hr_t, crude(rates, bt, b) if hr_t else ())]
    report = {"targets": rows, "hazards": ep.hazards, "baseline_hazard": rates.tolist(),
              "treatment_hr": None if arm_specific else float(np.exp(bt))}
    if arm_specific:
        report["treatment_hr_by_interval"] = np.exp(b).tolist()
    return plan, report


def _fitted_value(t, s_at, sample, mask, rates, lp_all, knots, tv, os_plan, r_pd):
    """The fitted rate (``s_at``) or median of target ``t`` (arm rows ``mask``); a PFS
    median is the median of the joint survival with death, as the fit sees it."""
    if t.kind == "rate":
        return float(s_at)
    lp = lp_all[mask]
    if os_plan is not None:
        return float(joint_median(knots, rates, np.exp(lp), sample["t_d"][mask], sample["w_d"][mask], r_pd))
    sub_tv = None if tv is None else tv.rows(mask)
    return float(marginal_median(knots, rates, lp, sub_tv))
