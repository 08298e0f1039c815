"""Two-group log-rank tests for many replicates at once.

Unweighted: the Mantel–Haenszel log-rank chi-square of
:func:`estimators.survival.logrank.logrank_kernel` (k = 2; R ``survdiff``). With weights: the
Xie & Liu (2005) IPTW log-rank of :func:`estimators.survival.logrank.logrank_iptw_kernel`, whose
z is returned squared. Each tie group contributes once, at its last sorted row.
"""
from __future__ import annotations

import numpy as np

from ._sorted import SortedRows


def _logrank_rows(s: SortedRows, event: np.ndarray, group: np.ndarray,
                  weights: np.ndarray | None) -> np.ndarray:
    """Kernel: ``event``, ``group`` (0/1) and ``weights`` (R, n) in input order; returns
    the chi-square statistic of every replicate (R,). Rows of weight 0 take no part: the
    head counts at risk and the deaths count the rows of positive weight only."""
    R, n = s.R, s.n
    e = s.take(event)
    g = s.take(group)
    w = None if weights is None else s.take(weights)
    kept = np.ones(R * n) if w is None else (w > 0).astype(np.float64)
    at_last = np.arange(R * n) == s.last
    y = s.rev_cumsum_at_first(kept)
    y1 = s.rev_cumsum_at_first(g * kept)
    d = s.group_sum(e * kept)
    with np.errstate(divide="ignore", invalid="ignore"):
        if weights is None:
            d1 = s.group_sum(e * g)
            f1 = y1 / y
            hyper = np.where(y > 1, d * (y - d) / (y - 1), 0.0)
            u = np.where(at_last, d1 - d * f1, 0.0)
            v = np.where(at_last, hyper * f1 * (1.0 - f1), 0.0)
            left_out = _group_left_out(s, at_last & (d > 0), g, y, y1)
        else:
            w1 = w * g
            w0 = w - w1
            wy = (s.rev_cumsum_at_first(w0), s.rev_cumsum_at_first(w1))
            w2y = (s.rev_cumsum_at_first(w0 * w0), s.rev_cumsum_at_first(w1 * w1))
            wd = (s.group_sum(e * w0), s.group_sum(e * w1))
            haz = [np.where(wy[k] > 0, wd[k] / wy[k], 0.0) for k in (0, 1)]
            inv_eff = [np.where(wy[k] > 0, w2y[k] / wy[k] ** 2, 0.0) for k in (0, 1)]
            hyper = np.where(y > 1, d * (y - d) / (y * (y - 1)), 0.0)
            a = np.where(y > 0, (y - y1) * y1 / y, 0.0)  # y 0: only weight-0 rows left
            u = np.where(at_last, a * (haz[1] - haz[0]), 0.0)
            v = np.where(at_last, hyper * a * a * (inv_eff[0] + inv_eff[1]), 0.0)
        U = u.reshape(R, n).sum(axis=1)
        V = v.reshape(R, n).sum(axis=1)
        chi2 = np.where(V > 0, U * U / V, np.nan)
    if weights is None:
        chi2[left_out] = 0.0
    return chi2


def _group_left_out(s: SortedRows, at_death: np.ndarray, g: np.ndarray, y: np.ndarray,
                    y1: np.ndarray) -> np.ndarray:
    """Replicates (R,) with rows of both groups of which one has nobody at risk at any
    event time: R ``survdiff`` leaves that group out (expected count 0) and, one group
    being left, reports chi-square 0 on 0 df (the one-replicate ``logrank_kernel``'s 0).
    ``at_death`` marks the sorted positions of event times (each tie group's last row)."""
    R, n = s.R, s.n
    at_risk1 = (at_death & (y1 > 0)).reshape(R, n).any(axis=1)
    at_risk0 = (at_death & (y - y1 > 0)).reshape(R, n).any(axis=1)
    rows = g.reshape(R, n)
    both = rows.any(axis=1) & ~rows.all(axis=1)
    return both & (at_risk0 != at_risk1)
