"""Inverse probability of treatment weights for many replicates at once.

Row ``r`` of the result is :func:`estimators.weights.iptw_weights_kernel` of row ``r`` of the
input, to the last bit: the same formulas (``_raw_weights``) and percentiles
(``weight_percentiles``, one partition over all rows), shared with the one-replicate kernel.
"""
from __future__ import annotations

import numpy as np

from ..weights import ESTIMANDS, iptw_weights_kernel, weight_percentiles, _raw_weights


def iptw_weights_rows(ps: np.ndarray, z: np.ndarray, estimand: str = "ATE",
                      stabilized: bool = False, truncate: tuple[float, float] | None = None,
                      quantile_type: int = 7) -> np.ndarray:
    """Kernel on trusted ``(R, n)`` arrays (``z`` 0/1, ``ps`` in (0, 1))."""
    if truncate is not None and ESTIMANDS[estimand].focal is not None:
        # truncation over one arm only (ATT/ATC): a different subset per row, row by row
        return np.stack([iptw_weights_kernel(ps[r], z[r], estimand, stabilized, truncate,
                                       quantile_type) for r in range(ps.shape[0])])
    w = _raw_weights(ps, z == 1, estimand, stabilized)
    if truncate is None:
        return w
    lo, hi = weight_percentiles(w, truncate, quantile_type)
    return np.clip(w, lo[:, None], hi[:, None])
