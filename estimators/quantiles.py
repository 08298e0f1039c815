"""The (weighted) median of a sample, as a Table 1 prints it for a covariate.

Unweighted, the usual sample median (the middle value, or the mean of the two middle
values; R's ``median``). Weighted (an IPTW or matched Table 1), the midpoint of the lower and
upper weighted medians: the smallest ``x`` whose cumulative weight reaches half the total,
and the smallest whose cumulative weight exceeds it. With equal weights this is the usual
median; with integer (frequency) weights it is the median of the sample with each value
repeated ``w`` times; with other weights the cumulative weight almost never equals half the
total exactly, and it is the inverse of the weighted distribution function at 1/2 (the
``qrule = "math"`` rule of R's ``survey::svyquantile``).
"""
from __future__ import annotations

import numpy as np

__all__ = ["weighted_median"]

#: cumulative weights this close (relative to the total) to half the total count as equal
_TIE = 1e-12


def weighted_median(x, weights=None) -> float:
    """Median of ``x``, weighted by ``weights`` if given.

    Parameters
    ----------
    x : array_like
        Finite values (at least one).
    weights : array_like, optional
        Non-negative weights, same length, positive total.

    Returns
    -------
    float

    References
    ----------
    Lumley T. survey: analysis of complex survey samples. R package, ``svyquantile``
    (``qrule = "math"``: the inverse of the weighted distribution function).
    Hyndman RJ, Fan Y. Sample quantiles in statistical packages. Am Stat 1996;50:361-5.
    """
    x = np.asarray(x, float)
    if weights is None:
        return float(np.median(x))
    w = np.asarray(weights, float)
    order = np.argsort(x, kind="stable")
    xs, cw = x[order], np.cumsum(w[order])
    half, tol = cw[-1] / 2.0, _TIE * cw[-1]
    last = len(xs) - 1
    lower = xs[min(int(np.searchsorted(cw, half - tol, side="left")), last)]
    upper = xs[min(int(np.searchsorted(cw, half + tol, side="right")), last)]
    return float(0.5 * (lower + upper))
