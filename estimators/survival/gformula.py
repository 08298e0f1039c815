"""G-formula (standardization) of a Cox model: marginal risk under each treatment.

Each patient's survival to ``tau`` is predicted from a Cox model with treatment and
covariates and a Breslow baseline hazard, with the treatment set to ``a`` for everyone, and
averaged (Robins 1986; for the Cox model, Chang et al. 1982 "direct adjusted survival")::

    F_a(tau) = (1/n) sum_j [1 - exp(-L0(tau) exp(beta_z a + beta_x' x_j))]

The influence function is the centred term ``(F_aj(tau) - F_a(tau)) / n`` plus the chain
rule through the Cox model's coefficients and baseline hazard
(:mod:`estimators.survival.ate_nuisance`), as ``riskRegression::ate(estimator =
"GFORMULA")`` (Ozenne, Scheike, Staerk & Gerds 2020).
"""
from __future__ import annotations

import numpy as np

from .ate_nuisance import ArmRisk, BreslowCox, jump_gradient, survival_matrix

__all__ = ["gformula_arm"]


def gformula_arm(outcome: BreslowCox, X_arm: np.ndarray, horizons: np.ndarray,
                 contrast: np.ndarray | None = None) -> ArmRisk:
    """Standardized risk of one arm at each horizon (trusted-input kernel).

    Parameters
    ----------
    outcome : BreslowCox
        Outcome model fitted on ``[treated, X]``.
    X_arm : (n, p) outcome design with the treatment column set to the arm.
    horizons : (H,) times.
    contrast : (H, m) array, optional
        Return the influence function of ``risk @ contrast`` (``iid @ contrast``, (n, m))
        instead of the risks' (n, H): linear in every term, so the contraction is applied
        before the nuisance chain rule, never to an (n, H) matrix of it (the RMST's
        weighted sums over every event time).

    Returns
    -------
    ArmRisk

    References
    ----------
    Ozenne BMH, Scheike TH, Staerk L, Gerds TA. On the estimation of average treatment
    effects with right-censored time to event outcome and competing risks. Biom J
    2020;62:751-763.
    """
    n = X_arm.shape[0]
    r = outcome.risk_score(X_arm)
    cum = outcome.cumhaz_at(horizons)
    surv = survival_matrix(cum, r)                      # (H, n)
    W = np.eye(horizons.size) if contrast is None else contrast
    # one pass over the survival matrix each: the means (the risk, and d F_a / d L0(tau)
    # summed over patients) and the contractions (the IF, and the tilt by L0(tau))
    mean, mean_r = (surv @ np.stack((np.ones(n), r), axis=1) / n).T
    risk = 1.0 - mean
    surv_W, surv_LW = np.hsplit(surv.T @ np.hstack((W, cum[:, None] * W)), 2)
    iid = (W.sum(axis=0) - surv_W - risk @ W) / n
    iid += outcome.jump_if(jump_gradient(outcome.times, horizons, mean_r[:, None] * W))
    if outcome.coef.size:
        grad_beta = (X_arm - outcome.center).T @ (r[:, None] * surv_LW / n)   # (p, m)
        iid += outcome.if_beta @ grad_beta
    return ArmRisk(risk, iid)
