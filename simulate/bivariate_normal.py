"""The standard bivariate normal distribution function, exactly (Owen's T function).

A leaf of :mod:`simulate`: the PFS truths (:mod:`simulate.potential_curves`) and the
response thresholds of a later assessment (:mod:`simulate.response_cuts`) both need it.
"""
from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["bivariate_normal_cdf"]


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """``P(X < h, Y < k)`` for standard bivariate normal ``(X, Y)`` with correlation ``rho``.

    Owen (1956): ``Phi2 = (Phi(h) + Phi(k)) / 2 - T(h, a_h) - T(k, a_k) - delta`` with
    Owen's T function, ``a_h = (k - rho h) / (h sqrt(1 - rho^2))`` (``a_k`` likewise) and
    ``delta = 1/2`` when ``h k < 0`` (or one is 0 and ``h + k < 0``), else 0.
    """
    h = np.asarray(h, float)
    k = np.asarray(k, float)
    if rho == 0.0:
        return special.ndtr(h) * special.ndtr(k)
    h = np.where(h == 0.0, 1e-300, h)  # T(0, a) is the limit from either side: same value
    k = np.where(k == 0.0, 1e-300, k)
    c = np.sqrt(1.0 - rho * rho)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        t = special.owens_t(h, (k - rho * h) / (h * c)) + special.owens_t(k, (h - rho * k) / (k * c))
    delta = np.where(h * k < 0, 0.5, 0.0)
    return np.clip(0.5 * (special.ndtr(h) + special.ndtr(k)) - t - delta, 0.0, 1.0)
