"""Entropy balancing (Hainmueller 2012): weights closest to uniform in Kullback-Leibler
divergence whose weighted covariate moments equal the target's exactly.

For the reweighted arm with rows ``C_i = (x_i - m) / s`` (``m`` the target means, ``s`` the
column SDs over all units) and base weights ``q_i`` (1 here, as WeightIt's default), the
weights are ``w_i ∝ q_i exp(C_i' λ)`` where ``λ`` minimizes the convex dual

    f(λ) = log Σ_i q_i exp(C_i' λ),

whose gradient is the weighted mean of ``C``: at the optimum the balance constraints hold
to the solver's gradient tolerance (1e-10 SD). Which arm moves to which target is the
estimand (WeightIt ``method = "ebal"``):

======== ============================ ==============================================
estimand reweighted arm(s)            target means
======== ============================ ==============================================
ATT      controls                     the treated arm's (treated weights 1)
ATC      treated                      the control arm's (control weights 1)
ATE      both, separately             the whole sample's (unweighted)
======== ============================ ==============================================

Each reweighted arm's weights are scaled to mean 1 (sum = arm size); any constant scale
gives the same weighted means and effect. ``moments = k`` also balances the powers 2..k of
every non-binary covariate (WeightIt ``moments``; default 1, means only).

References
----------
Hainmueller J (2012). Entropy balancing for causal effects: a multivariate reweighting
method to produce balanced samples in observational studies. Political Analysis 20:25-46.
Zhao Q, Percival D (2017). Entropy balancing is doubly robust. J Causal Inference 5(1).
"""
from __future__ import annotations

import numpy as np

from .balancing_result import (BalancingWeights, check_covariates, check_independent,
                               minimize_convex, moment_columns, standardize,
                               weighted_arm_means)
from ._checks import check_choice
from .status import Estimability

__all__ = ["EBAL_ESTIMANDS", "entropy_balancing", "entropy_balancing_checked",
           "entropy_balancing_kernel"]

#: estimand -> (reweighted arms, arm whose means are the target; None = all units)
EBAL_ESTIMANDS = {"ATT": ((0,), 1), "ATC": ((1,), 0), "ATE": ((0, 1), None)}


class _Dual:
    """``f(λ) = logsumexp(C λ)`` (base weights 1), called as ``fun(λ) -> (f, derivatives)``
    with ``derivatives() -> (gradient, Hessian)`` (see :func:`minimize_convex`);
    ``separates(λ)`` is the infeasibility certificate below."""

    def __init__(self, C: np.ndarray):
        self.C = C
        self._at, self._eta = None, None   # the last λ evaluated and its C λ

    def __call__(self, lam):
        C = self.C
        eta = C @ lam
        self._at, self._eta = lam, eta
        top = eta.max()   # shifted so that exp() cannot overflow (logsumexp by hand:
        e = np.exp(eta - top)   # scipy's costs more than the rest of an evaluation)
        total = e.sum()

        def derivatives():
            p = e / total
            g = p @ C
            return g, (C * p[:, None]).T @ C - np.outer(g, g)
        return top + np.log(total), derivatives

    def separates(self, lam) -> bool:
        """``lam`` proves the target (the origin of ``C``'s rows) lies outside the convex
        hull of the arm's rows when ``C_i' lam < 0`` for every row: then no convex
        combination of the rows, so no weights, reach the target. The dual path of an
        infeasible problem finds such a hyperplane within a few Newton steps (the dual is
        unbounded below along it)."""
        return bool(self.linear(lam).max() < 0.0)

    def linear(self, lam) -> np.ndarray:
        """``C λ``, reused when ``λ`` is the point just evaluated (the solver checks and
        returns the points it has evaluated)."""
        return self._eta if lam is self._at else self.C @ lam


