"""Small numerical helpers shared by the survival estimators (no validation, no pandas)."""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import ndtr, ndtri


#: R's tolerance in ``minmin`` (a module constant: ``np.finfo`` costs a microsecond a call)
_SQRT_EPS = math.sqrt(np.finfo(float).eps)


def z_value(conf_level: float) -> float:
    """Two-sided normal quantile, e.g. 1.959964 for ``conf_level=0.95``."""
    try:
        return _z_of_level(conf_level)
    except TypeError:  # an unhashable level (a 0-d array): computed as below
        return float(ndtri(0.5 + conf_level / 2.0))


@functools.lru_cache(maxsize=64)
def _z_of_level(conf_level: float) -> float:
    # every confidence interval and KM median asks for the same few levels: the ufunc
    # call on a Python scalar costs more than the rest of a small interval
    return float(ndtri(0.5 + conf_level / 2.0))


def two_sided_p(z):
    """Two-sided normal p-value for a z statistic (array or scalar)."""
    return 2.0 * ndtr(-np.abs(z))


def loglog_ci(surv: np.ndarray, se_log: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log-log ("complementary log-log") interval for a survival probability.

    With ``se_log`` the standard error of log S (R's ``survfit()$std.err``), R's
    ``survfit_confint(conf.type="log-log")`` gives
    ``exp(-exp(log(-log S) -/+ z * se_log / log S))``. As in R the interval is undefined
    (NaN) where S is 0 or 1.
    """
    s = np.where((surv > 0.0) & (surv < 1.0), surv, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(s)
        shift = z * se_log / logs
        cll = np.log(-logs)
        # both limits in one (2, m) array: the elementwise operations of
        # exp(-exp(cll -/+ shift)) once each instead of twice (the same doubles)
        out = np.empty((2,) + cll.shape)
        np.subtract(cll, shift, out=out[0])
        np.add(cll, shift, out=out[1])
        np.exp(out, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)
    return out[0], out[1]


def first_crossing(curve: np.ndarray, times: np.ndarray, p: float = 0.5) -> float:
    """Time at which a step curve first reaches ``p``, as R's ``print.survfit`` median rule.

    R (``survival:::survmean``, function ``minmin``): the first time with curve <= p (to
    sqrt(eps)); if the curve is exactly p there and drops lower later, the midpoint between
    that time and the next time it drops below p. NaN entries (undefined CI bounds) never
    qualify. Returns ``inf`` when the curve never reaches p ("not reached").
    """
    tol = _SQRT_EPS
    keep = (curve < p + tol).nonzero()[0]  # NaN compares False: skipped as in R
    if keep.size == 0:
        return math.inf
    first = keep[0]
    y0 = curve[first]
    if abs(y0 - p) < tol:
        below = keep[curve[keep] < y0]
        if below.size:
            return float(0.5 * (times[first] + times[below[0]]))
    return float(times[first])
