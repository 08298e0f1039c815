"""The Cox fit's coefficients, model-based covariance and status alone (trusted input).

A replication analysis that reports a hazard ratio from a multivariable Cox model (and the
forward selection that builds one) reads only the coefficients, the model-based covariance
and whether the fit is an estimate; :func:`estimators.survival.cox.fit_cox` also computes
the score residuals, the robust variance, Wald limits and p-values, which at a few hundred
rows cost a third as much as the fit. :func:`cox_point_kernel` takes ``fit_cox``'s own
steps for those three (risk sets, the singular check at 0, Newton-Raphson from 0, the
inverse information, the monotone-likelihood rule) and nothing else, so its numbers are
``fit_cox``'s bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tacebench.records import ArrayRecord
from ..status import Estimability, cox_status
from ._cox_kernel import Evaluation, RiskSets, evaluate, evaluate_scalar, newton, solve_pd
from .cox_estimability import monotone_coefficients, singular_columns

__all__ = ["CoxNewton", "CoxPoint", "cox_newton", "cox_point_kernel", "inverse_information"]


@dataclass(frozen=True, eq=False)
class CoxPoint(ArrayRecord):
    """A Cox fit's point estimates.

    Attributes
    ----------
    coef : (p,) float array
        Log hazard ratios; ``+/-inf`` where the likelihood is monotone, NaN if singular.
    var : (p, p) float array
        Model-based covariance (the inverse information at the estimate); NaN if singular.
    status : Estimability
        :func:`estimators.status.cox_status` of the fit.
    risk_sets : RiskSets or None
        The fit's sorted data (None without rows), which a fit of the same data with other
        weights may reuse (``like`` of :func:`cox_point_kernel`).
    """

    coef: np.ndarray
    var: np.ndarray
    status: Estimability
    risk_sets: RiskSets | None = field(default=None, repr=False, compare=False)


def inverse_information(info: np.ndarray) -> np.ndarray:
    """The model-based covariance ``I^-1`` of a Cox fit from its information ``I`` (p, p):
    by Cholesky (LAPACK ``dposv``), NaN unless ``I`` is positive definite."""
    p = info.shape[0]
    if p == 1:  # as dposv, without its call
        return 1.0 / info if info[0, 0] > 0 else np.full((1, 1), np.nan)
    try:
        return solve_pd(info, np.eye(p))
    except np.linalg.LinAlgError:
        return np.full((p, p), np.nan)


def cox_point_kernel(time: np.ndarray, event: np.ndarray, X: np.ndarray,
                     weights: np.ndarray, ties: str = "efron", max_iter: int = 50,
                     tol: float = 1e-9, like: RiskSets | None = None) -> CoxPoint:
    """Cox partial-likelihood fit: ``fit_cox(time, event, X, weights, ties=ties)``'s
    ``coef``, ``var`` (model-based) and ``status``.

    Parameters
    ----------
    time : (n,) float array
    event : (n,) float array of 0/1
    X : (n, p) float array, p >= 1
    weights : (n,) float array
        Positive case weights.
    ties : {"efron", "breslow"}
    max_iter, tol : int, float
        As :func:`estimators.survival.cox.fit_cox`.
    like : RiskSets, optional
        ``risk_sets`` of an earlier fit of the same ``time``, ``event``, ``X`` and
        ``ties``, whatever its weights: its sort and tie bookkeeping are reused
        (:meth:`RiskSets.reweighted`); the numbers are the same.

    Returns
    -------
    CoxPoint

    Notes
    -----
    Trusted-input kernel: no validation, never raises on data (nor checks that ``like``
    is of the same data).

    References
    ----------
    Therneau TM, Grambsch PM (2000) Modeling Survival Data: Extending the Cox Model.
    Springer; R package survival, ``coxph.fit``.
    """
    p = X.shape[1]
    if time.shape[0] == 0:  # fit_cox's "no observations"
        return CoxPoint(np.full(p, np.nan), np.full((p, p), np.nan), Estimability.NO_EVENTS)
    rs = RiskSets(time, event, X, weights, ties) if like is None else like.reweighted(weights)
    fit = cox_newton(rs, max_iter, tol)
    return CoxPoint(fit.coef, fit.naive, fit.status, rs)


@dataclass(frozen=True, eq=False)
class CoxNewton(ArrayRecord):
    """The steps of :func:`estimators.survival.cox.fit_cox` from ``beta = 0`` that its
    point estimates are made of (:func:`cox_newton`).

    Attributes
    ----------
    n_events : int
    singular : bool
        A column has no variation within the risk sets at event times (then ``beta``,
        ``naive`` are NaN and ``evaluation`` None).
    beta : (p,) float array
        The last Newton iterate.
    evaluation : Evaluation or None
        The partial likelihood's evaluation at ``beta`` (score residuals read it).
    converged : bool
    naive : (p, p) float array
        The model-based covariance (:func:`inverse_information`).
    infinite : (p,) bool array
        The coefficients the monotone-likelihood rule judges diverging.
    """

    n_events: int
    singular: bool
    beta: np.ndarray
    evaluation: Evaluation | None
    converged: bool
    naive: np.ndarray
    infinite: np.ndarray

    @property
    def coef(self) -> np.ndarray:
        """``beta`` with a diverging coefficient as ``+/-inf``."""
        coef = self.beta.copy()
        coef[self.infinite] = np.sign(self.beta[self.infinite]) * np.inf
        return coef

    @property
    def status(self) -> Estimability:
        """:func:`estimators.status.cox_status` of the fit."""
        return cox_status(self.n_events, self.singular, bool(self.infinite.any()),
                          self.converged, self.coef)


def cox_newton(rs: RiskSets, max_iter: int = 50, tol: float = 1e-9) -> CoxNewton:
    """``fit_cox``'s fit on the sorted data ``rs`` (at least one row) from ``beta = 0``:
    the singular check at 0, Newton-Raphson, the inverse information and the monotone
    rule, nothing else (the kernels of :mod:`estimators.survival.cox_point` and
    :mod:`estimators.matching_cox` build on it; their numbers are ``fit_cox``'s).

    Parameters
    ----------
    rs : RiskSets
    max_iter, tol : int, float
        As :func:`estimators.survival.cox.fit_cox`.

    Returns
    -------
    CoxNewton
    """
    p = rs.p
    n_events = int(np.count_nonzero(rs.d))
    evaluate_fn = evaluate if p > 1 else evaluate_scalar
    beta0 = np.zeros(p)
    with np.errstate(all="ignore"):  # degenerate fits are judged from the values
        first = evaluate_fn(rs, beta0)
        if singular_columns(rs, first.information).any():
            return CoxNewton(n_events, True, np.full(p, np.nan), None, False,
                             np.full((p, p), np.nan), np.zeros(p, dtype=bool))
        beta, ev, _, _, converged = newton(rs, beta0, max_iter, tol, evaluate_fn, first)
        naive = inverse_information(ev.information)
        infinite = monotone_coefficients(rs, ev, beta, naive)
    return CoxNewton(n_events, False, beta, ev, converged, naive, infinite)
