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


def _prefix(A: np.ndarray) -> np.ndarray:
    """Row-wise cumulative sums with a leading 0: ``_prefix(A)[:, j] = sum_{k < j} A[:, k]``."""
    out = np.zeros((A.shape[0], A.shape[1] + 1))
    np.cumsum(A, axis=1, out=out[:, 1:])
    return out


def _suffix(A: np.ndarray) -> np.ndarray:
    """Cumulative sums from the end along axis 0, with a trailing 0 row:
    ``_suffix(A)[j] = sum_{h >= j} A[h]``."""
    out = np.zeros((A.shape[0] + 1,) + A.shape[1:])
    out[:-1] = np.cumsum(A[::-1], axis=0)[::-1]
    return out


def aiptw_arm(arm: int, time: np.ndarray, event: np.ndarray, z: np.ndarray,
              outcome: BreslowCox, X_arm: np.ndarray, treatment: LogisticNuisance,
              censoring: BreslowCox, Z_cens: np.ndarray, horizons: np.ndarray,
              contrast: np.ndarray | None = None) -> ArmRisk:
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
    horizons : (H,) increasing
    contrast : (H, m) array, optional
        As :func:`estimators.survival.gformula.gformula_arm`: the IF of
        ``risk @ contrast``.

    Returns
    -------
    ArmRisk

    Notes
    -----
    The censoring augmentation at horizon ``tau_h`` sums over the censoring times
    ``s_k <= tau_h``: every such sum is a prefix of one cumulative sum over ``k`` (read at
    the number of censoring times up to ``tau_h``), and every sum over patients of a
    term masked by ``s_k <= tau_h`` is a suffix sum over the horizons, so all horizons
    cost O(n (K + H m)) rather than a loop over the horizons of O(n K) each (K censoring
    times; the RMST asks for every event time as a horizon and contracts to m = its
    horizons).

    References
    ----------
    Ozenne BMH, Scheike TH, Staerk L, Gerds TA. On the estimation of average treatment
    effects with right-censored time to event outcome and competing risks. Biom J
    2020;62:751-763. Tsiatis AA. Semiparametric Theory and Missing Data. Springer 2006.
    """
    n, H = time.size, horizons.size
    Wc = np.eye(H) if contrast is None else contrast
    s = censoring.times[censoring.times <= horizons.max()]
    kc = s.size
    at = np.searchsorted(s, horizons, side="right")      # censoring times s_k <= tau_h
    h0 = np.searchsorted(horizons, s, side="left")       # first horizon with s_k <= tau_h
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
    wr, wrho = w * r, w * rho
    Xc = X_arm - outcome.center if outcome.coef.size else X_arm
    Zc = Z_cens - censoring.center if censoring.coef.size else Z_cens

    def upto(A):
        """(n, H): ``sum_{s_k <= tau_h} A[:, k]``."""
        return _prefix(A)[:, at]

    # sum_k (S(s_k) - S(tau)) q_k over s_k <= tau: the augmentation A_i(tau)
    S_rq, q_tau = S_r * q, upto(q)
    B = died / G[:, None] - (1.0 - S_tau) + upto(S_rq) - S_tau * q_tau
    psi = (1.0 - S_tau) + W[:, None] * B
    mask_w = _suffix(Wc)[h0]                             # (kc, m): sum_{h >= h0(k)} Wc[h]
    # a contraction to fewer columns than horizons (the RMST's) sums S_tau over the
    # horizons first, (kc, n, m); otherwise the (kc, H) products, as many as a loop's
    SW = (_suffix(S_tau.T[:, :, None] * Wc[:, None, :])[h0]       # (kc, n, m)
          if Wc.shape[1] < H else None)
    inh = s[:, None] <= horizons

    def masked(a, A):
        """``((a_k - sum_i A_ik S_tau[i, h]) 1{s_k <= tau_h}) @ Wc``, (kc, m)."""
        if SW is not None:
            return a[:, None] * mask_w - np.einsum("ik,kim->km", A, SW)
        return ((a[:, None] - A.T @ S_tau) * inh) @ Wc

    # outcome model: derivatives with respect to L0(tau), L0(s_k), L0(s_k-) and beta
    m_tau = ((u * r) @ S_tau + wr @ (S_tau * q_tau))[:, None] * Wc          # (H, m)
    a_r = wr @ S_rq
    m_r = -a_r[:, None] * mask_w
    m_l = masked(a_r, wr[:, None] * q)
    inner = (-upto(S_rq * L_r) + S_tau * L_tau * q_tau + upto(S_rq * L_l)
             - S_tau * upto(q * L_l))
    grad_beta = Xc.T @ (((u * r)[:, None] * S_tau * L_tau + wr[:, None] * inner) @ Wc)
    # censoring model: the jump dL_C(s_k) itself, L_C(s_k-) and gamma
    g_inv = S_r * inv_gs
    jc = -masked(wrho @ g_inv, wrho[:, None] * inv_gs)
    mc_l = masked(wrho @ S_rq, wrho[:, None] * q)
    aug_c = (-upto(g_inv * dLC) + S_tau * upto(inv_gs * dLC)
             + upto(S_rq * LC_l) - S_tau * upto(q * LC_l))
    grad_gamma = Zc.T @ ((wrho[:, None] * aug_c) @ Wc)
    risk = psi.mean(axis=0)
    iid = ((psi - risk) / n) @ Wc
    iid += treatment.arm_if(arm, -((W[:, None] * B) @ Wc)
                            / (n * treatment.arm_probability(arm)[:, None]))
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
    iid += censoring_if(censoring, time, Z_cens, rho, cum_c,
                        (w[:, None] * died / G[:, None]) @ Wc)
    return ArmRisk(risk, iid)