def entropy_balancing_kernel(X: np.ndarray, z: np.ndarray, estimand: str = "ATT",
                             names: tuple = ()) -> BalancingWeights:
    """Entropy-balancing weights on trusted input (the kernel of :func:`entropy_balancing`).

    Parameters
    ----------
    X : (n, p) float array
        The columns to balance (powers already appended), none constant.
    z : (n,) array of 0/1, both arms present
    estimand : {"ATT", "ATC", "ATE"}
    names : tuple of str

    Returns
    -------
    BalancingWeights
        ``status`` NOT_CONVERGED when a dual did not reach the tolerance in 200 damped
        Newton steps, or stopped early on a hyperplane that separates the target from
        the arm (the target is outside the arm's convex hull: no weights exist).

    Notes
    -----
    No validation, and never raises on data.
    """
    arms, focal = EBAL_ESTIMANDS[estimand]
    in_arm = [z == 0, z == 1]
    target = X.mean(axis=0) if focal is None else X[in_arm[focal]].mean(axis=0)
    Xs, sd = standardize(X)
    ts = target / sd
    w = np.ones(z.size)
    coefs, n_iter, ok = [], 0, True
    for arm in arms:
        dual = _Dual(Xs[in_arm[arm]] - ts)
        lam, it, conv = minimize_convex(dual, np.zeros(X.shape[1]), infeasible=dual.separates)
        eta = dual.linear(lam)
        wa = np.exp(eta - eta.max())
        w[in_arm[arm]] = wa / wa.mean()
        coefs.append(lam / sd)
        n_iter += it
        ok &= conv
    status = Estimability.OK if ok else Estimability.NOT_CONVERGED
    msg = "" if ok else ("entropy balancing did not converge: the target means may lie "
                         "outside the convex hull of the reweighted arm")
    return BalancingWeights(weights=w, treated=z.astype(np.int8), method="ebal",
                            estimand=estimand, coef=np.concatenate(coefs), names=names,
                            target=target, weighted_means=weighted_arm_means(X, in_arm, w),
                            n_iter=n_iter, status=status, message=msg)


def entropy_balancing(X, treated, *, estimand: str = "ATT", moments: int = 1,
                      names=None) -> BalancingWeights:
    """Entropy-balancing weights (Hainmueller 2012) for a binary treatment.

    Parameters
    ----------
    X : (n, p) array-like or DataFrame
        Covariates (numeric; code factors as indicators). A DataFrame's column names are
        used as ``names``.
    treated : (n,) array-like of 0/1
    estimand : {"ATT", "ATC", "ATE"}
        See the module table.
    moments : {1, 2, 3}
        Balance the means (1), also the variances' second moments (2), and third (3) of the
        non-binary covariates.
    names : sequence of str, optional

    Returns
    -------
    BalancingWeights
        ``weighted_means`` equal ``target`` in every reweighted arm (to 1e-10 SD).

    Raises
    ------
    ValueError
        Bad input, or the dual did not converge (no weights balance the arm to the target).

    Notes
    -----
    R equivalent: ``WeightIt::weightit(treated ~ x1 + x2, data, method = "ebal",
    estimand = "ATT")`` (moments = 1, base weights 1).

    References
    ----------
    Hainmueller J (2012). Political Analysis 20:25-46.
    """
    Xm, z, nm = _balanced_columns(X, treated, estimand, moments, names)
    return _converged(entropy_balancing_kernel(Xm, z, estimand, nm), moments)


def entropy_balancing_checked(solved: BalancingWeights, X, treated) -> BalancingWeights:
    """:func:`entropy_balancing`'s checks of its kernel's result ``solved`` on ``X`` (means
    only); see :func:`estimators.balancing_weights.balancing_weights_checked`."""
    _balanced_columns(X, treated, solved.estimand, 1, None)
    return _converged(solved, 1)


def _balanced_columns(X, treated, estimand, moments, names):
    """The validated columns to balance (powers appended), 0/1 treatment and names."""
    check_choice(estimand, "estimand", tuple(EBAL_ESTIMANDS))
    # (2.0 == 2 would pass the choice, and fail in range())
    if isinstance(moments, bool) or not isinstance(moments, (int, np.integer)):
        raise ValueError(f"moments must be one of (1, 2, 3); got {moments!r}")
    check_choice(moments, "moments", (1, 2, 3))
    Xa, z, nm = check_covariates(X, treated, names)
    Xm, nm = moment_columns(Xa, nm, moments)
    check_independent(Xm, nm, "balanced columns")
    return Xm, z, nm


def _converged(res: BalancingWeights, moments: int) -> BalancingWeights:
    if not res.status.ok:
        raise ValueError(f"{res.message} (estimand={res.estimand!r}, moments={moments})")
    return res
