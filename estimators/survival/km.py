"""Kaplan–Meier estimator, unweighted and IPTW-weighted, with valid variances.

``kaplan_meier`` validates once and calls ``fit_km``, the kernel that Monte Carlo loops
call directly with trusted arrays (float64 time >= 0, 0/1 event, positive weights or None).
The kernel calls cumulative sums and products as ufunc accumulations (``np.add.accumulate``,
``np.multiply.accumulate``): the loops of ``cumsum``/``cumprod``, without their dispatch,
which costs more than the arithmetic on a curve of a few hundred times.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from tacebench.records import ArrayRecord

from .. import _checks
from ..status import Estimability, km_status
from ._ci import first_crossing, loglog_ci, z_value

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

#: Capability table: the variances ``kaplan_meier`` offers and what each is valid for.
VARIANCES = {
    "auto": "greenwood without weights (or all-equal weights), xie_liu with weights",
    "greenwood": "Greenwood on the (weighted) counts, as R survfit(robust=FALSE) and lifelines; "
                 "not valid under IPTW, which it treats as case counts",
    "xie_liu": "Xie & Liu (2005) variance with the effective risk-set size; valid under IPTW "
               "and equal to Greenwood when all weights are equal",
    "ij": "infinitesimal jackknife (robust) variance, as R survfit(robust=TRUE), R's default "
          "for non-integer weights",
}


class Quantile(NamedTuple):
    estimate: float
    lower: float
    upper: float


class RMST(NamedTuple):
    estimate: float
    se: float
    lower: float
    upper: float
    tau: float


@dataclass(frozen=True, eq=False)
class SurvivalAt(ArrayRecord):
    """Survival probabilities at requested times with log-log pointwise intervals."""

    times: np.ndarray
    survival: np.ndarray
    se: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    conf_level: float

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame({"time": self.times, "survival": self.survival, "se": self.se,
                             "lower": self.lower, "upper": self.upper})


@dataclass(frozen=True, eq=False)
class KaplanMeier(ArrayRecord):
    """A Kaplan–Meier curve on its distinct observed times (events and censorings).

    Attributes
    ----------
    times : distinct observed times, ascending.
    survival : S(t) just after each time (right-continuous step function).
    se : standard error of S(t) (``survival * se_log``; 0 once S reaches 0).
    se_log : standard error of log S(t) (inf once S is 0 under Greenwood / Xie–Liu). R's
        ``survfit()$std.err`` is this for the model-based variances but ``se`` (the SE
        of S itself) for ``robust=TRUE``; R's intervals use the log scale in both cases.
    n_risk, n_event, n_censor : (weighted) counts at each time.
    variance : the variance actually used (``"greenwood"``, ``"xie_liu"`` or ``"ij"``).
    conf_level : level of the intervals from ``confint``, ``median``, ``survival_at``.
    """

    times: np.ndarray
    survival: np.ndarray
    se: np.ndarray
    se_log: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    variance: str
    conf_level: float = 0.95
    # per-time increments of Var(log S) (0 where n_risk == n_event), for the RMST variance
    _dvar: np.ndarray = field(default=None, repr=False, compare=False)
    # (time index of each subject, event, weight, c_k) for the infinitesimal jackknife
    _ij: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def status(self) -> Estimability:
        """:func:`estimators.status.km_status`: OK unless the sample is empty."""
        return km_status(self.times.size)

    def confint(self) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise log-log interval at ``times`` (R ``survfit(conf.type="log-log")``)."""
        return loglog_ci(self.survival, self.se_log, z_value(self.conf_level))

    def quantile(self, p: float = 0.5) -> Quantile:
        """Time where S first drops to ``1 - p`` (p=0.5: median), with its CI.

        The rule is R ``print.survfit``'s median rule (``survmean``'s ``minmin``) at the
        level ``1 - p``: the first time with S <= 1 - p (to sqrt(eps)); if S equals 1 - p
        exactly there and drops below it later, the midpoint between that time and the
        time of the drop. The interval is Brookmeyer & Crowley's (1982) test inversion in
        the same form: that rule applied to the lower and upper log-log pointwise limits.
        ``inf`` means "not reached".

        R's ``quantile.survfit`` (``findq``) gives the same values except where a curve
        equals 1 - p exactly from some time to the last observed time (never dropping
        below): it then returns the midpoint between that time and the last observed
        time, and this method (as ``print.survfit`` for the median) that first time. E.g.
        times 1..20 with events at 1..5: ``quantile(0.25)`` is 5 here, 12.5 in
        ``quantile.survfit``; events at 1..10: the median is 10 here and in
        ``print.survfit``, 15 in ``quantile(fit, 0.5)``.
        """
        target = 1.0 - _checks.check_real(p, "p")
        if not 0.0 < target < 1.0:
            raise ValueError(f"p must lie in (0, 1); got {p!r}")
        lower, upper = self.confint()
        return Quantile(first_crossing(self.survival, self.times, target),
                        first_crossing(lower, self.times, target),
                        first_crossing(upper, self.times, target))

    def median(self) -> Quantile:
        """Median survival with its Brookmeyer–Crowley log-log CI, as ``(est, lo, hi)``.

        Matches R ``print(survfit(..., conf.type="log-log"))``: the median is the first
        time with S <= 0.5, or, when S equals 0.5 exactly there, the midpoint to the time S
        drops below 0.5 (if it does); ``inf`` where not reached (R prints NA). See
        :meth:`quantile` for where R's ``quantile.survfit`` differs.
        """
        return self.quantile(0.5)

    def survival_at(self, times) -> SurvivalAt:
        """S(t), its SE and log-log CI at arbitrary times.

        Before the first observed time S = 1 with CI (1, 1) (as R ``summary(fit, times=)``);
        after the last observed time the curve is not estimated (NaN) unless it has reached
        0. Where S is 0 or 1 at an observed time the log-log interval is undefined (NaN),
        as in R.
        """
        t = _checks.check_time(times, "times")
        k = np.searchsorted(self.times, t, side="right") - 1
        kk = np.maximum(k, 0)
        surv = np.where(k < 0, 1.0, self.survival[kk])
        se = np.where(k < 0, 0.0, self.se[kk])
        se_log = np.where(k < 0, 0.0, self.se_log[kk])
        lower, upper = loglog_ci(surv, se_log, z_value(self.conf_level))
        lower = np.where(k < 0, 1.0, lower)
        upper = np.where(k < 0, 1.0, upper)
        beyond = (t > self.times[-1]) & (self.survival[-1] > 0)
        surv, se, lower, upper = (np.where(beyond, np.nan, a) for a in (surv, se, lower, upper))
        return SurvivalAt(t, surv, se, lower, upper, self.conf_level)

    def rmst(self, tau: float, *, extend: bool = False) -> RMST:
        """Restricted mean survival time to ``tau`` with its SE and normal CI.

        RMST = integral of S from 0 to tau. With Greenwood (or Xie–Liu) increments
        ``g_k`` of Var(log S), ``Var = sum_{t_k <= tau} A_k^2 g_k`` where ``A_k`` is the
        area under S from t_k to tau: the formula of R survival's
        ``print(fit, rmean=tau)`` (``survival:::survmean``) and of survRM2's ``rmst1``,
        which are identical. Under ``variance="ij"`` the SE is the infinitesimal
        jackknife of the RMST itself. ``tau`` beyond the last observed time raises unless
        ``extend=True`` (then S is carried flat to tau, as R's print does).
        """
        tau = _checks.check_real(tau, "tau")
        extend = _checks.check_flag(extend, "extend")
        if not (math.isfinite(tau) and tau > 0):
            raise ValueError(f"tau must be a positive finite time; got {tau!r}")
        if tau > self.times[-1] and self.survival[-1] > 0 and not extend:
            raise ValueError(f"tau={tau!r} lies beyond the last observed time "
                             f"{self.times[-1]!r}; pass extend=True to carry S flat")
        # widths of [t_k, t_{k+1}) clipped to tau; the piece [0, t_0) has S = 1
        edges = np.minimum(np.append(self.times, tau), tau)
        width = np.diff(edges)
        head = min(self.times[0], tau)
        pieces = width * self.survival
        estimate = head + pieces.sum()
        area_after = np.cumsum(pieces[::-1])[::-1]  # A_k: area from t_k to tau
        if self.variance == "ij":
            var = _rmst_ij_variance(self, pieces, area_after)
        else:
            var = float(np.sum(area_after**2 * self._dvar))
        se = math.sqrt(var)
        z = z_value(self.conf_level)
        return RMST(float(estimate), se, float(estimate - z * se), float(estimate + z * se), tau)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        lower, upper = self.confint()
        return pd.DataFrame({
            "time": self.times, "n_risk": self.n_risk, "n_event": self.n_event,
            "n_censor": self.n_censor, "survival": self.survival, "se": self.se,
            "lower": lower, "upper": upper,
        })


