"""Propensity-score models as R fits them: ``glm(family = binomial)`` and Firth's logistic.

:func:`estimators.propensity.fit_logistic` runs Newton to a tight tolerance and asks
whether the maximum-likelihood estimate exists; a published analysis instead ran R's
``glm`` with its defaults and used whatever it returned. Under quasi-complete separation
(a covariate level absent from one arm) the coefficients diverge, but the fitted
probabilities converge, and with them every weight and matched set built on them: ``glm``
warns and the analysis proceeds. :func:`fit_glm_binomial` is that computation, step for
step: IRLS from ``mustart = (w y + 0.5) / (w + 1)``, convergence when
``|dev - dev_old| / (|dev| + 0.1) < epsilon`` (1e-8) within ``maxit`` (25) iterations,
aliased columns dropped by R's pivoted QR (:mod:`estimators.glm_qr`), fitted values
bounded as ``binomial()$linkinv`` bounds them. What R would warn about is on the result
(``warnings``), and :mod:`estimators.status` still says whether the MLE exists
(``status``, the exact separation check).

:func:`fit_firth_logistic` is Firth's (1993) penalized likelihood, the estimate of R's
``logistf`` (and ``brglm2``'s ``AS_mean`` fit of a logistic model), finite under
separation.

The capability table :data:`PS_MODELS` names the two (``glm``, ``firth``) for callers
that let a study choose its propensity model.

=========  =================================================  ==========================
model      estimate                                           finite under separation
=========  =================================================  ==========================
glm        maximum likelihood, R ``glm`` IRLS and defaults     no (fitted values converge)
firth      Firth penalized likelihood (``logistf``)            yes
=========  =================================================  ==========================
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from tacebench.records import ArrayRecord

from .glm_qr import aliased_least_squares
from .propensity import logistic_loglik
from .status import (GLM_BOUNDARY, Estimability, fitted_distance, is_separated,
                     logistic_estimability)

__all__ = ["BinomialFit", "PS_MODELS", "PsModel", "fit_firth_logistic",
           "fit_glm_binomial", "logit_linkinv"]

_EPS = np.finfo(float).eps
#: ``binomial()$linkinv`` (C ``logit_linkinv``) stops at |eta| = 30
_THRESH = 30.0


def logit_linkinv(eta: np.ndarray) -> np.ndarray:
    """R's ``binomial()$linkinv``: ``e / (1 + e)`` with ``e = exp(eta)`` bounded to
    ``[eps, 1 / eps]``, so fitted values stay within about ``eps`` of 0 and 1."""
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    e = np.where(eta < -_THRESH, _EPS, np.where(eta > _THRESH, 1.0 / _EPS, e))
    return e / (1.0 + e)


def _mu_eta(eta: np.ndarray) -> np.ndarray:
    """R's ``binomial()$mu.eta``: ``eps`` beyond |eta| = 30."""
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    return np.where(np.abs(eta) > _THRESH, _EPS, e / (1.0 + e) ** 2)


