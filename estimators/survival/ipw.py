"""Inverse probability of treatment and censoring weighting (IPTW-IPCW) for marginal risk.

Each patient who died by ``tau`` in arm ``a`` is weighted by the inverse of the probability
of receiving ``a`` (logistic model) and of remaining uncensored just before death (Cox or
marginal model for censoring, ``G(t- | x) = exp(-L_C(t-) exp(gamma' x))``)::

    F_a(tau) = (1/n) sum_i 1{Z_i = a} 1{T_i <= tau, event_i = 1} / (e_a(x_i) G(T_i- | x_i))

(Horvitz-Thompson form: divided by ``n``, not by the sum of weights; Robins & Rotnitzky
1992; Satten, Datta & Robins 2001). Its influence function adds to the centred term the
chain rule through the treatment model and through the censoring model's coefficients and
baseline hazard, as ``riskRegression::ate(estimator = "IPTW")`` with a censoring model.
"""
from __future__ import annotations

import numpy as np

from .ate_nuisance import ArmRisk, BreslowCox, DeathsByHorizon, LogisticNuisance, jump_gradient

__all__ = ["censoring_survival", "iptw_arm"]


def censoring_survival(censoring: BreslowCox, time: np.ndarray, Z: np.ndarray):
    """``G(T_i- | z_i)``, the risk scores ``rho_i`` and ``L_C(T_i-)`` of each patient."""
    rho = censoring.risk_score(Z)
    cum = censoring.cumhaz_at(time, left=True)
    return np.exp(-cum * rho), rho, cum


def censoring_if(censoring: BreslowCox, time: np.ndarray, Z: np.ndarray, rho: np.ndarray,
                 cum: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """IF term of an estimate whose derivative with respect to ``L_C(T_j- | z_j)`` (the
    cumulative censoring hazard of patient j just before T_j) is ``grad`` (n, m)."""
    g = grad * rho[:, None]
    out = censoring.jump_if(jump_gradient(censoring.times, time, g, left=True))
    if censoring.coef.size:
        out += censoring.if_beta @ ((Z - censoring.center).T @ (g * cum[:, None]))
    return out


def iptw_arm(arm: int, time: np.ndarray, event: np.ndarray, z: np.ndarray,
             treatment: LogisticNuisance, censoring: BreslowCox, Z_cens: np.ndarray,
             horizons: np.ndarray, contrast: np.ndarray | None = None) -> ArmRisk:
    """IPTW-IPCW risk of one arm at each horizon (trusted-input kernel).

    Parameters
    ----------
    arm : 0 or 1
    time, event, z : (n,) arrays
    treatment : LogisticNuisance
    censoring : BreslowCox
        Censoring model fitted with ``1 - event`` as the event on ``Z_cens``.
    Z_cens : (n, q) censoring design (q may be 0).
    horizons : (H,) times.
    contrast : (H, m) array, optional
        As :func:`estimators.survival.gformula.gformula_arm`: the IF of
        ``risk @ contrast``.

    Returns
    -------
    ArmRisk

    References
    ----------
    Ozenne BMH, Scheike TH, Staerk L, Gerds TA. On the estimation of average treatment
    effects with right-censored time to event outcome and competing risks. Biom J
    2020;62:751-763.
    """
    n = time.size
    deaths = DeathsByHorizon.of(time, event, horizons)
    G, rho, cum = censoring_survival(censoring, time, Z_cens)
    p_arm = treatment.arm_probability(arm)
    counted = deaths.first < horizons.size
    weight = np.where(counted, (z == arm) / np.where(counted, p_arm * G, 1.0), 0.0)
    risk = deaths.sums(weight) / n           # psi_i(tau_h) = weight_i Y_i(tau_h)
    W = np.eye(horizons.size) if contrast is None else contrast
    psi_w = weight[:, None] * deaths.contract(W)   # every IF term below is linear in psi
    iid = (psi_w - risk @ W) / n
    iid += treatment.arm_if(arm, -psi_w / (n * p_arm[:, None]))
    iid += censoring_if(censoring, time, Z_cens, rho, cum, psi_w / n)
    return ArmRisk(risk, iid)