def _rmst_ij_variance(km: KaplanMeier, pieces: np.ndarray, area_after: np.ndarray) -> float:
    # d RMST / d w_i = sum_k width_k S_k D_i(k), with D_i(k) = c_{min(k, j_i)} - event_i
    # [j_i <= k] / (n_risk - n_event)_{j_i}; pieces where S = 0 carry no derivative.
    pos, event, w, c = km._ij
    live = km.survival > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        pc = np.where(live, pieces * c, 0.0)
        g = 1.0 / (km.n_risk - km.n_event)
        own = np.where(live[pos], (c[pos] - event * g[pos]) * area_after[pos], 0.0)
    before = np.concatenate(([0.0], np.cumsum(pc)))[pos]  # sum over k < j_i
    return float(np.sum((w * (before + own)) ** 2))


def fit_km(time: np.ndarray, event: np.ndarray, weights: np.ndarray | None,
            variance: str = "greenwood", conf_level: float = 0.95) -> KaplanMeier:
    """(Weighted) Kaplan–Meier curve on trusted arrays (the kernel of :func:`kaplan_meier`).

    Parameters
    ----------
    time : (n,) float array
    event : (n,) array of 0/1
    weights : (n,) float array or None
        Non-negative case weights; ``None`` for unweighted counts.
    variance : {"greenwood", "xie_liu", "ij"}
        Already resolved (no ``"auto"``).
    conf_level : float

    Returns
    -------
    KaplanMeier
        ``status`` is ``EMPTY`` for an empty sample (then every array is empty), else OK.

    Notes
    -----
    No validation, and never raises on data.
    """
    n = time.shape[0]
    if n == 0:
        empty = np.empty(0)
        return KaplanMeier(empty, empty, empty, empty, empty, empty, empty, variance,
                           conf_level, empty, None)
    order = time.argsort(kind="stable")
    t = time[order]
    d = event[order].astype(np.float64)
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(t[1:], t[:-1], out=new[1:])
    starts = new.nonzero()[0]
    times = t[starts]
    if weights is None:
        w = None
        n_event = np.add.reduceat(d, starts)
        at_time = np.diff(np.append(starts, n)).astype(np.float64)
    else:
        w = weights[order]
        n_event = np.add.reduceat(w * d, starts)
        at_time = np.add.reduceat(w, starts)
    n_risk = np.add.accumulate(at_time[::-1])[::-1]
    n_censor = at_time - n_event
    surviving = n_risk - n_event
    # one errstate for the whole curve (entering one costs as much as a small ufunc)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.multiply.accumulate(surviving / n_risk)
        if variance == "xie_liu" and w is not None:
            sum_w2 = np.add.accumulate(np.add.reduceat(w * w, starts)[::-1])[::-1]
            eff = n_risk**2 / sum_w2  # Kish effective size of each risk set
            dvar = n_event / (eff * surviving)
        else:
            dvar = n_event / (n_risk * surviving)
        ij = None
        if variance == "ij":
            var_log, ij = _ij_log_variance(n_risk, n_event, surviving, starts, n, d,
                                           np.ones(n) if w is None else w)
        else:
            var_log = np.add.accumulate(dvar)  # inf from the time S reaches 0 onwards
        se_log = np.sqrt(var_log)
        se = np.where(survival > 0, survival * se_log, 0.0)
    dvar = np.where(surviving > 0, dvar, 0.0)
    return KaplanMeier(times, survival, se, se_log, n_risk, n_event, n_censor, variance,
                       conf_level, dvar, ij)


