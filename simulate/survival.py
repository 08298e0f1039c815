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

import numpy as np

from .search import SortedCuts


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


def _segments(knots, rates, start, dur):
    """Per-patient segments between breakpoints: left/right ends, hazard, exposure phase."""
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
    return left, right, rates[k], during, after, start, stop - start


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
    left, right, h, during, after, st, du = _segments(knots, rates, start, dur)
    t = np.broadcast_to(np.asarray(t, float), start.shape)[:, None]
    return _seg_integral(np.minimum(left, t), np.minimum(right, t), h, during, after, st, du, b).sum(axis=1)


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


def marginal_survival(times: np.ndarray, knots, rates, lin_pred: np.ndarray, tv=None) -> np.ndarray:
    """Population survival ``mean_i exp(-H(t | x_i))`` at each of ``times``.

    ``tv``: ``(mask, start, dur, b)`` for patients on time-varying therapy.
    """
    cum = cumulative_at_knots(knots, rates)
    risk = np.exp(lin_pred)
    out = np.empty(len(times))
    for i, t in enumerate(np.asarray(times, float)):
        h = np.full(len(lin_pred), baseline_cumhaz(t, knots, rates, cum))
        if tv is not None and tv[3] != 0.0:
            mask, start, dur, b = tv
            h[mask] = tv_cumhaz(t, knots, rates, start[mask], dur[mask], b)
        out[i] = np.mean(np.exp(-h * risk))
    return out


def marginal_median(knots, rates, lin_pred, tv=None, *, hi: float = 600.0) -> float:
    """Median of the population survival curve (bisection on a monotone function)."""
    lo, up = 0.0, hi
    if marginal_survival(np.array([up]), knots, rates, lin_pred, tv)[0] > 0.5:
        return np.inf
    for _ in range(60):
        mid = 0.5 * (lo + up)
        if marginal_survival(np.array([mid]), knots, rates, lin_pred, tv)[0] > 0.5:
            lo = mid
        else:
            up = mid
    return 0.5 * (lo + up)


def draw_times(e: np.ndarray, lin_pred: np.ndarray, knots, rates, cum, tv=None,
               search: SortedCuts | None = None) -> np.ndarray:
    """Event times from unit-exponential draws ``e`` (exact inversion).

    ``tv``: ``(mask, start, dur, b)`` with ``mask`` over the last axis (rows); leading
    axes (stacked replicates) are inverted row by row like the rest.
    """
    target = e * np.exp(-lin_pred)
    t = invert_baseline(target, knots, rates, cum, search)
    if tv is not None and tv[3] != 0.0:
        mask, start, dur, b = tv
        if mask.any():
            tm = target[..., mask]
            t[..., mask] = tv_invert(tm.ravel(), knots, rates, start[..., mask].ravel(),
                                     dur[..., mask].ravel(), b).reshape(tm.shape)
    return t
