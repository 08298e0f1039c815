"""Logistic regression by IRLS and the propensity-score model built on it.

``logistic_regression`` is a Newton–Raphson (IRLS, Fisher scoring coincides with Newton for
the canonical logit link) fit run to a tight tolerance, so that it agrees with R's
``glm(family = binomial)`` and statsmodels' ``Logit``/``GLM`` to ~1e-10, not to the ~3% that
scikit-learn's default (penalized, loosely converged) fit gives. It returns what the stacked
estimating-equation (M-estimation) variance of an IPTW estimator needs: the per-observation
score contributions and the Hessian of the log-likelihood.

Separation (complete or quasi-complete; Albert & Anderson 1984) makes the maximum-likelihood
estimate infinite. It is detected exactly with the linear program of Konis (2007, the
``safeBinaryRegression`` / ``detectseparation`` check), not guessed from a large coefficient.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import linalg, special
from scipy.linalg import lapack as _lapack

from ._checks import (
    as_float_array,
    check_binary,
    check_choice,
    check_finite,
    check_lengths,
    check_weights,
)
from .design import DesignMatrix, design_matrix, treatment_indicator
from .status import Estimability, fitted_distance, logistic_status

__all__ = [
    "LogisticFit",
    "LogisticResult",
    "PropensityModel",
    "SeparationError",
    "fit_logistic",
    "logistic_loglik",
    "logistic_regression",
    "propensity_score",
]

_TOL = 1e-12
_MAX_ITER = 100


class SeparationError(ValueError):
    """The outcome is (quasi-)completely separated: the MLE does not exist."""


@dataclass(frozen=True)
class LogisticResult:
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
    """

    coef: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    robust_cov: np.ndarray
    fitted: np.ndarray
    linear_predictor: np.ndarray
    score_contributions: np.ndarray
    hessian: np.ndarray
    loglik: float
    converged: bool
    separation: bool
    n_iter: int
    names: tuple[str, ...]
    status: Estimability = Estimability.OK

    @property
    def robust_se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.robust_cov))

    def to_frame(self) -> pd.DataFrame:
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


def _loglik(eta: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    # log p = eta - log(1 + e^eta), log(1 - p) = -log(1 + e^eta), with
    # log(1 + e^eta) = max(eta, 0) + log1p(e^-|eta|): stable for any eta (the arithmetic
    # of logaddexp(0, eta), at a third of its cost inside the Newton loop)
    soft = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
    return float(w @ (y * eta - soft))


@dataclass(frozen=True)
class LogisticFit:
    """What :func:`fit_logistic` returns: the Newton iterate and its status.

    Attributes
    ----------
    coef : (p,) array
        The last Newton iterate (the MLE when ``status`` is OK).
    fitted : (n,) array
        ``expit(X coef)``.
    information : (p, p) array
        ``X' diag(w p (1-p)) X`` at ``coef``.
    newton_converged : bool
        The relative Newton step met ``tol``. Says nothing about whether the MLE exists:
        on separated data Newton can stop with a negligible step.
    n_iter : int
    status : Estimability
        :func:`estimators.status.logistic_status` (computed on first access: the exact
        separation check runs only then, and only when the fit shows the symptom).
    converged : bool
        ``newton_converged`` and not ``SEPARATED``.
    closest : float
        Smallest distance of a fitted probability to 0 or 1 (rows of positive weight).
    separating_direction : (p,) array or None
        The separating direction when ``SEPARATED``.
    """

    coef: np.ndarray
    fitted: np.ndarray
    information: np.ndarray
    newton_converged: bool
    n_iter: int
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    w: np.ndarray = field(repr=False)

    @cached_property
    def _verdict(self):
        return logistic_status(self.X, self.y, self.w, self.fitted, self.coef,
                               self.newton_converged)

    @property
    def status(self) -> Estimability:
        return self._verdict[0]

    @property
    def separating_direction(self) -> np.ndarray | None:
        return self._verdict[1]

    @property
    def converged(self) -> bool:
        return self.newton_converged and self.status is not Estimability.SEPARATED

    @cached_property
    def closest(self) -> float:
        return fitted_distance(self.fitted, self.w)


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    *,
    tol: float = _TOL,
    max_iter: int = _MAX_ITER,
    beta0: np.ndarray | None = None,
) -> LogisticFit:
    """Newton–Raphson logistic regression on trusted arrays (the kernel).

    Parameters
    ----------
    X : (n, p) float array
        Design, intercept column included.
    y : (n,) float array of 0/1
    w : (n,) float array
        Non-negative case weights.
    tol, max_iter : float, int
        Convergence on the relative Newton step; iteration cap.
    beta0 : (p,) array, optional
        Starting values (default 0).

    Returns
    -------
    LogisticFit
        ``status`` says whether ``coef`` is an estimate (:mod:`estimators.status`).

    Notes
    -----
    No validation, and never raises on data: separated, rank-deficient or one-valued data
    return the last iterate with a non-OK ``status``. Step-halving guards against a
    log-likelihood decrease (as ``glm.fit`` does).
    """
    beta, mu, info, converged, it = _newton_logistic(X, y, w, tol, max_iter, beta0)
    return LogisticFit(beta, mu, info, converged, it, X, y, w)


