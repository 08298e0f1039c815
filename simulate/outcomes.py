"""Per-cohort outcome kernel: OS, PFS, censoring, best response, therapy, missingness.

Latent structure (all per patient, given covariates and arm):

- death time ``T_D``: ``S(T_D | x) = Phi(-W_D)`` with ``W_D ~ N(0, 1)``;
- progression time ``T_P``: the same with ``W_P = r_PD W_D + sqrt(1 - r_PD^2) e``
  (``os_correlation`` of the PFS endpoint); ``PFS = min(T_P, T_D)`` so PFS <= OS;
- best response: latent ``L = r_R W_D + sqrt(1 - r_R^2) e`` cut at per-arm thresholds
  (higher ``L``, better response), so responders live longer;
- censoring ``C = min(accrual + follow_up - entry, administrative_max, loss)`` with
  ``entry ~ U(0, accrual)`` and ``loss ~ Exp(loss_rate)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .search import SortedCuts
from .survival import cumulative_at_knots, draw_times, invert_baseline
from .spec_outcomes import Dist


@dataclass(frozen=True)
class EndpointPlan:
    """A calibrated endpoint: baseline pieces and coefficients.

    Proportional hazards (``treat_log_hr`` is ``None``): the treated arm's hazard is
    ``exp(beta_treat)`` times the baseline. Arm-specific hazards: ``beta_treat`` is 0 and
    the treated arm's hazard is ``rates * exp(treat_log_hr)`` piece by piece (a treatment
    HR that changes at the knots); covariates act proportionally in both arms.
    """

    knots: np.ndarray
    rates: np.ndarray
    effects: tuple  # (column, kind, coef, per_or_threshold)
    beta_treat: float
    beta_u: float
    treat_log_hr: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cum", cumulative_at_knots(self.knots, self.rates))
        object.__setattr__(self, "cum_search", SortedCuts.build(self.cum, "right"))
        if self.treat_log_hr is not None:
            rt = self.rates * np.exp(self.treat_log_hr)
            object.__setattr__(self, "rates_treated", rt)
            object.__setattr__(self, "cum_treated", cumulative_at_knots(self.knots, rt))

    def arm_rates(self, treated: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(rates, cumulative hazard at the knots)`` of the treated or control arm's baseline."""
        if treated and self.treat_log_hr is not None:
            return self.rates_treated, self.cum_treated
        return self.rates, self.cum

    def event_times(self, e: np.ndarray, eta: np.ndarray, treated: np.ndarray, tv=None) -> np.ndarray:
        """Event times from unit-exponential draws ``e`` (see :func:`~simulate.survival.draw_times`).

        ``treated`` is per row (last axis); arm-specific hazards invert the treated rows
        with the treated arm's baseline (proportional hazards: one call, as before).
        """
        t = draw_times(e, eta, self.knots, self.rates, self.cum, tv, self.cum_search)
        if self.treat_log_hr is not None:
            m = np.asarray(treated) == 1
            t[..., m] = invert_baseline(e[..., m] * np.exp(-eta[..., m]), self.knots, self.rates_treated,
                                        self.cum_treated)
        return t

    def covariate_lp(self, cols: dict[str, np.ndarray], n: "int | tuple[int, ...]") -> np.ndarray:
        """Covariate part of the linear predictor (no treatment); ``n``: rows or shape."""
        eta = np.zeros(n)
        for col, kind, coef, extra in self.effects:
            x = cols[col]
            if kind == "per":  # x / 1.0 is x exactly: the division is skipped then
                eta += coef * x if extra == 1.0 else coef * x / extra
            elif kind == "above":
                eta += coef * (x >= extra)
            else:  # per level: coef is an array indexed by the level code
                eta += coef[x.astype(np.intp)]
        return eta


def compile_effects(effects, types: dict[str, str], n_levels: dict[str, int], key: str) -> tuple:
    from .spec import SpecError
    out = []
    for j, e in enumerate(effects):
        t = types[e.variable]
        if isinstance(e.hr, tuple):
            k = n_levels.get(e.variable, 0)
            if k < 2:
                raise SpecError(f"{key}.effects[{j}].hr", f"a list of HRs needs a categorical variable, "
                                f"{e.variable!r} is {t}")
            hrs = e.hr if len(e.hr) == k else (1.0,) + e.hr if len(e.hr) == k - 1 else None
            if hrs is None or hrs[0] != 1.0:
                raise SpecError(f"{key}.effects[{j}].hr", f"needs {k - 1} HRs (levels after the first) or {k} "
                                f"starting with 1.0, got {list(e.hr)}")
            out.append((e.variable, "level", np.log(np.asarray(hrs)), None))
        elif e.above is not None:
            out.append((e.variable, "above", float(np.log(e.hr)), e.above))
        else:
            if t == "categorical" and n_levels.get(e.variable, 0) > 2:
                raise SpecError(f"{key}.effects[{j}].hr", f"{e.variable!r} has several levels: give a list of HRs")
            out.append((e.variable, "per", float(np.log(e.hr)), e.per))
    return tuple(out)