def _deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``sum(binomial()$dev.resids(y, mu, w))`` for 0/1 ``y``, over the last axis (one
    deviance per row of a stack of fits)."""
    return np.sum(2.0 * w * -np.log(np.where(y > 0, mu, 1.0 - mu)), axis=-1)


@dataclass(frozen=True, eq=False)
class BinomialFit(ArrayRecord):
    """A propensity (logistic) model fitted as R fits it.

    Attributes
    ----------
    coef : (p,) array
        Coefficients, ``NaN`` for aliased columns (R's ``NA``). Under separation the
        coefficients of a ``glm`` fit are where IRLS stopped.
    fitted : (n,) array
        Fitted probabilities (within ``[eps, 1 - eps]``, as R bounds them).
    linear_predictor : (n,) array
    n_iter : int
    converged : bool
        The fit's own convergence rule was met (``glm``: the relative deviance change;
        ``firth``: the modified score).
    aliased : (p,) bool array
        Columns dropped as linearly dependent on the ones before them.
    method : str
        ``"glm"`` or ``"firth"``.
    status : Estimability
        ``glm``: :func:`estimators.status.logistic_status` on the non-aliased columns
        (``SEPARATED`` when the MLE does not exist); ``firth``: OK unless not converged.
    separated : bool
        The data (non-aliased columns) are (quasi-)completely separated (Konis 2007's
        linear program), whatever the model.
    fitted_0_1 : bool
        A fitted value is within ``10 * eps`` of 0 or 1 (R's glm warns).
    warnings : tuple of str
        What R would warn: "algorithm did not converge", "fitted probabilities
        numerically 0 or 1 occurred".
    """

    coef: np.ndarray
    fitted: np.ndarray
    linear_predictor: np.ndarray
    n_iter: int
    converged: bool
    aliased: np.ndarray
    method: str
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    w: np.ndarray = field(repr=False)

    @cached_property
    def status(self) -> Estimability:
        if self.method == "firth":
            return Estimability.OK if self.converged else Estimability.NOT_CONVERGED
        keep = ~self.aliased
        return logistic_estimability(self.X[:, keep], self.y, self.w, self.fitted,
                                     self.coef[keep], self.converged)

    @cached_property
    def separated(self) -> bool:
        if self.status is Estimability.SEPARATED:
            return True
        if self.method == "glm" and self.status is Estimability.OK:
            return False    # OK means the exact check found no separation (or no symptom)
        return is_separated(self.X[:, ~self.aliased], self.y, self.w)

    @property
    def fitted_0_1(self) -> bool:
        return bool(np.any(self.fitted > 1.0 - GLM_BOUNDARY)
                    or np.any(self.fitted < GLM_BOUNDARY))

    @property
    def closest(self) -> float:
        """Smallest distance of a fitted value to 0 or 1 (rows of positive weight)."""
        return fitted_distance(self.fitted, self.w)

    @property
    def warnings(self) -> tuple[str, ...]:
        out = []
        if not self.converged:
            out.append("algorithm did not converge")
        if self.method == "glm" and self.fitted_0_1:
            out.append("fitted probabilities numerically 0 or 1 occurred")
        return tuple(out)


def fit_glm_binomial(X: np.ndarray, y: np.ndarray, w: np.ndarray, *,
                     epsilon: float = 1e-8, maxit: int = 25) -> BinomialFit:
    """R's ``glm.fit(X, y, weights = w, family = binomial())`` on trusted arrays.

    Parameters
    ----------
    X : (n, p) float array
        Design, intercept column included (R's model matrix).
    y : (n,) float array of 0/1
    w : (n,) float array
        Non-negative prior weights.
    epsilon, maxit : float, int
        ``glm.control`` (defaults 1e-8 and 25).

    Returns
    -------
    BinomialFit
        Never raises on data: separation, non-convergence and aliasing are on the result.

    Notes
    -----
    IRLS: working response ``z = eta + (y - mu) / mu.eta``, working weights
    ``w mu.eta^2 / (mu (1 - mu))``, solved by R's ``Cdqrls`` with tolerance
    ``min(1e-7, epsilon / 1000)``. ``glm.fit``'s step-halving branches (non-finite
    deviance, invalid ``eta`` or ``mu``) cannot trigger for the bounded logit link and are
    therefore absent.

    References
    ----------
    R Core Team, ``stats::glm.fit`` (``src/library/stats/R/glm.R``) and
    ``binomial()`` (``src/library/stats/src/family.c``); McCullagh & Nelder (1989)
    Generalized Linear Models, 2nd ed., section 2.5.
    """
    n, p = X.shape
    good = w > 0
    mu = (w * y + 0.5) / (w + 1.0)
    eta = np.log(mu / (1.0 - mu))
    mu = logit_linkinv(eta)
    dev_old = float(_deviance(y, mu, w))
    start = np.zeros(p)
    pivot, rank = np.arange(p), p
    converged, it = False, 0
    tol = min(1e-7, epsilon / 1000.0)
    Xg = X[good]
    for it in range(1, maxit + 1):
        me = _mu_eta(eta[good])
        mg = mu[good]
        z = eta[good] + (y[good] - mg) / me
        sw = np.sqrt(w[good] * me * me / (mg * (1.0 - mg)))
        coef, pivot, rank = aliased_least_squares(Xg * sw[:, None], z * sw, tol)
        if not np.isfinite(coef).all():
            break           # R: "non-finite coefficients"; conv stays FALSE
        start = np.empty(p)
        start[pivot] = coef
        eta = X @ start
        mu = logit_linkinv(eta)
        dev = float(_deviance(y, mu, w))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    aliased = np.zeros(p, dtype=bool)
    aliased[pivot[rank:]] = True
    out = start.copy()
    out[aliased] = np.nan
    return BinomialFit(out, mu, eta, it, converged, aliased, "glm", X, y, w)


def fit_firth_logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray, *,
                       tol: float = 1e-10, max_iter: int = 100) -> BinomialFit:
    """Firth's penalized-likelihood logistic regression on trusted arrays.

    Parameters
    ----------
    X, y, w : arrays
        As :func:`fit_glm_binomial` (design with its intercept column, 0/1 outcome,
        non-negative case weights).
    tol, max_iter : float, int
        Convergence: the largest modified-score component and Newton step are below
        ``tol`` (relative to the coefficients); iteration cap.

    Returns
    -------
    BinomialFit
        ``converged`` False (status ``NOT_CONVERGED``) if the cap was reached.

    Notes
    -----
    Maximizes ``l(beta) + 0.5 log det I(beta)``, ``I = X' diag(w p (1 - p)) X``. The
    modified score is ``U*(beta) = sum_i [w_i (y_i - p_i) + h_i (1/2 - p_i)] x_i`` with
    ``h_i`` the diagonal of the weighted hat matrix
    ``W^1/2 X I^-1 X' W^1/2``; Newton steps use ``I`` (as ``logistf``) and are halved
    while the penalized log-likelihood decreases. Aliased columns (R's pivoted QR of
    ``X``) are dropped, their coefficients ``NaN``.

    References
    ----------
    Firth D (1993) Bias reduction of maximum likelihood estimates. Biometrika 80:27-38.
    Heinze G, Schemper M (2002) A solution to the problem of separation in logistic
    regression. Stat Med 21:2409-2419 (``logistf``).
    """
    n, p = X.shape
    good = w > 0
    _, pivot, rank = aliased_least_squares(X[good], np.zeros(int(good.sum())), 1e-7)
    aliased = np.zeros(p, dtype=bool)
    aliased[pivot[rank:]] = True
    Xk = X[:, ~aliased]
    beta = np.zeros(Xk.shape[1])
    current = _firth_eval(Xk, y, w, beta)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        pen, score, info = current
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        big = 1.0 + np.abs(beta).max(initial=0.0)
        if np.abs(score).max(initial=0.0) <= tol * big and np.abs(step).max() <= tol * big:
            converged = True
            break
        t = 1.0
        for _ in range(30):     # halve while the penalized likelihood decreases
            new = beta + t * step
            candidate = _firth_eval(Xk, y, w, new)
            if np.isfinite(candidate[0]) and candidate[0] >= pen - 1e-12 * (1.0 + abs(pen)):
                break
            t *= 0.5
        else:
            break
        beta, current = new, candidate
    eta = Xk @ beta
    coef = np.full(p, np.nan)
    coef[~aliased] = beta
    return BinomialFit(coef, logit_linkinv(eta), eta, it, converged, aliased, "firth",
                       X, y, w)


def _firth_eval(X, y, w, beta):
    """Penalized log-likelihood, modified score and Fisher information at ``beta``."""
    eta = X @ beta
    mu = logit_linkinv(eta)
    v = w * mu * (1.0 - mu)
    info = (X.T * v) @ X
    sign, logdet = np.linalg.slogdet(info)
    ll = logistic_loglik(eta, y, w)
    if sign <= 0:
        return -np.inf, np.full(len(beta), np.nan), info
    inv = np.linalg.inv(info)
    h = v * np.einsum("ij,jk,ik->i", X, inv, X)
    score = X.T @ (w * (y - mu) + h * (0.5 - mu))
    return ll + 0.5 * logdet, score, info


@dataclass(frozen=True)
class PsModel:
    """A propensity-score model a study may choose: its kernel and what it guarantees."""

    fit: Callable[[np.ndarray, np.ndarray, np.ndarray], BinomialFit]
    finite_under_separation: bool
    description: str


PS_MODELS: dict[str, PsModel] = {
    "glm": PsModel(fit_glm_binomial, False,
                   "maximum likelihood as R's glm(family = binomial) with glm.control "
                   "defaults; under separation the fitted probabilities converge"),
    "firth": PsModel(fit_firth_logistic, True,
                     "Firth (1993) penalized likelihood, as R's logistf / brglm2"),
}
