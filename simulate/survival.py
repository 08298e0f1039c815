"""Proportional hazards with a piecewise-exponential baseline, exactly inverted.

``h(t | x) = h0(t) exp(eta)`` with ``h0`` constant on ``[knot_k, knot_k+1)`` (the last
piece open-ended). Event times by inversion, ``T = H0^-1(E / exp(eta))`` with
``E ~ Exp(1)`` (Bender, Augustin & Blettner 2005).

Time-varying therapy with a cumulative-exposure effect: ``h(t) = h0(t) exp(eta)
exp(b d(t))`` where ``d(t) = clip(t - start, 0, duration)`` is the time on therapy so
far and ``b = log(hr_per_month)``. The cumulative hazard is integrated in closed form
between each patient's breakpoints (knots, start, stop) and inverted exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tacebench.records import ArrayRecord
from .search import SortedCuts
from .therapy_draw import TherapyDraw


def cumulative_at_knots(knots: np.ndarray, rates: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(rates[:-1] * np.diff(knots))])


def baseline_cumhaz(t: np.ndarray | float, knots: np.ndarray, rates: np.ndarray,
                    cum: np.ndarray | None = None) -> np.ndarray:
    """``H0(t)`` of the piecewise-constant baseline."""
    cum = cumulative_at_knots(knots, rates) if cum is None else cum
    t = np.asarray(t, float)
    k = np.clip(np.searchsorted(knots, t, side="right") - 1, 0, len(knots) - 1)
    return cum[k] + rates[k] * (t - knots[k])


def invert_baseline(h: np.ndarray, knots: np.ndarray, rates: np.ndarray, cum: np.ndarray,
                    search: SortedCuts | None = None) -> np.ndarray:
    """``t`` with ``H0(t) = h`` (inverse of :func:`baseline_cumhaz`).

    ``search``: ``SortedCuts.build(cum, "right")``, the same piece indices by lookup.
    """
    pos = search(h) if search is not None else np.searchsorted(cum, h, side="right")
    k = np.clip(pos - 1, 0, len(knots) - 1)
    return knots[k] + (h - cum[k]) / rates[k]


_BIG = 1e7  # months: "never" for a therapy that does not start (keeps arithmetic finite)


def _geometry(knots, start, dur):
    """Per-patient segments between breakpoints: left/right ends, knot piece, exposure phase."""
    n = start.shape[0]
    start = np.minimum(start, _BIG)
    stop = np.minimum(start + dur, _BIG)
    pts = np.sort(np.concatenate([np.broadcast_to(knots, (n, len(knots))), start[:, None], stop[:, None]],
                                 axis=1), axis=1)
    left = pts
    right = np.concatenate([pts[:, 1:], np.full((n, 1), 2 * _BIG)], axis=1)
    k = np.clip(np.searchsorted(knots, left, side="right") - 1, 0, len(knots) - 1)
    mid = (left + right) / 2
    during = (mid > start[:, None]) & (mid < stop[:, None])
    after = mid >= stop[:, None]
    return left, right, k, during, after, start, stop - start


def _segments(knots, rates, start, dur):
    """Per-patient segments between breakpoints: left/right ends, hazard, exposure phase."""
    left, right, k, during, after, start, dur = _geometry(knots, start, dur)
    return left, right, rates[k], during, after, start, dur


@dataclass(frozen=True, eq=False)
class TherapySegments(ArrayRecord):
    """Each patient's segments between breakpoints (knots, therapy start and stop).

    They depend on the knots and the therapy times only: one build (a sort per patient)
    serves every time and every set of rates of a calibration or a curve, where
    :func:`tv_cumhaz` would sort again at each call. :meth:`cumhaz` is
    :func:`tv_cumhaz`, number for number.

    ``entry`` (per patient, or ``None``): the time each one is known alive up to (an
    inclusion on months of therapy, :class:`~simulate.therapy_draw.TherapyDraw`); the
    cumulative hazard then counts from it, ``H(max(t, entry)) - H(entry)``.
    """

    left: np.ndarray
    right: np.ndarray
    piece: np.ndarray
    during: np.ndarray
    after: np.ndarray
    start: np.ndarray
    dur: np.ndarray
    entry: np.ndarray | None = None
    knots: np.ndarray | None = None

    @classmethod
    def build(cls, knots, start, dur, entry=None) -> "TherapySegments":
        return cls(*_geometry(knots, start, dur), entry, np.asarray(knots, float))

    def cumhaz(self, t: np.ndarray | float, rates, b: float) -> np.ndarray:
        """``int_0^t h0(u) exp(b d(u)) du`` per patient (no ``exp(eta)`` factor); with
        ``entry``, the integral from ``entry`` (0 before it)."""
        if self.entry is None:
            return self._from_zero(t, rates, b)
        # for t before entry, max(t, entry) is entry itself: the difference is exactly 0
        t = np.maximum(np.broadcast_to(np.asarray(t, float), self.start.shape), self.entry)
        if b == 0.0:  # no effect: the baseline's own H0, without the per-patient segments
            cum = cumulative_at_knots(self.knots, rates)
            return baseline_cumhaz(t, self.knots, rates, cum) - baseline_cumhaz(self.entry, self.knots, rates, cum)
        return self._from_zero(t, rates, b) - self._from_zero(self.entry, rates, b)

    def _from_zero(self, t, rates, b: float) -> np.ndarray:
        t = np.broadcast_to(np.asarray(t, float), self.start.shape)[:, None]
        return _seg_integral(np.minimum(self.left, t), np.minimum(self.right, t), rates[self.piece], self.during,
                             self.after, self.start, self.dur, b).sum(axis=1)


def _seg_integral(lo, hi, h, during, after, start, dur, b):
    """``int_lo^hi h exp(b d(u)) du`` per segment (``hi >= lo``)."""
    width = np.maximum(hi - lo, 0.0)
    if b == 0.0:
        return h * width
    const = np.where(after, np.exp(b * dur)[:, None], 1.0)
    s, d = start[:, None], dur[:, None]
    # exposure clipped to [0, dur]: exact inside the therapy segment, finite elsewhere
    lin = h * (np.exp(b * np.clip(np.maximum(hi, lo) - s, 0, d)) - np.exp(b * np.clip(lo - s, 0, d))) / b
    return np.where(during, lin, h * const * width)


def tv_cumhaz(t: np.ndarray | float, knots, rates, start, dur, b: float) -> np.ndarray:
    """``int_0^t h0(u) exp(b d(u)) du`` per patient (no ``exp(eta)`` factor)."""
    return TherapySegments.build(knots, start, dur).cumhaz(t, rates, b)


def tv_invert(target: np.ndarray, knots, rates, start, dur, b: float) -> np.ndarray:
    """``t`` with ``tv_cumhaz(t) = target`` per patient (exact)."""
    left, right, h, during, after, st, du = _segments(knots, rates, start, dur)
    seg = _seg_integral(left, right, h, during, after, st, du, b)
    cum = np.concatenate([np.zeros((len(start), 1)), np.cumsum(seg, axis=1)[:, :-1]], axis=1)
    j = (cum <= target[:, None]).sum(axis=1) - 1
    rows = np.arange(len(start))
    lo, rem = left[rows, j], target - cum[rows, j]
    hh, dj, aj = h[rows, j], during[rows, j], after[rows, j]
    const = np.where(aj, np.exp(b * du), 1.0)
    t_const = lo + rem / (hh * const)
    if b == 0.0:
        return t_const
    with np.errstate(invalid="ignore", divide="ignore"):
        t_lin = st + np.log(np.exp(b * np.clip(lo - st, 0, du)) + b * rem / hh) / b
    return np.where(dj, t_lin, t_const)


def prepared_therapy(knots, tv: "TherapyDraw | tuple | None") -> tuple | None:
    """``(mask, TherapySegments of the masked patients, b)`` of a time-varying therapy
    :class:`~simulate.therapy_draw.TherapyDraw`; a triple already prepared is passed
    through; ``None`` without therapy or when it leaves OS as it is (no effect, no
    inclusion: :attr:`~simulate.therapy_draw.TherapyDraw.changes_survival`)."""
    if isinstance(tv, tuple):
        return tv
    if tv is None or not tv.changes_survival:
        return None
    m = tv.mask
    entry = tv.entry
    return m, TherapySegments.build(knots, tv.start[m], tv.dur[m], None if entry is None else entry[m]), tv.b


def marginal_survival(times: np.ndarray, knots, rates, lin_pred: np.ndarray, tv=None) -> np.ndarray:
    """Population survival ``mean_i exp(-H(t | x_i))`` at each of ``times``.

    ``tv``: a :class:`~simulate.therapy_draw.TherapyDraw` for patients on time-varying
    therapy (or its :func:`prepared_therapy`).
    """
    cum = cumulative_at_knots(knots, rates)
    risk = np.exp(lin_pred)
    out = np.empty(len(times))
    seg = prepared_therapy(knots, tv)
    for i, t in enumerate(np.asarray(times, float)):
        h = np.full(len(lin_pred), baseline_cumhaz(t, knots, rates, cum))
        if seg is not None:
            mask, segments, b = seg
            h[mask] = segments.cumhaz(t, rates, b)
        out[i] = np.mean(np.exp(-h * risk))
    return out


def curve_median_of(surv, hi: float = 600.0) -> float:
    """Median of a non-increasing survival function ``surv(t)`` by bisection on ``[0, hi]``;
    ``inf`` when ``surv(hi) > 0.5``."""
    lo, up = 0.0, hi
    if surv(up) > 0.5:
        return np.inf
    for _ in range(60):
        mid = 0.5 * (lo + up)
        if surv(mid) > 0.5:
            lo = mid
        else:
            up = mid
    return 0.5 * (lo + up)


def marginal_median(knots, rates, lin_pred, tv=None, *, hi: float = 600.0) -> float:
    """Median of the population survival curve (bisection on a monotone function)."""
    tv = prepared_therapy(knots, tv)  # the therapy segments once, not at each bisection step
    return curve_median_of(lambda t: marginal_survival(np.array([t]), knots, rates, lin_pred, tv)[0], hi)


def draw_times(e: np.ndarray, lin_pred: np.ndarray, knots, rates, cum, tv=None,
               search: SortedCuts | None = None) -> np.ndarray:
    """Event times from unit-exponential draws ``e`` (exact inversion).

    ``tv``: a :class:`~simulate.therapy_draw.TherapyDraw` with ``mask`` over the last
    axis (rows); leading axes (stacked replicates) are inverted row by row like the rest.
    With its inclusion, a row of the arm is drawn given survival to its entry
    (``start + min_months``): its draw is added to the cumulative hazard there, so the
    event time is ``H^-1(H(entry) + e / exp(eta))`` (left truncation, by inversion).
    """
    target = e * np.exp(-lin_pred)
    t = invert_baseline(target, knots, rates, cum, search)
    if tv is not None and tv.changes_survival and tv.mask.any():
        mask, b = tv.mask, tv.b
        tm = target[..., mask]
        if b == 0.0:  # the inclusion alone: the baseline's own H0 from the entry
            entry = tv.start[..., mask] + tv.min_months
            t[..., mask] = invert_baseline(tm + baseline_cumhaz(entry, knots, rates, cum), knots, rates, cum)
            return t
        start, dur = tv.start[..., mask].ravel(), tv.dur[..., mask].ravel()
        goal = tm.ravel()
        if tv.min_months > 0.0:
            goal = goal + tv_cumhaz(start + tv.min_months, knots, rates, start, dur, b)
        t[..., mask] = tv_invert(goal, knots, rates, start, dur, b).reshape(tm.shape)
    return t


@dataclass(frozen=True)
class CoxEstimand:
    """Population Cox estimand of two survival curves: ``hr`` and the information of
    ``log hr`` per unit of curve mass (``var(log hr) = 1 / (n * information)`` in a cohort
    whose curves were scaled to arm shares summing to 1)."""

    hr: float
    information: float


def cox_estimand(grid: np.ndarray, s1: np.ndarray, s0: np.ndarray, *, at_risk1: np.ndarray | None = None,
                 at_risk0: np.ndarray | None = None, weight: np.ndarray | None = None) -> CoxEstimand:
    """Root of the population partial-likelihood score of a one-covariate Cox model.

    Parameters
    ----------
    grid : ndarray
        Increasing times; the integrals use the midpoint rule on its intervals.
    s1, s0 : ndarray
        Expected numbers (or shares) still event-free in the treated and control group on
        ``grid``; their decrements are the events.
    at_risk1, at_risk0 : ndarray, optional
        The risk-set weights on ``grid`` if they are not ``s1``/``s0``: with covariates in
        the model as an offset, ``sum_i exp(eta_i) S_i(t)`` (the conditional Cox estimand).
    weight : ndarray, optional
        The probability of being still under follow-up (censoring survival ``G``) on
        ``grid``: it thins events and risk sets alike (so it cancels in the risk-set share).

    Returns
    -------
    CoxEstimand
        ``hr`` solving ``int (1 - p) dN_1 = int p dN_0`` with ``p = e^b r_1 / (e^b r_1 + r_0)``
        (Struthers & Kalbfleisch 1986), and the information ``int p (1 - p) (dN_1 + dN_0)``.

    References
    ----------
    Struthers CA, Kalbfleisch JD. Misspecified proportional hazard models. Biometrika
    1986;73:363-369.
    """
    from scipy import optimize
    f1, f0 = -np.diff(s1), -np.diff(s0)
    r1 = s1 if at_risk1 is None else at_risk1
    r0 = s0 if at_risk0 is None else at_risk0
    m1, m0 = (r1[1:] + r1[:-1]) / 2, (r0[1:] + r0[:-1]) / 2
    if weight is not None:
        w = (weight[1:] + weight[:-1]) / 2
        f1, f0 = f1 * w, f0 * w

    def share(beta):
        den = np.exp(beta) * m1 + m0
        return np.divide(np.exp(beta) * m1, den, out=np.zeros_like(den), where=den > 0)  # no one at risk: 0

    def score(beta):
        p = share(beta)
        return np.sum((1 - p) * f1) - np.sum(p * f0)

    beta = optimize.brentq(score, -10, 10, xtol=1e-12)
    p = share(beta)
    return CoxEstimand(float(np.exp(beta)), float(np.sum(p * (1 - p) * (f1 + f0))))


def cox_binary_hr(time: np.ndarray, event: np.ndarray, x: np.ndarray, weights: np.ndarray | None = None
                  ) -> float:
    """HR of a single 0/1 covariate from the Cox partial likelihood (Breslow), Newton.

    ``weights``: case weights (default 1), e.g. the calibration sample's patients weighted
    to the cohort's arm sizes; weights of exactly 1 give the unweighted fit to the bit.
    """
    order = np.argsort(-time, kind="stable")
    d, z = event[order].astype(bool), x[order].astype(float)
    w = np.ones(len(z)) if weights is None else np.asarray(weights, float)[order]
    wd = w[d]
    beta = 0.0
    for _ in range(50):
        r = w * np.exp(beta * z)
        s0, s1 = np.cumsum(r), np.cumsum(r * z)
        p = s1[d] / s0[d]
        score = np.sum(wd * (z[d] - p))
        info = np.sum(wd * (p * (1 - p)))
        step = score / max(info, 1e-12)
        beta += step
        if abs(step) < 1e-10:
            break
    return float(np.exp(beta))


#: subjects per block of :func:`marginal_curve`'s outer product (sets its sums' grouping)
_BLOCK = 2048


def marginal_curve(grid: np.ndarray, knots: np.ndarray, rates: np.ndarray, lin_pred: np.ndarray, *,
                   risk_weighted: bool = False) -> np.ndarray:
    """Population survival ``mean_i exp(-H0(t) exp(lin_pred_i))`` on ``grid``.

    ``risk_weighted``: ``mean_i exp(lin_pred_i) exp(-H0(t) exp(lin_pred_i))`` instead, the
    risk-set weight of a Cox model with the linear predictor as offset. Subjects with
    equal linear predictors are evaluated once with their multiplicity (exact), so a
    model with discrete covariates costs a few dozen curves.
    """
    lp, mult = np.unique(lin_pred, return_counts=True)
    h0 = baseline_cumhaz(grid, knots, rates)
    w, risk = mult / len(lin_pred), np.exp(lp)
    if risk_weighted:
        w = w * risk
    out = np.zeros(len(grid))
    # blocks bound the memory of the outer product; one buffer serves every block: a new
    # (2048, grid) array per product and per exp was page faults more than arithmetic.
    # (-r) h is -(r h) exactly (rounding is symmetric), so the values are those of
    # exp(-outer(r, h)) bit for bit
    buf = np.empty((min(len(lp), _BLOCK), len(grid)))
    for lo in range(0, len(lp), _BLOCK):
        r = risk[lo:lo + _BLOCK]
        block = buf[:r.size]
        np.multiply.outer(-r, h0, out=block)
        np.exp(block, out=block)
        out += w[lo:lo + _BLOCK] @ block
    return out


def censoring_survival(grid: np.ndarray, accrual: float, follow_up: float, admin_max: float = np.inf,
                       loss_rate: float = 0.0) -> np.ndarray:
    """``P(C > t)`` for ``C = min(accrual + follow_up - entry, admin_max, loss)`` with
    ``entry ~ U(0, accrual)`` and ``loss ~ Exp(loss_rate)`` (the generator's censoring)."""
    grid = np.asarray(grid, float)
    end = accrual + follow_up
    g = np.clip((end - grid) / accrual, 0.0, 1.0) if accrual > 0 else (grid < end).astype(float)
    return g * (grid < admin_max) * np.exp(-loss_rate * grid)