def _ij_log_variance(n_risk, n_event, surviving, starts, n, d, w):
    # Infinitesimal jackknife of log S(t_k): D_i(k) = d log S(t_k) / d w_i
    #   = c_{min(k, j_i)} - d_i [j_i <= k] / (Y - D)_{j_i},  c_k = sum_{j<=k} h_j/(Y-D)_j,
    # so Var_k = c_k^2 * sum_{j_i > k} w_i^2 + sum_{j_i <= k} w_i^2 (c_{j_i} - d_i g_{j_i})^2.
    m = starts.shape[0]
    pos = np.repeat(np.arange(m), np.diff(np.append(starts, n)))  # time index, sorted order
    with np.errstate(divide="ignore", invalid="ignore"):
        g = 1.0 / surviving
        c = np.cumsum(np.where(n_event > 0, n_event / n_risk * g, 0.0))
        own = np.where(surviving[pos] > 0, (w * (c[pos] - d * g[pos])) ** 2, 0.0)
        w2_at = np.add.reduceat(w * w, starts)
        later = np.cumsum(w2_at[::-1])[::-1] - w2_at  # sum of w^2 over j_i > k
        var_log = c**2 * later + np.cumsum(np.add.reduceat(own, starts))
    # from the time S reaches 0 onwards log S has no finite variance
    var_log = np.where(np.cumsum(surviving <= 0) > 0, np.inf, var_log)
    return var_log, (pos, d, w, c)


