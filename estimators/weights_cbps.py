"""The just-identified covariate balancing propensity score (Imai & Ratkovic 2014).

A logistic propensity model ``e = expit(β0 + x'β)`` whose coefficients solve the covariate
balance conditions instead of the score equations (WeightIt ``method = "cbps"`` with
``over = FALSE``; CBPS's ``method = "exact"``), with design ``d_i = (1, x_i)``:

======== ====================================================== ========================
estimand moment condition (sum over all units) = 0              weights treated / control
======== ====================================================== ========================
ATE      d_i [z_i / e_i - (1 - z_i) / (1 - e_i)]                1 / e, 1 / (1 - e)
ATT      d_i [z_i - (1 - z_i) e_i / (1 - e_i)]                  1, e / (1 - e)
ATC      d_i [z_i (1 - e_i) / e_i - (1 - z_i)]                  (1 - e) / e, 1
======== ====================================================== ========================

So the weighted covariate totals (and, through the intercept, the weighted means) are equal
in the two arms; for the ATT the control weights are ``exp(β0 + x'β)`` and the solution is
entropy balancing's (Zhao & Percival 2017), which the tests check. Each condition is the
gradient of a strictly convex loss in ``η = d'β`` (ATE: ``z (e^-η - η) + (1 - z)(e^η + η)``;
ATT: ``-z η + (1 - z) e^η``; ATC: ``z e^-η + (1 - z) η``, Tan 2020), so it is solved by the
same damped Newton method as entropy balancing's dual, to 1e-10 on covariates in SD
units.

References
----------
Imai K, Ratkovic M (2014). Covariate balancing propensity score. JRSS B 76:243-263.
Tan Z (2020). Regularized calibrated estimation of propensity scores with model
misspecification and high-dimensional data. Biometrika 107:137-158.
Zhao Q, Percival D (2017). Entropy balancing is doubly robust. J Causal Inference 5(1).
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .balancing_result import (BalancingWeights, check_covariates, check_independent,
                               minimize_convex, standardize, weighted_arm_means)
from ._checks import check_choice
from .status import Estimability

__all__ = ["CBPS_ESTIMANDS", "cbps_weights", "cbps_weights_checked", "cbps_weights_kernel"]

CBPS_ESTIMANDS = ("ATE", "ATT", "ATC")
# |eta| is clipped so that exp() and the Hessian's sum over n patients stay finite
# (e^500 = 1.4e217) on the unbounded path of separated arms; a solution with finite
# balancing weights lies far inside, so the clip never moves one
_ETA_MAX = 500.0


def _loss(D: np.ndarray, z: np.ndarray, estimand: str):
    """Mean loss in β whose gradient is the balance condition, as ``fun(β) -> (loss,
    derivatives)`` with ``derivatives() -> (gradient, Hessian)`` (see
    :func:`minimize_convex`)."""
    t = (z == 1).astype(np.float64)
    c = 1.0 - t
    s = c - t   # -1 treated, +1 control
    n = z.size

    # Each arm's terms picked by multiplying with the 0/1 indicators rather than by
    # np.where: the same numbers (exp is finite below the clip, and x * 1 + y * 0 == x),
    # with one exp() instead of two for the ATE
    def fun(beta):
        eta = np.clip(D @ beta, -_ETA_MAX, _ETA_MAX)
        if estimand == "ATE":
            u = np.exp(s * eta)             # e^-η treated, e^η control
            val = u + s * eta

            def derivatives():
                return s * (u + 1.0) @ D / n, (D * u[:, None]).T @ D / n
        elif estimand == "ATT":
            d2 = np.exp(eta) * c
            val = d2 - t * eta

            def derivatives():
                return (d2 - t) @ D / n, (D * d2[:, None]).T @ D / n
        else:  # ATC
            d2 = np.exp(-eta) * t
            val = d2 + c * eta

            def derivatives():
                return (c - d2) @ D / n, (D * d2[:, None]).T @ D / n
        return val.sum() / n, derivatives
    return fun


def cbps_weights_kernel(X: np.ndarray, z: np.ndarray, estimand: str = "ATE",
                        names: tuple = ()) -> BalancingWeights:
    """Just-identified CBPS on trusted input (the kernel of :func:`cbps_weights`).

    Parameters
    ----------
    X : (n, p) float array
        Covariates (no intercept column; none constant).
    z : (n,) array of 0/1, both arms present
    estimand : {"ATE", "ATT", "ATC"}
    names : tuple of str

    Returns
    -------
    BalancingWeights
        ``coef`` the propensity model's (intercept first), ``ps`` its fitted scores;
        ``status`` NOT_CONVERGED when the balance conditions have no solution the solver
        reaches (e.g. separated arms).

    Notes
    -----
    No validation, and never raises on data. Started at the intercept-only model.
    """
    Xs, sd = standardize(X)
    D = np.column_stack([np.ones(z.size), Xs])
    beta0 = np.zeros(D.shape[1])
    beta0[0] = special.logit(z.mean())
    beta, n_iter, ok = minimize_convex(_loss(D, z, estimand), beta0)
    eta = np.clip(D @ beta, -_ETA_MAX, _ETA_MAX)
    t = z == 1
    in_arm = [~t, t]
    if estimand == "ATE":
        w = np.where(t, 1.0 + np.exp(-eta), 1.0 + np.exp(eta))
    elif estimand == "ATT":
        w = np.where(t, 1.0, np.exp(eta))
    else:
        w = np.where(t, np.exp(-eta), 1.0)
    return BalancingWeights(
        weights=w, treated=z.astype(np.int8), method="cbps", estimand=estimand,
        ps=special.expit(eta), coef=np.concatenate([beta[:1], beta[1:] / sd]), names=names,
        target=np.full(X.shape[1], np.nan), weighted_means=weighted_arm_means(X, in_arm, w),
        n_iter=n_iter, status=Estimability.OK if ok else Estimability.NOT_CONVERGED,
        message="" if ok else "the CBPS balance conditions were not solved (separated arms?)")


def cbps_weights(X, treated, *, estimand: str = "ATE", names=None) -> BalancingWeights:
    """Weights from the just-identified covariate balancing propensity score.

    Parameters
    ----------
    X : (n, p) array-like or DataFrame
        Covariates of the propensity model (an intercept is added).
    treated : (n,) array-like of 0/1
    estimand : {"ATE", "ATT", "ATC"}
    names : sequence of str, optional

    Returns
    -------
    BalancingWeights

    Raises
    ------
    ValueError
        Bad input (including linearly dependent covariates), or the balance conditions
        were not solved.

    Notes
    -----
    R equivalent: ``WeightIt::weightit(treated ~ x1 + x2, data, method = "cbps",
    estimand = "ATE", over = FALSE)``.

    References
    ----------
    Imai K, Ratkovic M (2014). JRSS B 76:243-263.
    """
    Xa, z, nm = _model_columns(X, treated, estimand, names)
    return _converged(cbps_weights_kernel(Xa, z, estimand, nm))


def cbps_weights_checked(solved: BalancingWeights, X, treated) -> BalancingWeights:
    """:func:`cbps_weights`' checks of its kernel's result ``solved`` on ``X``; see
    :func:`estimators.balancing_weights.balancing_weights_checked`."""
    _model_columns(X, treated, solved.estimand, None)
    return _converged(solved)


def _model_columns(X, treated, estimand, names):
    """The validated covariates, 0/1 treatment and names: as entropy balancing's, with
    dependent columns refused (they leave the coefficients unidentified, and the solver
    would stop on a singular Hessian as if the arms were separated)."""
    check_choice(estimand, "estimand", CBPS_ESTIMANDS)
    Xa, z, nm = check_covariates(X, treated, names)
    check_independent(Xa, nm, "propensity model's covariates")
    return Xa, z, nm


def _converged(res: BalancingWeights) -> BalancingWeights:
    if not res.status.ok:
        raise ValueError(f"{res.message} (estimand={res.estimand!r})")
    return res
