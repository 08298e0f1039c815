"""Estimability of a Cox fit: the coefficients of a monotone likelihood and the columns
without information, as R's ``coxph`` reports them (its "Loglik converged before variable
... ; coefficient may be infinite" and "X matrix deemed to be singular"). Used by
:func:`cox.fit_cox` to set the fit's :class:`~estimators.status.Estimability`.

References
----------
Therneau TM, survival package, ``coxph.fit`` (``toler.inf``) and ``coxph.detail``.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["diverges_scalar", "diverging", "monotone_coefficients", "singular_columns"]


#: Standardized coefficient size, and standardized SE, taken as infinite
#: (see monotone_coefficients).
_INFINITE_SD = 25.0
_LOST_SE_SD = 1e4


def monotone_coefficients(rs, ev, beta, naive) -> np.ndarray:
    # After convergence of the log-likelihood a diverging coefficient is still moving: the
    # next Newton step stays of order one standardized unit while a finite MLE's is ~0
    # (the criterion of R's coxph, ``abs(u %*% var) > toler.inf * abs(coef)``, made
    # scale-free with the covariate SD).
    # Also infinite: a coefficient whose information has vanished numerically (standardized
    # SE above 1e4) or that is beyond 25 covariate SDs (an HR of e^25 = 7e10 per SD). There
    # the partial likelihood's remaining dependence on it sits below double precision, the
    # score rounds to 0 and the step test above cannot see it move (found by hypothesis:
    # one tied event time whose deaths are all treated; Newton stopped at beta = 41 with
    # SE 1.7e8 after two steps).
    if rs.p == 1:  # one coefficient (a treatment): the rule on Python floats
        v = float(naive[0, 0])
        return np.array([diverges_scalar(float(beta[0]), abs(v * float(ev.score[0])),
                                   math.sqrt(abs(v)), float(rs.sd[0]))])
    return diverging(beta, np.abs(naive @ ev.score), np.sqrt(np.abs(naive.diagonal())), rs.sd)


def diverging(beta, step, se, sd) -> np.ndarray:
    """The rule of :func:`monotone_coefficients` on arrays of coefficients ``beta``, the
    size of the Newton step after convergence ``step``, model SEs ``se`` and covariate SDs
    ``sd`` (one per coefficient, or per replicate of a batched fit)."""
    lost = (np.abs(beta) * sd > _INFINITE_SD) | (se * sd > _LOST_SE_SD)
    return lost | ~((step * sd <= 1e-3) | (step <= 1e-4 * np.abs(beta)))


def diverges_scalar(beta: float, step: float, se: float, sd: float) -> bool:
    """:func:`diverging` of one coefficient: the same IEEE operations (a 1 x 1 product is
    one rounded multiplication, the square root is correctly rounded), NaN comparing
    False as there, without a dozen array operations on single entries."""
    lost = abs(beta) * sd > _INFINITE_SD or se * sd > _LOST_SE_SD
    return lost or not (step * sd <= 1e-3 or step <= 1e-4 * abs(beta))


def singular_columns(rs, info) -> np.ndarray:
    """Columns on which the data carry no information (constant within every risk set
    with an event, or collinear there), judged from the information at the start: R's
    coxph reports these coefficients as NA ("X matrix deemed to be singular")."""
    d = info.diagonal()
    flat = ~(d > 1e-10 * rs.spread)
    if flat.any() or rs.p == 1:
        return flat
    try:
        chol = np.linalg.cholesky(info / np.sqrt(np.outer(d, d)))
    except np.linalg.LinAlgError:
        return np.ones(rs.p, dtype=bool)
    if chol.diagonal().min() ** 2 < 1e-10:
        return np.ones(rs.p, dtype=bool)
    return flat
