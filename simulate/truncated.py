"""Closed-form log density, slope and moments of a family truncated to an interval.

The fit of a printed mean (SD) with a printed split (:mod:`simulate.printed_split`)
evaluates many trial pieces; scipy's frozen distributions and a quadrature of the
quantile map are too slow there, so the moments come from closed forms (partial moments of
the normal, lognormal and gamma distributions), each computed in log space where a tail
holds a tiny mass.
"""
from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["log_density", "log_density_slope", "truncated_moments"]

_LOG_2PI = float(np.log(2 * np.pi))


def _log_diff_ndtr(a: float, b: float) -> float:
    """``log(Phi(b) - Phi(a))`` for ``a < b``, from the tail where it is accurate."""
    if a > 0:
        a, b = -b, -a
    hi, lo = special.log_ndtr(b), special.log_ndtr(a)
    with np.errstate(divide="ignore"):
        return float(hi + np.log1p(-np.exp(lo - hi)))


def _bounds(lower: float | None, upper: float | None) -> tuple[float, float]:
    return (-np.inf if lower is None else lower), (np.inf if upper is None else upper)


def log_density(family: str, theta, x: float) -> float:
    """``log g(x)`` of the untruncated family with :class:`~simulate.families.Family`'s
    ``theta`` (normal: mean, log SD; lognormal: mu, log sigma; gamma: log shape, log scale).
    """
    a, b = np.float64(theta[0]), np.exp(np.float64(theta[1]))
    if family == "normal":
        return -0.5 * ((x - a) / b) ** 2 - np.log(b) - 0.5 * _LOG_2PI
    if family == "lognormal":
        return -np.log(x) - np.log(b) - 0.5 * _LOG_2PI - 0.5 * ((np.log(x) - a) / b) ** 2
    k = np.exp(a)
    return (k - 1) * np.log(x) - x / b - special.gammaln(k) - k * np.log(b)


def log_density_slope(family: str, theta, x: float) -> float:
    """``d log g(x) / dx`` of the untruncated family (``theta`` as :func:`log_density`)."""
    a, b = np.float64(theta[0]), np.exp(np.float64(theta[1]))
    if family == "normal":
        return -(x - a) / b ** 2
    if family == "lognormal":
        return -(1.0 + (np.log(x) - a) / b ** 2) / x
    return (np.exp(a) - 1) / x - 1.0 / b


def _log_partial(family: str, theta, lo: float, hi: float, m: int) -> float:
    """``log E[x^m ; lo < x < hi]`` (lognormal, gamma: x > 0, so the log exists)."""
    a, b = np.float64(theta[0]), np.exp(np.float64(theta[1]))
    if family == "lognormal":
        llo = -np.inf if lo <= 0 else (np.log(lo) - a - m * b * b) / b
        lhi = np.inf if not np.isfinite(hi) else (np.log(hi) - a - m * b * b) / b
        return m * a + 0.5 * (m * b) ** 2 + _log_diff_ndtr(llo, lhi)
    k = np.exp(a) + m                    # gamma: theta^m Gamma(k+m)/Gamma(k) P(k+m, .)
    ulo, uhi = max(lo, 0.0) / b, hi / b
    lower_cdf = special.gammainc(k, ulo)
    if lower_cdf > 0.5:                  # the upper tail holds the accuracy
        p = special.gammaincc(k, ulo) - (special.gammaincc(k, uhi) if np.isfinite(uhi) else 0.0)
    else:
        p = (special.gammainc(k, uhi) if np.isfinite(uhi) else 1.0) - lower_cdf
    with np.errstate(divide="ignore"):
        return m * np.log(b) + special.gammaln(k) - special.gammaln(np.exp(a)) + np.log(max(p, 0.0))


def truncated_moments(family: str, theta, lower: float | None, upper: float | None
                      ) -> tuple[float, float, float]:
    """Log mass, mean and second moment of the family truncated to ``(lower, upper)``.

    Parameters
    ----------
    family : {"normal", "lognormal", "gamma"}
    theta : sequence of float
        As :func:`log_density`.
    lower, upper : float or None
        The interval (None: unbounded; lognormal and gamma live on ``x > 0``).

    Returns
    -------
    tuple of float
        ``log P(lower < x < upper)``, ``E[x | interval]`` and ``E[x^2 | interval]``.

    References
    ----------
    Johnson, Kotz & Balakrishnan, Continuous Univariate Distributions, vol. 1 (1994):
    moments of the truncated normal (ch. 13) and partial moments of the lognormal (ch. 14)
    and gamma (ch. 17).
    """
    lo, hi = _bounds(lower, upper)
    if family == "normal":
        a, b = np.float64(theta[0]), np.exp(np.float64(theta[1]))
        al, be = (lo - a) / b, (hi - a) / b
        log_mass = _log_diff_ndtr(al, be)
        # phi(al) - phi(be) and al phi(al) - be phi(be), relative to the mass
        pa = np.exp(-0.5 * al * al - 0.5 * _LOG_2PI - log_mass) if np.isfinite(al) else 0.0
        pb = np.exp(-0.5 * be * be - 0.5 * _LOG_2PI - log_mass) if np.isfinite(be) else 0.0
        d1 = pa - pb
        d2 = (al * pa if np.isfinite(al) else 0.0) - (be * pb if np.isfinite(be) else 0.0)
        mean = a + b * d1
        second = a * a + 2 * a * b * d1 + b * b * (1.0 + d2)
        return log_mass, float(mean), float(second)
    log_mass = _log_partial(family, theta, lo, hi, 0)
    mean = np.exp(_log_partial(family, theta, lo, hi, 1) - log_mass)
    second = np.exp(_log_partial(family, theta, lo, hi, 2) - log_mass)
    return log_mass, float(mean), float(second)
