"""The logistic Newton–Raphson kernel on trusted arrays.

``fit_logistic`` is a Newton–Raphson (IRLS, Fisher scoring coincides with Newton for the
canonical logit link) fit run to a tight tolerance, so that it agrees with R's
``glm(family = binomial)`` and statsmodels' ``Logit``/``GLM`` to ~1e-10, not to the ~3% that
scikit-learn's default (penalized, loosely converged) fit gives. It validates nothing and
never raises on data: :mod:`estimators.status` says whether its iterate is an estimate.
:func:`estimators.logistic.logistic_regression` is its validating front end.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import special
from scipy.linalg import lapack as _lapack

from tacebench.records import ArrayRecord
from .status import Estimability, fitted_distance, logistic_status

__all__ = ["LogisticFit", "fit_logistic", "fit_logistic_started", "information_at_zero",
           "logistic_loglik"]

_TOL = 1e-12
_MAX_ITER = 100
#: Below this relative Newton step the next iteration reuses the information (and its
#: Cholesky factor) of the one before (a chord step): that next step is then ~tol, and a
#: Hessian 1e-6 (relative) old changes it by ~1e-6 of itself, below the rounding of the
#: coefficients; at p = 20 the information is most of an iteration's cost.
_CHORD = 1e-6
# reductions of the Newton loop as the ufunc methods (ndarray.max/.all add a Python wrapper
# that costs more than the pass over p coefficients; the same results, NaN included)
_max, _all = np.maximum.reduce, np.logical_and.reduce
#: The Newton loop's bound on ``max |beta|`` after a step: ``|b + t s| <= |b| + t |s|``,
#: rounded up past the rounding of the sum (a relative 2 ** -52 at most) many times over.
#: While the step exceeds the convergence and chord thresholds at that bound, it exceeds
#: them at ``1 + max |beta|`` itself (rounding is monotone), so the loop skips computing
#: it: the same decisions, one reduction fewer on the early, large steps.
_BOUND_SLACK = 1.0 + 1e-12


def _loglik(eta: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    # log p = eta - log(1 + e^eta), log(1 - p) = -log(1 + e^eta), with
    # log(1 + e^eta) = max(eta, 0) + log1p(e^-|eta|): stable for any eta (the arithmetic
    # of logaddexp(0, eta), at a third of its cost inside the Newton loop)
    soft = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
    return float(w @ (y * eta - soft))


@dataclass(frozen=True, eq=False)
class LogisticFit(ArrayRecord):
    """What :func:`fit_logistic` returns: the Newton iterate and its status.

    Attributes
    ----------
    coef : (p,) array
        The last Newton iterate (the MLE when ``status`` is OK).
    fitted : (n,) array
        ``expit(X coef)``.
    information : (p, p) array
        ``X' diag(w p (1-p)) X`` at ``coef`` (computed on first access).
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
    linear_predictor : (n,) array
        ``X coef``, as the iteration computed it.
    loglik : float
        Weighted log-likelihood at ``coef`` (:func:`logistic_loglik` of ``linear_predictor``).
    """

    coef: np.ndarray
    fitted: np.ndarray
    newton_converged: bool
    n_iter: int
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    w: np.ndarray = field(repr=False)
    linear_predictor: np.ndarray | None = field(default=None, repr=False)
    loglik: float = math.nan

    @cached_property
    def information(self) -> np.ndarray:
        # on first access: a fit used only for its fitted values never pays for it (the
        # loop's own expression and layout, so the same doubles as computed there)
        return _information(np.ascontiguousarray(self.X.T), self.X, self.w, self.fitted)

    @cached_property
    def _verdict(self):
        # the loop's X @ coef and log-likelihood there (below_null's certificate)
        return logistic_status(self.X, self.y, self.w, self.fitted, self.coef,
                               self.newton_converged, eta=self.linear_predictor,
                               loglik=self.loglik)

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
    beta, mu, converged, it, eta, ll = _newton_logistic(X, y, w, tol, max_iter, beta0)
    return LogisticFit(beta, mu, converged, it, X, y, w, eta, ll)


def fit_logistic_started(X: np.ndarray, y: np.ndarray, w: np.ndarray,
                         start: tuple[np.ndarray, np.ndarray], *, tol: float = _TOL,
                         max_iter: int = _MAX_ITER) -> LogisticFit:
    """:func:`fit_logistic` from zero, given work its caller has done already.

    Parameters
    ----------
    X, y, w, tol, max_iter
        As :func:`fit_logistic`.
    start : ``(XT, information)``
        ``XT`` the C-contiguous ``X.T`` and ``information`` the first iteration's
        ``X' diag(w / 4) X`` as :func:`information_at_zero` computes it (the loop's own
        doubles, which is why it must come from that function).

    Returns
    -------
    LogisticFit
        Equal, number for number, to ``fit_logistic(X, y, w, tol=tol, max_iter=max_iter)``.
    """
    beta, mu, converged, it, eta, ll = _newton_logistic(X, y, w, tol, max_iter, None, start)
    return LogisticFit(beta, mu, converged, it, X, y, w, eta, ll)


def information_at_zero(XT: np.ndarray, X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The information at ``beta = 0``, ``X' diag(w / 4) X``, from the contiguous ``XT``:
    the first Newton iteration's, with the loop's own expression (``expit(0)`` is exactly
    1/2), so a caller may compute it once and pass it to :func:`fit_logistic_started`.

    Parameters
    ----------
    XT : (p, n) C-contiguous float array
        ``X.T``.
    X : (n, p) float array
    w : (n,) float array

    Returns
    -------
    (p, p) array
    """
    return _information(XT, X, w, np.full(X.shape[0], 0.5))


