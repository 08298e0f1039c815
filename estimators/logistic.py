"""Logistic regression by IRLS: the validating front end of the Newton kernel.

``logistic_regression`` validates its arrays once and hands them to :func:`fit_validated`,
which :func:`estimators.propensity.propensity_score` also calls on a design it has already
validated from a frame. The fit is :func:`estimators.logistic_fit.fit_logistic`, run to a
tight tolerance so that it agrees with R's ``glm(family = binomial)`` and statsmodels'
``Logit``/``GLM`` to ~1e-10. The result carries what the stacked estimating-equation
(M-estimation) variance of an IPTW estimator needs: the per-observation score contributions
and the Hessian of the log-likelihood.

Separation (complete or quasi-complete; Albert & Anderson 1984) makes the maximum-likelihood
estimate infinite. It is detected exactly with the linear program of Konis (2007, the
``safeBinaryRegression`` / ``detectseparation`` check), not guessed from a large coefficient.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from scipy import linalg

from tacebench.records import ArrayRecord

from ._checks import (
    as_float_array,
    check_binary,
    check_choice,
    check_finite,
    check_flag,
    check_lengths,
    check_positive,
    check_positive_int,
    check_weights,
)
from .full_rank import check_full_rank
from .logistic_fit import (_MAX_ITER, _TOL, LogisticFit, fit_logistic, fit_logistic_started,
                           information_at_zero)
from .status import Estimability

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["LogisticResult", "SeparationError", "check_full_rank", "fit_validated",
           "logistic_regression"]


class SeparationError(ValueError):
    """The outcome is (quasi-)completely separated: the MLE does not exist."""


@dataclass(frozen=True, eq=False)
class LogisticResult(ArrayRecord):
    """A fitted (weighted) logistic regression.

    Attributes
    ----------
    coef, se : (p,) arrays
        Estimates and model-based standard errors ``sqrt(diag((X' W V X)^-1))``, as R's
        ``summary(glm(...))`` (dispersion 1).
    cov : (p, p) array
        Model-based covariance, the inverse of ``-hessian``.
    robust_cov : (p, p) array
        Sandwich (Huber–White, HC0) covariance ``H^-1 (sum_i U_i U_i') H^-1``, as
        ``sandwich::sandwich(glm)`` or ``survey::svyglm`` without the n/(n-1) factor.
    fitted : (n,) array
        Fitted probabilities ``expit(X beta)``.
    linear_predictor : (n,) array
        ``X beta``.
    score_contributions : (n, p) array
        ``U_i = w_i (y_i - p_i) x_i``; they sum to ~0 at the estimate.
    hessian : (p, p) array
        Hessian of the weighted log-likelihood, ``-sum_i w_i p_i (1 - p_i) x_i x_i'``
        (negative definite), i.e. the derivative of ``sum_i U_i`` in beta.
    loglik : float
        Weighted log-likelihood at the estimate.
    converged, separation : bool
        Newton converged and the data are not separated; the data are (quasi-)completely
        separated (then ``coef`` is the last iterate and meaningless).
    n_iter : int
    names : tuple of str
    status : Estimability
        :mod:`estimators.status`'s verdict (the same as the kernel's).

    ``cov``, ``se``, ``robust_cov``, ``score_contributions`` and ``hessian`` are computed
    on first access (then cached), from the information and data the fit kept.
    """

    coef: np.ndarray
    fitted: np.ndarray
    linear_predictor: np.ndarray
    loglik: float
    converged: bool
    separation: bool
    n_iter: int
    names: tuple[str, ...]
    status: Estimability = Estimability.OK
    # the kernel's fit (its design, outcome, weights and information), from which the
    # variances are computed on first access: a propensity score used only for weights
    # never pays for them
    _fit: LogisticFit = field(default=None, repr=False, compare=False)

    @cached_property
    def score_contributions(self) -> np.ndarray:
        fit = self._fit
        return (fit.w * (fit.y - self.fitted))[:, None] * fit.X

    @cached_property
    def hessian(self) -> np.ndarray:
        return -self._fit.information

    @cached_property
    def cov(self) -> np.ndarray:
        info = self._fit.information
        if np.isfinite(info).all():  # (scipy's own finiteness scan skipped: done here)
            try:
                if self.status is Estimability.OK:
                    return linalg.inv(info, check_finite=False)
                # a separated or unconverged fit's information is near singular: its
                # status says so, and scipy's ill-conditioning warning would only repeat it
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", linalg.LinAlgWarning)
                    return linalg.inv(info, check_finite=False)
            except linalg.LinAlgError:
                pass
        return np.full_like(info, np.nan)

    @cached_property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @cached_property
    def robust_cov(self) -> np.ndarray:
        U, cov = self.score_contributions, self.cov
        return cov @ (U.T @ U) @ cov

    @property
    def robust_se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.robust_cov))

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        from scipy import stats

        z = self.coef / self.se
        return pd.DataFrame(
            {
                "term": list(self.names),
                "coef": self.coef,
                "se": self.se,
                "z": z,
                "p_value": 2 * stats.norm.sf(np.abs(z)),
                "robust_se": self.robust_se,
            }
        )


def logistic_regression(
    X,
    y,
    weights=None,
    *,
    intercept: bool = True,
    names=None,
    on_separation: str = "raise",
    tol: float = _TOL,
    max_iter: int = _MAX_ITER,
) -> LogisticResult:
    """Maximum-likelihood (weighted) logistic regression by IRLS / Newton–Raphson.

    Parameters
    ----------
    X : (n, k) array-like
        Covariates, without an intercept column (one is prepended when ``intercept``).
    y : (n,) array-like of 0/1
    weights : (n,) array-like, optional
        Case weights (non-negative; need not be integers), as ``glm(weights=)``.
    intercept : bool
        Prepend a column of ones named ``"(Intercept)"``.
    names : sequence of str, optional
        Column names of ``X`` (default ``x0, x1, ...``).
    on_separation : {"raise", "flag"}
        Separated data have no finite MLE. ``"raise"`` raises :class:`SeparationError`
        naming the separating columns; ``"flag"`` returns the last iterate with
        ``separation=True`` (for Monte Carlo loops that count such replicates).
    tol, max_iter : Newton convergence tolerance (relative step) and iteration cap.

    Returns
    -------
    LogisticResult

    Notes
    -----
    Score ``U(beta) = sum_i w_i (y_i - p_i) x_i``; information
    ``I = sum_i w_i p_i (1 - p_i) x_i x_i'``; Newton step ``I^-1 U``. The covariance reported
    is ``I^-1`` as in R ``glm`` (binomial dispersion fixed at 1); with non-integer weights R
    warns "non-integer #successes" but computes the same numbers.
    """
    check_choice(on_separation, "on_separation", ("raise", "flag"))
    intercept = check_flag(intercept, "intercept")
    tol = check_positive(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter")
    Xa = check_finite(as_float_array(X, "X", ndim=2), "X")
    yv = check_binary(y, "y").astype(np.float64)
    n = check_lengths({"X": Xa, "y": yv})
    if n == 0:
        raise ValueError(f"X and y must not be empty; got X of shape {Xa.shape}")
    w = check_weights(weights, n)
    k = Xa.shape[1]
    if k == 0 and not intercept:
        raise ValueError(f"X has no columns and no intercept (shape {Xa.shape}, "
                         "intercept=False): there is nothing to fit")
    names = tuple(f"x{j}" for j in range(k)) if names is None else tuple(map(str, names))
    if len(names) != k:
        raise ValueError(f"names must have {k} entries (columns of X); got {len(names)}")
    if intercept:
        Xa = with_intercept(Xa)
        names = ("(Intercept)",) + names
    pos = w > 0
    y_pos = yv[pos]
    if (y_pos == y_pos[0]).all():
        raise ValueError(f"y must contain both 0 and 1 (among positive weights); got only {y_pos[0]:g}")
    return fit_validated(Xa, yv, w, names, on_separation=on_separation, tol=tol,
                         max_iter=max_iter, rows=None if y_pos.size == n else pos)


def with_intercept(X: np.ndarray) -> np.ndarray:
    """``X`` with a leading column of ones (one allocation, C order)."""
    out = np.empty((X.shape[0], X.shape[1] + 1))
    out[:, 0] = 1.0
    out[:, 1:] = X
    return out


def fit_validated(Xa: np.ndarray, y: np.ndarray, w: np.ndarray, names: tuple[str, ...], *,
                  on_separation: str = "raise", tol: float = _TOL, max_iter: int = _MAX_ITER,
                  rows: np.ndarray | None = None, XT: np.ndarray | None = None
                  ) -> LogisticResult:
    """:func:`logistic_regression` on arrays its caller has validated.

    Parameters
    ----------
    Xa : (n, p) float array
        Finite design, intercept column included.
    y : (n,) float array of 0/1
        Both values present among the rows of positive weight.
    w : (n,) float array
        Valid case weights (finite, non-negative, not all zero).
    names : tuple of str
        One per column of ``Xa``.
    on_separation : {"raise", "flag"}
        Already checked; see :func:`logistic_regression`.
    tol, max_iter : float, int
        Newton controls.
    rows : (n,) bool array, optional
        The rows of positive weight, or ``None`` when every weight is positive.
    XT : (p, n) C-contiguous float array, optional
        ``Xa.T`` when the caller has it (its doubles; default: a copy is made).

    Returns
    -------
    LogisticResult

    Raises
    ------
    ValueError
        The rows of positive weight of ``Xa`` are rank deficient (:func:`check_full_rank`).
    SeparationError
        Separated data with ``on_separation="raise"``.
    """
    start = None
    if rows is None and np.logical_and.reduce(w == 1.0):
        # unit weights (a propensity model): the first Newton information is X'X / 4 to
        # the bit (a power-of-2 scaling rounds as the unscaled sums), so one product
        # serves the rank check and the first iteration
        XT = np.ascontiguousarray(Xa.T) if XT is None else XT
        start = (XT, information_at_zero(XT, Xa, w))
        check_full_rank(Xa, names, gram=4.0 * start[1])
    else:
        check_full_rank(Xa, names, rows)
    fit = (fit_logistic(Xa, y, w, tol=tol, max_iter=max_iter) if start is None else
           fit_logistic_started(Xa, y, w, start, tol=tol, max_iter=max_iter))
    # the status (estimators.status) runs the exact separation check when the fit shows
    # the symptom
    if fit.status is Estimability.SEPARATED:
        culprits = [nm for nm, b in zip(names, fit.separating_direction) if b != 0.0]
        if on_separation == "raise":
            raise SeparationError(
                "y is (quasi-)completely separated by X: the maximum-likelihood estimate is "
                f"infinite (separating direction involves {culprits}); remove or merge "
                "these covariates, or use a penalized (Firth) model"
            )
    return _result(fit, names)


def _result(fit: LogisticFit, names: tuple[str, ...]) -> LogisticResult:
    return LogisticResult(
        coef=fit.coef,
        fitted=fit.fitted,
        linear_predictor=fit.linear_predictor,
        loglik=fit.loglik,  # the kernel's, at its final X coef
        converged=bool(fit.converged),
        separation=fit.status is Estimability.SEPARATED,
        n_iter=int(fit.n_iter),
        names=names,
        status=fit.status,
        _fit=fit,
    )