def logistic_loglik(eta: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted logistic log-likelihood at the linear predictor ``eta`` (stable for any
    ``eta``; trusted arrays)."""
    return _loglik(eta, y, w)


def _newton_logistic(X, y, w, tol, max_iter, beta0):
    p_dim = X.shape[1]
    XT = np.ascontiguousarray(X.T)  # X' X-type products on contiguous rows
    beta = np.zeros(p_dim) if beta0 is None else np.array(beta0, dtype=float)
    eta = X @ beta
    ll = _loglik(eta, y, w)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        mu = special.expit(eta)
        info = (XT * (w * mu * (1.0 - mu))) @ X
        grad = XT @ (w * (y - mu))
        # Cholesky (the information is symmetric positive definite unless the fit is
        # degenerate); LU, then least squares, as fallbacks. No ill-conditioning warning
        # while a separated fit diverges.
        _, step, failed = _lapack.dposv(info, grad)
        if failed:
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                try:
                    step = np.linalg.lstsq(info, grad, rcond=None)[0]
                except (np.linalg.LinAlgError, ValueError):  # non-finite data: no step
                    step = np.full(p_dim, np.nan)
        t = 1.0
        for _ in range(30):
            new_beta = beta + t * step
            new_eta = X @ new_beta
            new_ll = _loglik(new_eta, y, w)
            if new_ll >= ll - 1e-12 * (1.0 + abs(ll)) and math.isfinite(new_ll):
                break
            t *= 0.5
        else:
            # No step size improves the log-likelihood (R's glm.fit: "cannot correct step
            # size"). Keep the last good beta: accepting the step would return a fit far
            # worse than where it started, flagged as converged. It is the optimum only if
            # the full Newton step was already negligible.
            converged = bool(np.abs(step).max() <= tol * (1.0 + np.abs(beta).max()))
            break
        beta, eta, ll = new_beta, new_eta, new_ll
        if t * np.abs(step).max() <= tol * (1.0 + np.abs(beta).max()):
            converged = True
            break
    mu = special.expit(eta)
    info = (XT * (w * mu * (1.0 - mu))) @ X
    return beta, mu, info, converged, it


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
    Xa = check_finite(as_float_array(X, "X", ndim=2), "X")
    yv = check_binary(y, "y").astype(np.float64)
    n = check_lengths({"X": Xa, "y": yv})
    w = check_weights(weights, n)
    k = Xa.shape[1]
    names = tuple(f"x{j}" for j in range(k)) if names is None else tuple(map(str, names))
    if len(names) != k:
        raise ValueError(f"names must have {k} entries (columns of X); got {len(names)}")
    if intercept:
        Xa = np.column_stack([np.ones(n), Xa])
        names = ("(Intercept)",) + names
    pos = w > 0
    if np.unique(yv[pos]).size < 2:
        raise ValueError(f"y must contain both 0 and 1 (among positive weights); got only {yv[pos][0]:g}")
    rank = np.linalg.matrix_rank(Xa[pos])
    if rank < Xa.shape[1]:
        raise ValueError(
            f"X is rank deficient (rank {rank} < {Xa.shape[1]} columns {list(names)}): "
            "drop collinear or constant columns"
        )
    fit = fit_logistic(Xa, yv, w, tol=tol, max_iter=max_iter)
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
    return _result(Xa, yv, w, fit.coef, fit.fitted, fit.information, fit.converged,
                   fit.status is Estimability.SEPARATED, fit.n_iter, names, fit.status)


def _result(Xa, y, w, beta, mu, info, converged, separation, n_iter, names,
            status) -> LogisticResult:
    U = (w * (y - mu))[:, None] * Xa
    try:
        cov = linalg.inv(info)
    except linalg.LinAlgError:
        cov = np.full_like(info, np.nan)
    meat = U.T @ U
    eta = Xa @ beta
    return LogisticResult(
        coef=beta,
        se=np.sqrt(np.diag(cov)),
        cov=cov,
        robust_cov=cov @ meat @ cov,
        fitted=mu,
        linear_predictor=eta,
        score_contributions=U,
        hessian=-info,
        loglik=_loglik(eta, y, w),
        converged=bool(converged),
        separation=bool(separation),
        n_iter=int(n_iter),
        names=names,
        status=status,
    )


@dataclass(frozen=True)
class PropensityModel:
    """A logistic propensity-score model ``P(treated = 1 | covariates)``.

    Attributes
    ----------
    ps : (n,) array
        Estimated propensity scores.
    coef : (p + 1,) array
        Logistic coefficients, intercept first (names in ``fit.names``).
    design : DesignMatrix
        The covariate matrix (without intercept) and its categorical coding.
    treated : (n,) int8 array
    fit : LogisticResult
        The full fit (score contributions and Hessian for M-estimation variances).
    """

    ps: np.ndarray
    coef: np.ndarray
    design: DesignMatrix
    treated: np.ndarray
    fit: LogisticResult = field(repr=False)

    @property
    def logit(self) -> np.ndarray:
        """Linear predictor ``log(ps / (1 - ps))`` (the scale of the Austin 2011 caliper)."""
        return self.fit.linear_predictor

    def to_frame(self) -> pd.DataFrame:
        return self.fit.to_frame()


def propensity_score(
    frame,
    treated,
    covariates,
    categorical=None,
    reference=None,
    *,
    on_separation: str = "raise",
) -> PropensityModel:
    """Fit a main-effects logistic propensity model from a DataFrame.

    Parameters
    ----------
    frame : pandas.DataFrame (or mapping of columns)
    treated : str or (n,) array-like of 0/1
        Column name in ``frame`` or the indicator itself.
    covariates, categorical, reference
        As :func:`estimators.design.design_matrix` (categorical coding is explicit).
    on_separation : {"raise", "flag"}
        See :func:`logistic_regression`.

    Returns
    -------
    PropensityModel

    Notes
    -----
    Equivalent to R ``glm(treated ~ x1 + factor(x2) + ..., family = binomial)`` with
    treatment contrasts and the same reference levels.
    """
    design = design_matrix(frame, covariates, categorical=categorical, reference=reference)
    z = treatment_indicator(frame, treated)
    fit = logistic_regression(
        design.values, z, names=design.names, on_separation=on_separation
    )
    return PropensityModel(ps=fit.fitted, coef=fit.coef, design=design, treated=z, fit=fit)
