"""The symptoms of a logistic fit that call for the exact separation check.

:mod:`estimators.status` checks a logistic fit for separation only when it shows a symptom:
a fitted probability (among rows of positive weight) close to 0 or 1
(:func:`fitted_distance`), or a log-likelihood below the intercept-only model's
(:func:`below_null`, which :func:`certainly_not_below` may settle without recomputing it).
"""
from __future__ import annotations

import math

import numpy as np


def fitted_distance(fitted: np.ndarray, w: np.ndarray) -> float:
    """Smallest distance of a fitted probability to 0 or 1 among rows of positive weight
    (0 when no row has positive weight)."""
    pos = w > 0
    # (the common case, without the masked copy; the reductions as the ufunc methods,
    # whose ndarray wrappers cost more than these passes, with the same results)
    if pos.size and np.logical_and.reduce(pos):
        return float(np.minimum.reduce(np.minimum(fitted, 1.0 - fitted)))
    return float(np.minimum(fitted, 1.0 - fitted)[pos].min()) if pos.any() else 0.0


def below_null(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray | None, *,
               eta: np.ndarray | None = None, loglik: float | None = None) -> bool:
    """Is the log-likelihood at ``beta`` below the intercept-only model's (which a model
    with an intercept contains)? An iteration that stopped early; ``False`` without
    ``beta`` or when ``y`` has one value.

    Parameters
    ----------
    X, y, w : arrays
        Design (intercept included), 0/1 outcome and case weights.
    beta : (p,) array or None
    eta : (n,) array, optional
        ``X @ beta`` as the caller computed it (the same product, so the same doubles).
    loglik : float, optional
        The fitting kernel's log-likelihood at ``eta`` (its own formula and summation
        order). When given, :func:`certainly_not_below` may answer ``False`` from it
        with a rounding-error bound, without recomputing the log-likelihood here; it never
        answers when the verdict could differ from the computation below.

    Returns
    -------
    bool
    """
    if beta is None:
        return False
    if eta is None:
        eta = X @ beta
    # (np.sum of a vector is this reduction, called without its Python wrapper)
    sw = np.add.reduce(w)
    p = float(np.add.reduce(w * y) / sw)
    if not 0.0 < p < 1.0:
        return False
    if loglik is not None and certainly_not_below(eta, w, p, float(sw), loglik):
        return False
    ll = float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))
    ll0 = float(np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))))
    return not ll >= ll0 - 1e-8 * (1.0 + abs(ll0))


_EPS = float(np.finfo(np.float64).eps)


def certainly_not_below(eta: np.ndarray, w: np.ndarray, p: float, sw: float,
                         loglik: float) -> bool:
    """``below_null`` would return ``False``, shown from another computation ``loglik``
    of the same log-likelihood ``L = sum_i w_i (y_i eta_i - log(1 + e^eta_i))``.

    Both that computation and ``below_null``'s are within ``E = 4 (n + 20) eps B`` of
    ``L``, ``B = sum_i w_i (2 |eta_i| + 1)``: each term is formed from ``|eta_i|`` and
    ``log(1 + e^eta_i) <= |eta_i| + log 2`` with a few correctly rounded (to within an
    ulp) operations, then summed in some order (error at most ``(n - 1) eps/2`` of the
    sum of the absolute terms; Higham 2002, section 4.2); the factor 4 covers the
    constants twice over. Likewise ``below_null``'s null log-likelihood, a sum of ``n``
    terms ``w_i log p`` or ``w_i log(1 - p)`` (all of one sign) with the same ``p``, is
    within ``E0 = 4 (n + 20) eps sum(w) (|log p| + |log(1 - p)|)`` of
    ``sum(w y) log p + sum(w (1 - y)) log(1 - p)``, which is evaluated here from
    ``sum(w) p`` (exact to the same order). The verdict's threshold
    ``ll0 - 1e-8 (1 + |ll0|)`` increases with ``ll0``, so ``loglik - 2 E`` above the
    threshold at ``ll0 + E0`` (plus the rounding of that expression) proves
    ``below_null``'s ``ll >= threshold``. The margin 1e-8 (1 + |ll0|) exceeds these bounds
    by orders of magnitude, so every fit that is not near the threshold is decided here.

    References
    ----------
    Higham, N. J. (2002). Accuracy and Stability of Numerical Algorithms, 2nd ed. SIAM.
    """
    n = eta.shape[0]
    if not math.isfinite(loglik):
        return False
    k = 4.0 * (n + 20) * _EPS
    B = 2.0 * float(np.abs(eta) @ w) + sw
    lp, lq = math.log(p), math.log1p(-p)
    s1 = sw * p
    ll0 = s1 * lp + (sw - s1) * lq
    E0 = k * sw * (abs(lp) + abs(lq)) + k * abs(ll0)
    hi0 = ll0 + E0
    threshold = hi0 - 1e-8 * (1.0 + abs(hi0))
    # both log-likelihoods' error bounds, and the rounding of the two thresholds
    slack = 2.0 * k * B + 8.0 * _EPS * (1.0 + abs(hi0))
    return math.isfinite(B) and loglik - slack > threshold
