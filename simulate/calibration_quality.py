"""How closely a calibrated generator reproduces the numbers it was calibrated to.

Per calibrated quantity (a KM median, a landmark rate, the crude HR) a
:class:`CalibrationCheck` holds the published target, the value the calibrated model
achieves (its population value, from the marginal arm curves of the calibration sample),
the residual ``target - achieved``, the half-width of the printed number's rounding, the
Monte Carlo standard error (MCSE) of the quantity at the study's size, and ``within``:
``|residual| <= rounding + mcse``. A check that cannot measure its target (a median the
model does not reach by the end of follow-up, a median or landmark past the follow-up,
where a study's Kaplan-Meier curve ends and the MCSE is infinite) is never ``within``;
its ``reason`` says why.

The MCSE is how far one simulated cohort of the study's size scatters around the model
value, computed asymptotically from the model's arm curves ``S_a`` and the censoring
survival ``G`` of the study's follow-up:

- landmark rate: Greenwood, ``var S(t) = S(t)^2 / n_a * int_0^t -dS / (S^2 G)``;
- median ``m``: ``var S(m) / f(m)^2`` with ``f`` the density of the curve at ``m``;
- crude HR: ``var log HR = 1 / (N I)`` with ``I`` the information of the population Cox
  score (:func:`~simulate.survival.cox_estimand`), ``SE(HR) = HR sqrt(var)``;
- TTP (deaths censored): the median and rate formulas on the Kaplan-Meier limit of TTP
  (:func:`~simulate.progression.ttp_km_curve`), a progression-free death censoring like
  the end of follow-up.

One MCSE, not two: the check is of the calibration, not a test of the paper. A fit with
free parameters for its targets reproduces them to well within one MCSE; a residual
beyond rounding plus one MCSE is a systematic miss of the generator (one HR cannot fit
both arms, say), and a verdict judged on that cohort says as much about the generator as
about the paper.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .calibration_cohort import calibration_sample, draw_death_times
# the PFS curves jointly with death, shared with the calibration (re-exported here)
from .joint_survival import DeathOrder, alive_joint_survival, joint_curve, joint_median
from .progression import ttp_km_curve
from .survival import censoring_survival, cox_estimand, prepared_therapy
from .survival_sweep import swept_marginal_curve, therapy_cumhaz_along

_STEP = 0.05  # months: curve grid (interpolation error << any printed rounding)
_LONGEST = 600.0  # months: the longest grid (an HR's follow-up, a median not reached)


@dataclass(frozen=True)
class CalibrationCheck:
    """One calibrated quantity: target vs achieved, against rounding plus MCSE."""

    endpoint: str
    target: str            # the target id (targets.toml), "" if none
    kind: str              # median | rate | hr
    arm: str
    time: float | None
    value: float           # published
    achieved: float        # calibrated model (population value)
    residual: float        # value - achieved
    rounding: float        # half a unit of the printed number's last digit
    mcse: float            # SE of the quantity in one cohort of the study's size
    within: bool
    reason: str = ""       # why the check cannot measure its target ("" when it can)


def printed_half_width(value: float, kind: str, source: str) -> float:
    """Half a unit of the last digit of ``value`` as printed in its quote ``source``.

    A rate is looked for as a percentage first (``92.9`` for 0.929), then as a
    proportion; the fewest decimals that print the value and occur in the quote as a
    whole number token win. Without a match, the decimals of the value as written.
    """
    for scale in ((100.0, 1.0) if kind == "rate" else (1.0,)):
        shown = value * scale
        for d in range(5):
            text = f"{shown:.{d}f}"
            if abs(float(text) - shown) > 1e-9 * max(1.0, abs(shown)):
                continue
            if re.search(rf"(?<![\d.]){re.escape(text)}(?!\d|\.\d)", source or ""):
                return 0.5 * 10.0 ** -d / scale
    scale = 100.0 if kind == "rate" else 1.0
    written = repr(round(value * scale, 10))
    d = len(written.split(".")[1].rstrip("0")) if "." in written else 0
    return 0.5 * 10.0 ** -d / scale


def greenwood_se(grid: np.ndarray, s: np.ndarray, g: np.ndarray, n: float, t: float) -> float:
    """Asymptotic SE of the KM estimate of ``S(t)`` in ``n`` patients (curve ``s``, censoring ``g``)."""
    k = int(np.searchsorted(grid, t, side="right"))
    ss, gg = s[:k], g[:k]
    ds = -np.diff(ss)
    sm, gm = (ss[1:] + ss[:-1]) / 2, (gg[1:] + gg[:-1]) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ds > 0, ds / (sm ** 2 * gm), 0.0)
    st = float(np.interp(t, grid, s))
    return float(st * np.sqrt(np.sum(terms) / n))


def curve_median(grid: np.ndarray, s: np.ndarray) -> float:
    """First time the curve reaches 0.5 (linear interpolation); ``inf`` if it does not."""
    below = np.flatnonzero(s <= 0.5)
    if not len(below):
        return np.inf
    j = below[0]
    return float(np.interp(0.5, [s[j], s[j - 1]], [grid[j], grid[j - 1]])) if j > 0 else float(grid[0])


def median_se(grid: np.ndarray, s: np.ndarray, g: np.ndarray, n: float, m: float) -> float:
    """Asymptotic SE of the KM median: ``SE(S(m)) / f(m)``."""
    if not np.isfinite(m):
        return np.inf
    f = (np.interp(m - _STEP, grid, s) - np.interp(m + _STEP, grid, s)) / (2 * _STEP)
    return greenwood_se(grid, s, g, n, m) / f if f > 0 else np.inf


def check_rows(endpoint: str, targets, grid: np.ndarray, curves: dict, g: np.ndarray, arm_n: dict,
               follow_end: float = np.inf) -> tuple[CalibrationCheck, ...]:
    """The checks of one endpoint's targets, from its arm curves on ``grid``.

    Parameters
    ----------
    endpoint : str
        ``"os"``, ``"pfs"`` or ``"ttp"`` (for the description).
    targets : sequence of CalibrationTarget
        The endpoint's calibration targets.
    grid : ndarray
        Times of the curves (containing every rate target's time).
    curves : dict
        Arm label -> model marginal survival on ``grid``.
    g : ndarray or dict
        Censoring survival on ``grid`` (for TTP, whose deaths censor too: arm label ->
        the share of the arm not censored by follow-up or death).
    arm_n : dict
        Arm label -> the study's arm size.
    follow_end : float
        The longest follow-up of the study (``min(accrual + follow_up, admin_max)``).

    Returns
    -------
    tuple of CalibrationCheck
    """
    out = []
    for t in targets:
        ga = g[t.arm] if isinstance(g, dict) else g
        if t.kind == "hr":
            other = next(a for a in curves if a != t.arm)
            n1, n0 = arm_n[t.arm], arm_n[other]
            total = n1 + n0
            est = cox_estimand(grid, n1 / total * curves[t.arm], n0 / total * curves[other], weight=g)
            achieved = est.hr
            mcse = est.hr * np.sqrt(1.0 / (total * est.information)) if est.information > 0 else np.inf
        elif t.kind == "rate":
            achieved = float(np.interp(t.time, grid, curves[t.arm]))
            mcse = greenwood_se(grid, curves[t.arm], ga, arm_n[t.arm], t.time)
        else:
            achieved = curve_median(grid, curves[t.arm])
            mcse = median_se(grid, curves[t.arm], ga, arm_n[t.arm], achieved)
        rounding = printed_half_width(t.value, t.kind, t.source)
        resid = t.value - achieved
        reason = unmeasured_reason(t.kind, t.time, achieved, mcse, float(grid[-1]), follow_end)
        out.append(CalibrationCheck(endpoint, t.target, t.kind, t.arm, t.time, float(t.value), float(achieved),
                                    float(resid), float(rounding), float(mcse),
                                    not reason and bool(abs(resid) <= rounding + mcse), reason))
    return tuple(out)


def unmeasured_reason(kind: str, time, achieved: float, mcse: float, grid_end: float,
                      follow_end: float) -> str:
    """Why a check cannot measure its target, ``""`` when it can.

    An infinite MCSE or achieved value would make any residual look ``within``: a median
    not reached on the grid (``grid_end``, months), a median or landmark at or past the
    end of follow-up (``follow_end``, where no patient is at risk), a curve flat at its
    median or an HR without information.
    """
    if not np.isfinite(achieved):
        return f"median not reached by {grid_end:g} months"
    if np.isfinite(mcse):
        return ""
    at = time if kind == "rate" else achieved
    if kind != "hr" and at >= follow_end:
        what = f"median {achieved:.3g} months" if kind == "median" else f"{time:g}-month rate"
        return f"{what} at or beyond the end of follow-up ({follow_end:g} months)"
    return "no finite Monte Carlo SE"


def check_grid(targets, follow_end: float, step: float = _STEP) -> np.ndarray:
    """A grid long enough for every target (twice the longest median, the follow-up for an HR)."""
    top = max([2 * t.value if t.kind == "median" else t.time for t in targets if t.kind != "hr"] + [1.0])
    if any(t.kind == "hr" for t in targets):
        top = max(top, min(follow_end, _LONGEST))
    times = [t.time for t in targets if t.kind == "rate"]
    return np.unique(np.concatenate([np.arange(0.0, top + step / 2, step), times]))


def _arm_models(ep, sample: dict, labels):
    """Each arm's ``(label, rows, baseline rates, linear predictors)`` under endpoint plan
    ``ep`` on the calibration sample."""
    arm, treated = sample["arm"], sample["treated"]
    lp = ep.covariate_lp(sample["cols"], sample["n"], treated) + ep.beta_treat * treated
    if sample["u"] is not None:
        lp = lp + ep.beta_u * sample["u"]
    for a, lab in enumerate(labels):
        m = arm == a
        rates, _ = ep.arm_rates(bool(treated[m][0]) if m.any() else False)
        yield lab, m, rates, lp[m]


def ttp_curves(ep, sample: dict, labels, grid: np.ndarray, pfs: dict, r_pd: float) -> dict:
    """Arm label -> the model's large-sample Kaplan-Meier TTP curve (deaths censored) on
    ``grid``, from the progression plan ``ep`` and the arms' PFS curves ``pfs`` on ``grid``
    (:func:`simulate.progression.ttp_km_curve`)."""
    return {lab: ttp_km_curve(grid, pfs[lab], ep.knots, rates, np.exp(lp), sample["t_d"][m], sample["w_d"][m],
                              r_pd) for lab, m, rates, lp in _arm_models(ep, sample, labels)}


def endpoint_curves(ep, sample: dict, labels, grid: np.ndarray, *, tv=None, os_plan=None, r_pd: float = 0.0
                    ) -> dict:
    """Arm label -> the model's marginal survival of an endpoint on ``grid``.

    OS: per subject (``mean exp(-H(t | x))``, equal linear predictors once; with thousands
    of distinct ones, the exps of :func:`~simulate.survival_sweep.survival_sweep`, to an
    absolute 1.1e-14: a check's number, never the calibration's or a draw's). PFS:
    ``P(T_P > t, T_D > t | x, W_D)`` of the calibration sample (as in its fit,
    :func:`joint_curve`).
    """
    out = {}
    for lab, m, rates, lp in _arm_models(ep, sample, labels):
        if os_plan is not None:
            out[lab] = joint_curve(grid, ep.knots, rates, np.exp(lp),
                                   DeathOrder.build(sample["t_d"][m], sample["w_d"][m], r_pd))
            continue
        if tv is None or not tv.changes_survival or not tv.mask[m].any():
            out[lab] = swept_marginal_curve(grid, ep.knots, rates, lp)
            continue
        # OS with time-varying therapy in this arm
        s = np.empty(len(grid))
        risk = np.exp(lp)
        _, segments, b = prepared_therapy(ep.knots, tv.rows(m))
        for j, h in enumerate(therapy_cumhaz_along(segments, grid, rates, b)):
            s[j] = np.mean(np.exp(-h * risk))
        out[lab] = s
    return out


def endpoint_checks(name: str, spec_ep, ep, sample: dict, labels, arm_n: dict, censoring, *, tv=None,
                    os_plan=None, r_pd: float = 0.0) -> tuple[CalibrationCheck, ...]:
    """The checks of one calibrated endpoint (``spec_ep``: its spec; ``ep``: its plan).

    ``censoring``: ``(accrual, follow_up, admin_max, loss_rate)`` of the generator. For
    ``name == "ttp"``, ``spec_ep`` is the TTP spec and ``ep`` the progression (PFS) plan:
    the curves are the Kaplan-Meier limits of TTP, and a patient leaves the risk set at
    censoring, progression-free death or progression, so the Greenwood "censoring"
    survival of an arm is ``G_c(t) PFS(t) / S_TTP(t)``.
    """
    targets = [t for t in spec_ep.calibrate]
    if not targets:
        return ()
    accrual, follow_up, admin_max, loss = censoring
    follow_end = min(accrual + follow_up, admin_max)
    step = _STEP if os_plan is None else 2 * _STEP
    curve_kw = {"tv": tv, "os_plan": os_plan, "r_pd": r_pd}

    def measure(grid):
        curves = endpoint_curves(ep, sample, labels, grid, **curve_kw)
        g = censoring_survival(grid, accrual, follow_up, admin_max, loss)
        if name != "ttp":
            return curves, g
        ttp = ttp_curves(ep, sample, labels, grid, curves, r_pd)
        with np.errstate(divide="ignore", invalid="ignore"):
            kept = {lab: np.where(ttp[lab] > 0, g * curves[lab] / ttp[lab], 0.0) for lab in ttp}
        return ttp, kept

    grid = check_grid(targets, follow_end, step)
    curves, g = measure(grid)
    rows = list(check_rows(name, targets, grid, curves, g, arm_n, follow_end))
    late = [i for i, r in enumerate(rows) if r.kind == "median" and not np.isfinite(r.achieved)]
    top = min(follow_end, _LONGEST)
    if late and grid[-1] < top:
        # a fit that missed a median by more than the target itself (other targets pulled
        # it away) is measured to the end of follow-up, where a study's KM curve ends;
        # only these rows, so every check measured on the short grid keeps its numbers
        grid = np.arange(0.0, top + step / 2, step)
        curves, g = measure(grid)
        again = dict(zip(late, check_rows(name, [targets[i] for i in late], grid, curves, g, arm_n,
                                          follow_end)))
        rows = [again.get(i, r) for i, r in enumerate(rows)]
    return tuple(rows)


def calibration_checks(plan) -> tuple[CalibrationCheck, ...]:
    """Each calibrated endpoint's target-vs-achieved checks, OS, PFS, then TTP.

    Computed when asked for, not at compilation: a study run never reads them, and for
    a time-varying therapy their curves cost more than the rest of the compilation. The
    calibration sample is drawn again (a fixed seed and the plan's covariates and
    therapy: the compilation's own sample) with its death times under the final OS model,
    so the checks are the ones the compilation would have computed.

    Parameters
    ----------
    plan : SimulationPlan
        A compiled plan (:func:`simulate.compile_plan`).

    Returns
    -------
    tuple of CalibrationCheck
        Empty for an endpoint with a fixed baseline or without targets.

    References
    ----------
    See :mod:`simulate.calibration_quality` for the checks themselves.
    """
    c, cp, op = plan.spec, plan.covariates, plan.outcomes
    calibrated = [name for name in ("os", "pfs") if getattr(op, name) is not None
                  and not plan.report.get(name, {}).get("fixed")]
    if op.pfs is not None and op.os is not None and c.ttp is not None and c.ttp.calibrate:
        calibrated.append("ttp")    # the progression time, fitted with PFS
    if not calibrated:
        return ()
    sample = calibration_sample(cp, c, op.tv)
    if op.os is not None:
        sample["t_d"] = draw_death_times(op.os, sample, sample["tv"])
    censoring = (op.accrual, op.follow_up, op.admin_max, op.loss_rate)
    arm_n = {a.label: a.n for a in c.arms}
    extra = {"os": {"tv": sample["tv"]}, "pfs": {"os_plan": op.os, "r_pd": op.r_pd}}
    extra["ttp"] = extra["pfs"]
    plans = {"os": op.os, "pfs": op.pfs, "ttp": op.pfs}
    return tuple(chk for name in calibrated
                 for chk in endpoint_checks(name, getattr(c, name), plans[name], sample, cp.arm_labels,
                                            arm_n, censoring, **extra[name]))


__all__ = ["CalibrationCheck", "DeathOrder", "calibration_checks", "check_rows", "endpoint_checks",
           "greenwood_se", "joint_curve", "joint_median", "median_se", "printed_half_width", "ttp_curves",
           "unmeasured_reason"]