def logistic_loglik(eta: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted logistic log-likelihood at the linear predictor ``eta`` (stable for any
    ``eta``; trusted arrays)."""
    return _loglik(eta, y, w)


def _newton_logistic(X, y, w, tol, max_iter, beta0, start=None):
    p_dim = X.shape[1]
    # X' X-type products on contiguous rows
    XT, info0 = start if start is not None else (np.ascontiguousarray(X.T), None)
    beta = np.zeros(p_dim) if beta0 is None else np.array(beta0, dtype=float)
    eta = X @ beta
    ll = _loglik(eta, y, w)
    # unit weights (every propensity model): w * x is x to the bit, so the loop leaves
    # the products by w out
    wt = None if _all(w == 1.0) else w
    converged = False
    factor = None  # the Cholesky factor of the last information, for a chord step
    # an upper bound of max |beta| (see _far_from_converged) and the larger of the two
    # step thresholds it is compared with
    top, thresh = _max(np.abs(beta)) if p_dim else 0.0, max(tol, _CHORD)
    it = 0
    for it in range(1, max_iter + 1):
        mu = special.expit(eta)
        resid = y - mu
        grad = XT @ (resid if wt is None else wt * resid)
        if factor is not None:  # the last step was below _CHORD: the same information
            step, failed = _lapack.dpotrs(factor, grad)
        else:
            if info0 is None:
                info = _information(XT, X, wt, mu)
            else:  # the caller's, at beta = 0 (exactly this expression at mu = 1/2)
                info, info0 = info0, None
            # Cholesky (the information is symmetric positive definite unless the fit is
            # degenerate); LU, then least squares, as fallbacks. No ill-conditioning
            # warning while a separated fit diverges.
            chol, step, failed = _lapack.dposv(info, grad)
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
            new_beta = beta + step if t == 1.0 else beta + t * step  # 1 * step is step
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
            converged = bool(_max(np.abs(step)) <= tol * (1.0 + _max(np.abs(beta))))
            break
        beta, eta, ll = new_beta, new_eta, new_ll
        size = t * _max(np.abs(step))
        top = (top + size) * _BOUND_SLACK
        if size > thresh * (1.0 + top):  # neither converged nor a chord step next
            factor = None
            continue
        top = _max(np.abs(beta))
        scale = 1.0 + top
        if size <= tol * scale:
            converged = True
            break
        # a chord step next only after a full Newton step from a positive definite
        # information (a factor that exists)
        factor = chol if (t == 1.0 and not failed and size <= _CHORD * scale) else None
    return beta, special.expit(eta), converged, it, eta, ll


def _information(XT: np.ndarray, X: np.ndarray, w: np.ndarray | None, mu: np.ndarray
                 ) -> np.ndarray:
    """``X' diag(w mu (1 - mu)) X`` from the contiguous ``XT = X'`` (``w`` None: unit
    weights, the same doubles as ones)."""
    v = mu * (1.0 - mu) if w is None else w * mu * (1.0 - mu)
    return (XT * v) @ X