def resolve_variance(variance: str, weights: np.ndarray | None) -> str:
    _checks.check_choice(variance, "variance", VARIANCES)
    if variance != "auto":
        return variance
    # with all-equal weights Xie-Liu *is* Greenwood on the counts (weighted Greenwood would not be)
    return "greenwood" if weights is None else "xie_liu"


def prepare_survival_input(time, event, weights, *others):
    """Validate (time, event, weights) once; drop rows with zero weight from all arrays.

    ``others`` (already validated, same length) are subset alongside.
    """
    t = _checks.check_time(time, "time")
    e = _checks.check_binary(event, "event")
    if t.shape[0] != e.shape[0]:  # (the common case without the check's dict)
        _checks.check_lengths({"time": t, "event": e})
    w, lo = (None, 1.0) if weights is None else _checks.check_weights_min(weights, len(t))
    if lo == 0.0:  # (non-negative weights: a zero is the minimum)
        keep = w > 0
        t, e, w = t[keep], e[keep], w[keep]
        others = tuple(o[keep] for o in others)
    if t.shape[0] == 0:
        raise ValueError("time must not be empty")
    return (t, e, w, *others)


def kaplan_meier(time, event, weights=None, *, variance: str = "auto",
                 conf_level: float = 0.95) -> KaplanMeier:
    """Kaplan–Meier (product-limit) estimator, optionally IPTW-weighted.

    ``S(t) = prod_{t_j <= t} (1 - d_j / Y_j)`` with ``d_j``, ``Y_j`` the (weighted) events
    and number at risk (the adjusted KM, AKME, of Xie & Liu 2005 when weighted).

    Variance of log S(t) (``variance=``):

    - ``"greenwood"``: ``sum_{t_j<=t} d_j / (Y_j (Y_j - d_j))`` (Greenwood 1926).
    - ``"xie_liu"``: ``sum_{t_j<=t} d_j^w / (M_j (Y_j^w - d_j^w))`` with
      ``M_j = (sum_{i in R_j} w_i)^2 / sum_{i in R_j} w_i^2`` the effective size of the
      risk set (Xie & Liu 2005, Stat Med 24:3089, section 2; as adjustedCurves'
      ``surv_iptw_km``). Valid under IPTW; equals Greenwood for equal weights.
    - ``"ij"``: infinitesimal jackknife ``sum_i (w_i d log S / d w_i)^2``, R
      ``survfit(robust=TRUE)``.
    - ``"auto"`` (default): Greenwood without weights, Xie–Liu with weights.

    Parameters
    ----------
    time : array of non-negative finite times (months).
    event : 0/1 array, 1 = event.
    weights : optional non-negative case weights (e.g. IPTW); rows with weight 0 are
        dropped.
    variance, conf_level : see above.

    Returns
    -------
    KaplanMeier
    """
    t, e, w = prepare_survival_input(time, event, weights)
    conf_level = _checks.check_level(conf_level)
    return fit_km(t, e, w, resolve_variance(variance, w), conf_level)
