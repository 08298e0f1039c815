"""Weighted Kaplan–Meier medians for many replicates (and groups) at once.

Row ``r`` gives the median of :func:`estimators.survival.km.fit_km` on the rows of
replicate ``r`` in the group, by R's ``print.survfit`` rule (the first time with S <= 0.5
to sqrt(eps); the midpoint to the next drop when S equals 0.5 exactly; ``inf`` when not
reached). The survival curve is the same product ``prod (n_risk - n_event) / n_risk``
over the same tie groups; rows outside the group enter with weight 0, which multiplies
the curve by exactly 1.
"""
from __future__ import annotations

import math

import numpy as np

from ._sorted import SortedRows

_TOL = math.sqrt(np.finfo(float).eps)


def km_median_rows(s: SortedRows, event: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Kernel: ``event`` and ``weights`` (R, n) in input order, weight 0 for rows outside
    the group. Returns the medians (R,)."""
    return _km_rows(s, event, weights)[0]


def _km_rows(s: SortedRows, event: np.ndarray, weights: np.ndarray, times=()
             ) -> tuple[np.ndarray, np.ndarray]:
    """Medians (R,) and S(t) at ``times`` (R, len(times)): 1 before the first time, NaN
    after the group's last time unless S has reached 0 (``KaplanMeier.survival_at``)."""
    R, n = s.R, s.n
    w = s.take(weights)
    d = s.take(event) * w  # weighted deaths
    n_risk, later = s.rev_cumsums(w)
    # the survivors of a tie group: everyone after it plus its censored rows, so that a
    # last group of deaths leaves exactly 0 (a difference of sums could leave 1e-17)
    surviving = later + s.group_sum(w - d)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = surviving / n_risk
    # one factor per tie group (at its last row), and 1 where the group has nobody at risk
    at_last = np.arange(R * n) == s.last
    factor = np.where(at_last & (n_risk > 0), factor, 1.0)
    S = np.cumprod(factor.reshape(R, n), axis=1)
    below = S < 0.5 + _TOL
    reached = below.any(axis=1)
    first = below.argmax(axis=1)
    rows = np.arange(R)
    t = s.time
    med = np.where(reached, t[rows, first], np.inf)
    y0 = S[rows, first]
    for r in np.flatnonzero(reached & (np.abs(y0 - 0.5) < _TOL)):  # exactly one half
        lower = np.flatnonzero(S[r] < y0[r])
        if lower.size:
            med[r] = 0.5 * (t[r, first[r]] + t[r, lower[0]])
    times = np.asarray(times, dtype=np.float64)
    at = np.empty((R, times.size))
    if times.size:
        in_group = (w > 0).reshape(R, n)
        last_t = np.where(in_group, t, -np.inf).max(axis=1)
        end = S[:, -1]
        for j, tau in enumerate(times):
            k = (t <= tau).sum(axis=1) - 1
            v = np.where(k < 0, 1.0, S[rows, np.maximum(k, 0)])
            at[:, j] = np.where((tau > last_t) & (end > 0), np.nan, v)
    return med, at
