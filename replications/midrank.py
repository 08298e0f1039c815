"""The mid-rank empirical CDF of simulated draws and its central interval.

The arithmetic that :mod:`replications.verdicts` specifies under **Position and z** and
**Verdict**: at a value ``u`` taken by ``m`` of ``n`` draws with ``c`` draws below it,
``F(u) = (c + m/2) / n``, interpolated linearly between consecutive distinct finite
values and flat across a gap to an infinite draw; ``[lo, hi]`` is the set of values
whose position lies in the central ``level``. A judgement builds the *ladder* of its
draws (distinct values, their mid-rank positions and the share at or below each) once
and reads its interval and its position off it.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["tie_blocks", "ladder_of", "sorted_ladder", "cdf_on", "interval_on", "midrank_cdf",
           "midrank_interval"]


def ladder_of(v: np.ndarray):
    """Distinct values of the draws ``v`` and their mid-rank positions (and the share at or
    below each)."""
    return sorted_ladder(np.sort(v))


def sorted_ladder(v: np.ndarray):
    """:func:`ladder_of` of draws already sorted (no NaN): ``np.unique``'s values and counts,
    without its sort and its checks (a judgement builds one ladder for its interval and
    its position, thousands of times in a study's reading choice)."""
    starts, counts = tie_blocks(v)
    cum = np.cumsum(counts)
    return v[starts], (cum - counts / 2.0) / v.size, cum / v.size


def tie_blocks(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal values of the sorted array ``v`` starts, and its length."""
    first = np.empty(v.size, dtype=bool)
    first[:1] = True
    np.not_equal(v[1:], v[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return starts, np.diff(np.append(starts, v.size))


def midrank_cdf(draws, x: float) -> float:
    """Mid-rank empirical CDF of ``draws`` (no NaN; +-inf allowed) at ``x``, interpolated
    linearly between consecutive distinct finite values (see the module notes)."""
    return cdf_on(ladder_of(np.asarray(draws, dtype=float)), x)


def cdf_on(ladder, x: float) -> float:
    """:func:`midrank_cdf` at ``x`` read off a ladder (:func:`ladder_of`)."""
    u, P, below = ladder
    if x < u[0]:
        return 0.0
    if x > u[-1]:
        return 1.0
    j = int(np.searchsorted(u, x))
    if u[j] == x:
        return float(P[j])
    a, b = u[j - 1], u[j]                       # a < x < b
    if not (math.isfinite(a) and math.isfinite(b)):
        return float(below[j - 1])              # flat across a gap to an infinite draw
    return float(P[j - 1] + (P[j] - P[j - 1]) * (x - a) / (b - a))


def midrank_interval(draws, level: float = 0.95) -> tuple[float, float]:
    """``[lo, hi]``: the values whose mid-rank position lies in the central ``level``
    (``F(lo) = (1 - level) / 2``, ``F(hi) = (1 + level) / 2``; a tie block straddling a
    bound excludes its value when its mid-rank falls outside)."""
    return interval_on(ladder_of(np.asarray(draws, dtype=float)), level)


def interval_on(ladder, level: float = 0.95) -> tuple[float, float]:
    """:func:`midrank_interval` read off a ladder (:func:`ladder_of`)."""
    u, P, below = ladder
    p_lo, p_hi = (1 - level) / 2, (1 + level) / 2
    # lo: the smallest x with F(x) >= p_lo
    j = int(np.argmax(P >= p_lo))
    if j == 0 or P[j] == p_lo:
        lo = u[j]
    elif math.isfinite(u[j - 1]) and math.isfinite(u[j]):
        lo = u[j - 1] + (p_lo - P[j - 1]) / (P[j] - P[j - 1]) * (u[j] - u[j - 1])
    else:
        lo = u[j - 1] if below[j - 1] >= p_lo else u[j]
    # hi: the largest x with F(x) <= p_hi
    j = len(P) - 1 - int(np.argmax(P[::-1] <= p_hi))
    if j == len(P) - 1 or P[j] == p_hi:
        hi = u[j]
    elif math.isfinite(u[j]) and math.isfinite(u[j + 1]):
        hi = u[j] + (p_hi - P[j]) / (P[j + 1] - P[j]) * (u[j + 1] - u[j])
    else:
        hi = u[j + 1] if below[j] <= p_hi else u[j]
    return float(lo), float(hi)