def draw_dist(d: Dist, n: int, rng) -> np.ndarray:
    if d.distribution == "exponential":
        x = rng.exponential(d.mean, n)
    else:
        k = (d.mean / d.sd) ** 2
        x = rng.gamma(k, d.mean / k, n)
    if d.p_zero > 0:
        x = np.where(rng.random(n) < d.p_zero, 0.0, x)
    return x


@dataclass(frozen=True)
class OutcomePlan:
    os: EndpointPlan | None
    pfs: EndpointPlan | None
    r_pd: float
    accrual: float
    follow_up: float
    admin_max: float
    loss_rate: float
    resp_cuts: tuple | None        # per arm: thresholds on L (worst -> best), len K-1
    r_resp: float
    resp_miss: tuple | None        # per arm (q_early, q_late)
    assessment_time: float
    tv: tuple | None               # (arm index, start Dist, duration Dist, b)
    missing: tuple = ()            # (column, intercept, slope, depends column, center, scale)


def therapy(tv: tuple | None, arm: np.ndarray, rng) -> tuple | None:
    """Planned start and duration of time-varying therapy (``inf``/0 outside its arm).

    ``tv`` is ``OutcomePlan.tv``; returns ``(mask, start, duration, b)`` (``mask`` per
    row of ``arm``; ``start`` and ``duration`` with the draws' leading replicate axis
    if ``rng`` is a :class:`~simulate.streams.LockstepDraws`).
    """
    if tv is None:
        return None
    a, sd, dd, b = tv
    mask = arm == a
    k = int(mask.sum())
    s, d = draw_dist(sd, k, rng), draw_dist(dd, k, rng)
    start = np.full(s.shape[:-1] + arm.shape, np.inf)
    dur = np.zeros(start.shape)
    start[..., mask] = s
    dur[..., mask] = d
    return mask, start, dur, b


def linear_predictors(ep: EndpointPlan, cols, treated, u, n):
    eta = ep.covariate_lp(cols, n) + ep.beta_treat * treated
    if u is not None:
        eta = eta + ep.beta_u * u
    return eta


def censor_times(op: OutcomePlan, n: int, rng) -> np.ndarray:
    entry = rng.random(n) * op.accrual
    c = np.minimum(op.accrual + op.follow_up - entry, op.admin_max)
    if op.loss_rate > 0:
        c = np.minimum(c, rng.exponential(1.0 / op.loss_rate, n))
    return c


def draw_outcomes(op: OutcomePlan, cols: dict, arm: np.ndarray, treated: np.ndarray, u, rng,
                  tv=None) -> dict[str, np.ndarray]:
    """OS, PFS, censoring and response for one cohort (columns dict).

    ``arm`` and ``treated`` are per row; ``cols``, ``u`` and the draws of ``rng`` (a
    :class:`~simulate.streams.LockstepDraws`) may carry a leading replicate axis.
    """
    n = len(arm)
    out: dict[str, np.ndarray] = {}
    w_d = rng.standard_normal(n)
    shape = w_d.shape
    eta = linear_predictors(op.os, cols, treated, u, shape)
    t_d = op.os.event_times(-special.log_ndtr(-w_d), eta, treated, tv)
    c = censor_times(op, n, rng)
    out["os_time"] = np.minimum(t_d, c)
    out["os_event"] = (t_d <= c).astype(np.int8)
    if op.pfs is not None:
        w_p = op.r_pd * w_d + np.sqrt(1 - op.r_pd ** 2) * rng.standard_normal(n)
        eta_p = linear_predictors(op.pfs, cols, treated, u, shape)
        t_p = np.minimum(op.pfs.event_times(-special.log_ndtr(-w_p), eta_p, treated), t_d)
        out["pfs_time"] = np.minimum(t_p, c)
        out["pfs_event"] = (t_p <= c).astype(np.int8)
    if op.resp_cuts is not None:
        lat = op.r_resp * w_d + np.sqrt(1 - op.r_resp ** 2) * rng.standard_normal(n)
        resp = np.empty(shape, np.int8)
        miss_p = np.empty(shape)
        early = out["os_time"] < op.assessment_time
        for a, cuts in enumerate(op.resp_cuts):
            m = arm == a
            k = len(cuts)
            resp[..., m] = k - np.searchsorted(cuts, lat[..., m])
            qe, ql = op.resp_miss[a]
            miss_p[..., m] = np.where(early[..., m], qe, ql)
        resp[rng.random(n) < miss_p] = -1
        out["response"] = resp
    if tv is not None:
        mask, start, dur, _ = tv
        end = out["os_time"]
        started = mask & (start < end)
        out["systemic_start"] = np.where(started, start, np.inf)
        out["systemic_duration"] = np.where(started, np.minimum(dur, end - np.where(started, start, 0.0)), 0.0)
    return out


def apply_missing(op: OutcomePlan, cols: dict, rng, n: int) -> None:
    """Set covariates to NaN by the compiled MCAR/MAR rules (in place)."""
    draws = [(col, rng.random(n), icpt, slope, dep, ctr, scl) for col, icpt, slope, dep, ctr, scl in op.missing]
    for col, r, icpt, slope, dep, ctr, scl in draws:
        lp = np.full(n, icpt)
        if dep is not None:
            lp = lp + slope * (np.nan_to_num(cols[dep], nan=ctr) - ctr) / scl
        cols[col] = np.where(r < special.expit(lp), np.nan, cols[col])
