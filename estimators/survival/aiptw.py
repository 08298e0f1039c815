"""Augmented IPTW (doubly robust) marginal risk with censoring (AIPTW-AIPCW).

With ``F_i(t) = 1 - S(t | a, x_i)`` from the Cox outcome model, ``e_a`` the treatment model
and ``G`` the censoring model (see :mod:`estimators.survival.gformula` and
:mod:`estimators.survival.ipw`)::

    F_a(tau) = (1/n) sum_i [ F_i(tau) + 1{Z_i = a} / e_a(x_i)
                              * ( Y_i(tau) / G(T_i- | x_i) - F_i(tau) + A_i(tau) ) ]

    A_i(tau) = sum_{s_k <= min(T_i, tau)} (F_i(tau) - F_i(s_k)) dM^C_i(s_k)
                                          / (G(s_k- | x_i) S(s_k- | a, x_i))

where ``Y_i(tau) = 1{T_i <= tau, event_i = 1}``, ``s_k`` are the censoring times and
``dM^C_i(s_k) = dN^C_i(s_k) - 1{T_i >= s_k} dL_C(s_k | x_i)`` the censoring martingale
increment (Tsiatis 2006, 10.4; Bai, Tsiatis & O'Brien 2013). It is consistent if either the
outcome model or both the treatment and censoring models are right. The influence function
is the centred term plus the chain rule through all three models (coefficients and
baseline hazards), as ``riskRegression::ate(estimator = "AIPTW")``, so the SE is right in
finite samples even when one model is wrong.

riskRegression 2022.11.28 (fixed upstream in 2024) lists a censoring time shared by ``k``
patients ``k`` times in the sum over ``s_k``, each entry with all ``k`` censorings and the
whole hazard jump, the later entries with ``G`` after the jump; here each distinct
censoring time appears once. Both agree without tied censoring times; on the tied fixture
(62 tied censorings) R's risks differ from these by up to 0.06, and re-doing R's
duplicate entries reproduces them (``tests/estimators/test_survival_ate_ties.py``).
"""
from __future__ import annotations

import numpy as np

from .ate_nuisance import ArmRisk, BreslowCox, LogisticNuisance, jump_gradient
from .ipw import censoring_if, censoring_survival

__all__ = ["aiptw_arm"]


def aiptw_arm(arm: int, time: np.ndarray, event: np.ndarray, z: np.ndarray,
              outcome: BreslowCox, X_arm: np.ndarray, treatment: LogisticNuisance,
              censoring: BreslowCox, Z_cens: np.ndarray, horizons: np.ndarray) -> ArmRisk:
    """Doubly robust risk of one arm at each horizon (trusted-input kernel).

    Parameters
    ----------
    arm : 0 or 1
    time, event, z : (n,) arrays
    outcome : BreslowCox
        Outcome model fitted on ``[treated, X]``.
    X_arm : (n, p) outcome design with the treatment column set to ``arm``.
    treatment : LogisticNuisance
    censoring : BreslowCox
        Censoring model on ``Z_cens`` (q may be 0).
    Z_cens : (n, q)
    horizons : (H,)

    Returns
    -------
    ArmRisk

    References
    ----------
    Ozenne BMH, Scheike TH, Staerk L, Gerds TA. On the estimation of average treatment
    effects with right-censored time to event outcome and competing risks. Biom J
    2020;62:751-763. Tsiatis AA. Semiparametric Theory and Missing Data. Springer 2006.
    """
    n, H = time.size, horizons.size
    s = censoring.times[censoring.times <= horizons.max()]
    kc = s.size
    r = outcome.risk_score(X_arm)
    L_r, L_l, L_tau = (outcome.cumhaz_at(s), outcome.cumhaz_at(s, left=True),
                       outcome.cumhaz_at(horizons))
    S_r, S_l = np.exp(-np.outer(r, L_r)), np.exp(-np.outer(r, L_l))
    S_tau = np.exp(-np.outer(r, L_tau))                                 # (n, H)
    G, rho, cum_c = censoring_survival(censoring, time, Z_cens)
    dLC, LC_l = censoring.jumps[:kc], censoring.cumhaz_at(s, left=True)
    inv_gs = (s <= time[:, None]) / (np.exp(-np.outer(rho, LC_l)) * S_l)  # 0 after T_i
    dN = (time[:, None] == s) & (event[:, None] == 0)
    q = (dN - np.outer(rho, dLC)) * inv_gs
    died = (time[:, None] <= horizons) & (event[:, None] == 1)
    W = (z == arm) / treatment.arm_probability(arm)
    w, u = W / n, (1.0 - W) / n

    psi, B = np.empty((n, H)), np.empty((n, H))
    m_tau = np.zeros((H, H))
    m_r, m_l, mc_l, jc = (np.zeros((kc, H)) for _ in range(4))
    grad_beta = np.zeros((X_arm.shape[1], H))
    grad_gamma = np.zeros((Z_cens.shape[1], H))
    Xc = X_arm - outcome.center if outcome.coef.size else X_arm
    Zc = Z_cens - censoring.center if censoring.coef.size else Z_cens
    for h in range(H):
        inh = s <= horizons[h]
        st = S_tau[:, h]
        v = (S_r - st[:, None]) * inh                                   # 0 beyond tau
        vq = v * q
        i1 = (q * inh).sum(axis=1)
        B[:, h] = died[:, h] / G - (1.0 - st) + vq.sum(axis=1)
        psi[:, h] = (1.0 - st) + W * B[:, h]
        # outcome model: derivatives with respect to L0(tau), L0(s_k), L0(s_k-) and beta
        wr = w * r
        m_tau[h, h] = u @ (st * r) + wr @ (st * i1)
        m_r[:, h] = -(wr @ (S_r * q * inh))
        m_l[:, h] = wr @ vq
        inner = (-(S_r * L_r) + (st * L_tau[h])[:, None] + v * L_l) * q * inh
        grad_beta[:, h] = Xc.T @ (u * st * L_tau[h] * r + wr * inner.sum(axis=1))
        # censoring model: the jump dL_C(s_k) itself, L_C(s_k-) and gamma
        wrho = w * rho
        jc[:, h] = -(wrho @ (v * inv_gs))
        mc_l[:, h] = wrho @ vq
        grad_gamma[:, h] = Zc.T @ (wrho * (-(v * inv_gs) @ dLC + vq @ LC_l))
    risk = psi.mean(axis=0)
    iid = (psi - risk) / n
    iid += treatment.arm_if(arm, -(W[:, None] * B) / (n * treatment.arm_probability(arm)[:, None]))
    g_out = (jump_gradient(outcome.times, horizons, m_tau)
             + jump_gradient(outcome.times, s, m_r)
             + jump_gradient(outcome.times, s, m_l, left=True))
    iid += outcome.jump_if(g_out)
    if outcome.coef.size:
        iid += outcome.if_beta @ grad_beta
    g_cens = jump_gradient(censoring.times, s, mc_l, left=True)
    g_cens[:kc] += jc
    iid += censoring.jump_if(g_cens)
    if censoring.coef.size:
        iid += censoring.if_beta @ grad_gamma
    iid += censoring_if(censoring, time, Z_cens, rho, cum_c, w[:, None] * died / G[:, None])
    return ArmRisk(risk, iid)
