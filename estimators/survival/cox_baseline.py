"""A Cox model with Breslow ties and the risk-set sums of its Breslow baseline hazard, from
one sort of the data.

The working models of the survival ATE estimators (:mod:`.ate_nuisance`) need, besides the
fit, the risk-set sums ``S0_k = sum_{T_j >= t_k} r_j`` and ``S1_k = sum_{T_j >= t_k} r_j x_j``
at the fitted ``r_j = exp((x_j - center)' coef)``. Computed after ``fit_cox`` they take a
second sort of the times, a ``unique`` and two cumulative sums over every row; here they
are read off the fit's own sorted data (:class:`._cox_kernel.RiskSets`): the distinct
event times and death counts it already holds, and one pass of its risk-set sums at the
fitted ``r``. Every number is the one the separate computation gives, to the last bit: the
same products, summed in the same order (rows by decreasing time).

References
----------
Breslow NE (1974). Covariance analysis of censored survival data. Biometrics 30:89-99.
Andersen PK, Borgan O, Gill RD, Keiding N (1993). Statistical Models Based on Counting
Processes, ch. VII.2.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tacebench.records import ArrayRecord
from ..status import Estimability
from ._cox_kernel import RiskSets, risk_sums, score_residuals
from .cox import CoxResult, fit_cox, fit_cox_on
from .cox_point import cox_newton

__all__ = ["BreslowSums", "BreslowWorkingFit", "fit_cox_breslow", "fit_cox_breslow_working"]


@dataclass(frozen=True, eq=False)
class BreslowSums(ArrayRecord):
    """The risk-set sums of a Cox fit's Breslow baseline hazard.

    Attributes
    ----------
    center : (p,) covariate means ``X.mean(axis=0)``.
    r : (n,) ``exp((x_i - center)' coef)`` in input row order.
    times : (K,) distinct event times, ascending.
    deaths : (K,) number of events at each (float).
    s0 : (K,) ``sum_{T_j >= t_k} r_j``.
    s1 : (K, p) ``sum_{T_j >= t_k} r_j (x_j - center)``.
    """

    center: np.ndarray
    r: np.ndarray = field(repr=False)
    times: np.ndarray
    deaths: np.ndarray
    s0: np.ndarray = field(repr=False)
    s1: np.ndarray = field(repr=False)


def fit_cox_breslow(time: np.ndarray, event: np.ndarray, X: np.ndarray
                    ) -> tuple[CoxResult, BreslowSums]:
    """``fit_cox(time, event, X, ones, ties="breslow")`` and the risk-set sums of its
    Breslow baseline hazard at the fitted coefficients, on trusted arrays.

    Parameters
    ----------
    time : (n,) float array
    event : (n,) float array of 0/1
    X : (n, p) float array, ``p >= 1``.

    Returns
    -------
    (CoxResult, BreslowSums)
        The fit is :func:`.cox.fit_cox`'s, to the last bit; the sums use ``coef`` as
        returned (infinite where the likelihood is monotone, as a caller computing them
        from the fit would).

    Notes
    -----
    Trusted-input kernel: no validation, never raises on data.
    """
    n, p = X.shape
    weights = np.ones(n)
    if n == 0:
        fit = fit_cox(time, event, X, weights, ties="breslow")
        empty = np.empty(0)
        return fit, BreslowSums(np.full(p, np.nan), empty, empty, empty, empty,
                                np.empty((0, p)))
    with np.errstate(all="ignore"):  # as fit_cox: degenerate fits are judged from values
        rs = RiskSets(time, event, X, weights, "breslow")
        fit = fit_cox_on(rs, weights, None, False, False, None, _D["conf_level"], _D["max_iter"],
                         _D["tol"], None, "wald")
    return fit, _breslow_sums(rs, X, fit.coef)


def _breslow_sums(rs: RiskSets, X: np.ndarray, coef: np.ndarray) -> BreslowSums:
    """The risk-set sums of the fit ``coef`` on the sorted data ``rs`` of ``X``."""
    with np.errstate(all="ignore"):
        center = X.mean(axis=0)
        r = np.exp((X - center) @ coef)
        # rs's rows are X - center in decreasing-time order (center computed by the same
        # reduction), so these are the products r_j (x_j - center), summed as rs sums them
        S = risk_sums(rs, r.take(rs.order))
    return BreslowSums(center, r, rs.event_times, rs.tw, S[0].copy(),
                       np.ascontiguousarray(S[1:].T))


@dataclass(frozen=True, eq=False)
class BreslowWorkingFit(ArrayRecord):
    """What a working model reads of a Breslow Cox fit: :func:`.cox.fit_cox`'s
    coefficients and status, and the influence function of the coefficients.

    Attributes
    ----------
    coef : (p,) log hazard ratios (``+/-inf`` where the likelihood is monotone).
    status : Estimability
    if_beta : (n, p) ``score_residuals @ inv(information)`` (NaN when the information is
        singular or the fit is).
    """

    coef: np.ndarray
    status: Estimability
    if_beta: np.ndarray = field(repr=False)


def fit_cox_breslow_working(time: np.ndarray, event: np.ndarray, X: np.ndarray
                            ) -> tuple[BreslowWorkingFit, BreslowSums]:
    """:func:`fit_cox_breslow`'s coefficients, status and coefficient influence function,
    and its sums, for at least one row: the fit's own steps (:func:`.cox_point.cox_newton`)
    and score residuals, without the robust variance, limits and p-values that a working
    model does not read. Every number is :func:`fit_cox_breslow`'s to the last bit.

    Parameters
    ----------
    time, event, X
        As :func:`fit_cox_breslow` (n >= 1).

    Returns
    -------
    (BreslowWorkingFit, BreslowSums)
    """
    n, p = X.shape
    if_beta = np.full((n, p), np.nan)     # a singular fit's residuals are NaN
    with np.errstate(all="ignore"):  # as fit_cox_breslow: judged from the values
        rs = RiskSets(time, event, X, np.ones(n), "breslow")
        fit = cox_newton(rs, _D["max_iter"], _D["tol"])
        if not fit.singular:
            resid = score_residuals(rs, fit.evaluation)
            try:
                if_beta = resid @ np.linalg.inv(fit.evaluation.information)
            except np.linalg.LinAlgError:
                pass
        coef = fit.coef
    return BreslowWorkingFit(coef, fit.status, if_beta), _breslow_sums(rs, X, coef)


#: fit_cox's defaults (conf_level, max_iter, tol), which the fit above uses
_D = fit_cox.__kwdefaults__
