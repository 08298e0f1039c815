"""Inverse probability of treatment weights for many replicates at once.

Row ``r`` of the result is :func:`estimators.weights._iptw_weights` of row ``r`` of the
input, to the last bit: the same formulas, and truncation at type-7 percentiles with the
same interpolation arithmetic, computed by one partition over all rows.
"""
from __future__ import annotations

import numpy as np

from ..weights import ESTIMANDS, _iptw_weights


def iptw_weights_rows(ps: np.ndarray, z: np.ndarray, estimand: str = "ATE",
                      stabilized: bool = False, truncate: tuple[float, float] | None = None,
                      quantile_type: int = 7) -> np.ndarray:
    """Kernel on trusted ``(R, n)`` arrays (``z`` 0/1, ``ps`` in (0, 1))."""
    focal = ESTIMANDS[estimand].focal
    if (focal is not None and truncate is not None) or quantile_type != 7:
        # truncation over one group only (ATT/ATC), or numpy's type 3: row by row
        return np.stack([_iptw_weights(ps[r], z[r], estimand, stabilized, truncate,
                                       quantile_type) for r in range(ps.shape[0])])
    t = z == 1
    if estimand == "ATE":
        w = np.where(t, 1.0 / ps, 1.0 / (1.0 - ps))
        if stabilized:
            p1 = t.mean(axis=1, keepdims=True)
            w = w * np.where(t, p1, 1.0 - p1)
    elif estimand == "ATT":
        w = np.where(t, 1.0, ps / (1.0 - ps))
    elif estimand == "ATC":
        w = np.where(t, (1.0 - ps) / ps, 1.0)
    else:  # ATO
        w = np.where(t, 1.0 - ps, ps)
    if truncate is None:
        return w
    lo, hi = _percentiles_rows(w, truncate)
    return np.clip(w, lo[:, None], hi[:, None])


def _percentiles_rows(w: np.ndarray, percents) -> tuple[np.ndarray, np.ndarray]:
    # estimators.weights._percentiles (type 7), one partition for all rows
    n = w.shape[1]
    v = (n - 1) * (np.asarray(percents, dtype=np.float64) / 100.0)
    below = np.floor(v).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    part = np.partition(w, np.unique(np.concatenate((below, above))), axis=1)
    a, b = part[:, below], part[:, above]
    g = v - below
    diff = b - a
    q = np.where(g >= 0.5, b - diff * (1.0 - g), a + diff * g)
    return q[:, 0], q[:, 1]
