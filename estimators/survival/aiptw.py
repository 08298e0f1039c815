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

from dataclasses import dataclass

import numpy as np

from tacebench.records import ArrayRecord
from .aiptw_terms import ArmFreeTerms, arm_free_terms
from .ate_nuisance import (ArmRisk, BreslowCox, LogisticNuisance, rows_added_at,
                           survival_matrix)

__all__ = ["aiptw_arm", "aiptw_arms", "arm_free_terms"]


def _accumulate_rows(A: np.ndarray, *, reverse: bool = False) -> np.ndarray:
    """``A`` made its cumulative sums over the first axis in place (from the end with
    ``reverse``), row by row: the additions and their order are ``np.cumsum``'s, but one
    vector add per row over the contiguous rest instead of ``cumsum``'s element-wise walk
    down the first axis (several times faster on the (times, patients) arrays)."""
    if A.ndim == 1:  # (a row is a scalar: nothing to gain)
        view = A[::-1] if reverse else A
        return np.cumsum(view, out=view)
    rows = list(A)
    if reverse:
        rows.reverse()
    for before, row in zip(rows, rows[1:]):
        np.add(row, before, out=row)
    return A


def _prefix(A: np.ndarray) -> np.ndarray:
    """Cumulative sums over the first axis with a leading 0 row:
    ``_prefix(A)[j] = sum_{k < j} A[k]``."""
    out = np.zeros((A.shape[0] + 1,) + A.shape[1:])
    out[1:] = A
    _accumulate_rows(out[1:])
    return out


def _weighted_by_survival(q, inv_gs, S_tau, Wc, LW, at, L_l, LC_l, dLC, V, Y, Y_inv,
                          grouping) -> tuple:
    """The sums of the augmentation's terms weighted by the survival to the horizons.

    With ``upto(A)[i, h] = sum_{s_k <= tau_h} A[k, i]`` and ``S = S_tau`` (H, n):
    ``SQ = S * upto(q)`` contracted, ``SQ @ LW`` (n, 2m) split in two and ``SQ @ V``
    (H, c); ``(S * upto(q L_l)) @ Wc`` and
    ``(S * upto(inv_gs dL_C - q L_C)) @ Wc`` (n, m); and for ``A`` = ``y q`` (each column
    ``y`` of ``Y``) and ``y inv_gs`` (each column of ``Y_inv``) the sums
    ``(sum_i A_ki S_i(tau_h) 1{s_k <= tau_h}) @ Wc``, stacked on a last axis (kc, m, .).
    With few horizons (the risks') these are (H, kc) and (kc, H) products; with many (the
    RMST's every event time) they read ``sum_{h: s_k <= tau_h} Wc[h] S[h]``, the survival
    rows grouped by the number of censoring times before them, (kc, m, n).
    """
    kc, (H, n) = q.shape[0], S_tau.shape
    J = kc + 1
    if H <= J:
        upto = (np.arange(kc) < at[:, None]).astype(np.float64)    # (H, kc): s_k <= tau_h
        SQ, P_l, P_c = (np.vstack((upto, upto * L_l, upto * LC_l)) @ q).reshape(3, H, n)
        SQ *= S_tau
        sw_out = (S_tau * P_l).T @ Wc
        sw_cens = (S_tau * ((upto * dLC) @ inv_gs - P_c)).T @ Wc

        def upto_w(M, cols):    # (kc, cols H) -> (kc, m, cols)
            return np.stack([(B * upto.T) @ Wc for B in np.hsplit(M, cols)], axis=2)
        S_Y = np.hstack([(S_tau * y).T for y in Y.T])                   # (n, cols H)
        S_Yi = np.hstack([(S_tau * y).T for y in Y_inv.T])
        return (*np.hsplit(SQ.T @ LW, 2), SQ @ V, sw_out, sw_cens,
                upto_w(q @ S_Y, Y.shape[1]), upto_w(inv_gs @ S_Yi, Y_inv.shape[1]))
    # (in place: the peak of live large arrays sets the page faults of every call)
    S_after = (grouping @ S_tau).reshape(J, Wc.shape[1], n)
    _accumulate_rows(S_after, reverse=True)
    S_after = S_after[1:]                        # sum_{h: s_k <= tau_h}, (kc, m, n)
    SQ = np.take(_prefix(q), at, axis=0)
    SQ *= S_tau
    SQ_W, SQ_LW = np.hsplit(SQ.T @ LW, 2)
    SQ_sum = SQ @ V
    del SQ
    A = q[:, None, :] * S_after
    sw_out, sw_c = np.tensordot(np.stack((L_l, LC_l)), A, axes=(1, 0)).transpose(0, 2, 1)
    ms = A @ Y
    np.multiply(inv_gs[:, None, :], S_after, out=A)
    sw_cens = np.tensordot(dLC, A, axes=(0, 0)).T - sw_c
    return SQ_W, SQ_LW, SQ_sum, sw_out, sw_cens, ms, A @ Y_inv


def aiptw_arm(arm: int, time: np.ndarray, event: np.ndarray, z: np.ndarray,
              outcome: BreslowCox, X_arm: np.ndarray, treatment: LogisticNuisance,
              censoring: BreslowCox, Z_cens: np.ndarray, horizons: np.ndarray,
              contrast: np.ndarray | None = None,
              shared: ArmFreeTerms | None = None) -> ArmRisk:
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
    shared : ArmFreeTerms, optional
        :func:`arm_free_terms` of these same models, horizons and contrast, computed once
        for both arms (default: computed here).

    Returns
    -------
    ArmRisk

    Notes
    -----
    Arrays are time-major, (times, patients). A sum over the censoring times up to each
    horizon contracted with ``Wc`` is one product with ``mask_w[k] = sum_{h: s_k <= tau_h}
    Wc[h]``, and a factor of ``s_k`` goes into ``mask_w`` rather than into a (K, n) array.
    The terms weighted by the survival to the horizon need, with few horizons (the
    risks'), (H, K) and (K, H) products; with many (the RMST asks for every event time as
    a horizon and contracts to m = its horizons), the survival rows grouped by
    ``at[h] = #{s_k <= tau_h}``, which takes at most K + 1 values: one sparse product and
    a suffix sum give ``sum_{h: s_k <= tau_h} Wc[h] S_i(tau_h)``, (K, m, n). Nothing is
    (n, K, H): the cost is O(n (H + K) m) for K censoring times.

    References
    ----------
    Ozenne BMH, Scheike TH, Staerk L, Gerds TA. On the estimation of average treatment
    effects with right-censored time to event outcome and competing risks. Biom J
    2020;62:751-763. Tsiatis AA. Semiparametric Theory and Missing Data. Springer 2006.
    """
    t = shared if shared is not None else arm_free_terms(time, event, outcome, censoring,
                                                         Z_cens, horizons, contrast)
    parts = _arm_parts(time, z, outcome, ((arm, X_arm),), treatment, t)
    return _with_nuisance_if(outcome, censoring, t, parts)[0]


def aiptw_arms(time: np.ndarray, event: np.ndarray, z: np.ndarray, outcome: BreslowCox,
               X_arms: tuple, treatment: LogisticNuisance, censoring: BreslowCox,
               Z_cens: np.ndarray, horizons: np.ndarray, contrast: np.ndarray | None = None,
               shared: ArmFreeTerms | None = None) -> tuple:
    """:func:`aiptw_arm` of both arms: the censoring augmentation of all patients in one
    pass, each under their own arm (the patients of both arms are all patients), and the
    outcome and censoring models' chain rule applied to the two arms' gradients side by
    side (one pass over each model's jumps instead of one per arm and term).

    Parameters
    ----------
    time, event, z, outcome, treatment, censoring, Z_cens, horizons, contrast, shared
        As :func:`aiptw_arm`.
    X_arms : (X_0, X_1)
        The outcome design with the treatment column set to 0 and to 1.

    Returns
    -------
    (ArmRisk, ArmRisk)
        Control and treated; equal to :func:`aiptw_arm`'s to rounding (sums over one
        arm's patients run over all patients with zero weights outside the arm, and the
        gradients of one model are summed before its chain rule rather than after).
    """
    t = shared if shared is not None else arm_free_terms(time, event, outcome, censoring,
                                                         Z_cens, horizons, contrast)
    parts = _arm_parts(time, z, outcome, ((0, X_arms[0]), (1, X_arms[1])), treatment, t)
    return tuple(_with_nuisance_if(outcome, censoring, t, parts))


@dataclass(frozen=True, eq=False)
class _ArmPart(ArrayRecord):
    """One arm's risk, the IF without the outcome and censoring models' terms, and the
    derivatives those terms contract: with respect to the outcome model's ``L0`` at
    ``k_out``'s times and its coefficients, and the censoring model's ``L_C`` at
    ``k_cens``'s times, its jumps at ``s`` and its coefficients (each (., m))."""

    risk: np.ndarray
    iid: np.ndarray
    d_out: np.ndarray
    d_beta: np.ndarray
    d_cens: np.ndarray
    d_jump_cens: np.ndarray
    d_gamma: np.ndarray


def _jump_gradient_at(k: np.ndarray, n_jumps: int, weights: np.ndarray) -> np.ndarray:
    """:func:`~estimators.survival.ate_nuisance.jump_gradient` from the evaluation times'
    jump indices ``k`` (their ``searchsorted``): ``g_j = sum_{e: k_e > j} weights_e``."""
    return np.cumsum(rows_added_at(k, weights, n_jumps + 1)[::-1], axis=0)[::-1][1:]


def _with_nuisance_if(outcome: BreslowCox, censoring: BreslowCox, t: ArmFreeTerms,
                      parts: list) -> list:
    """Each arm's :class:`ArmRisk`: its part's IF plus the outcome and censoring models'
    chain rule, every arm's columns through one call of each model."""
    m = parts[0].iid.shape[1]

    def stacked(name):
        return np.hstack([getattr(p, name) for p in parts])
    iid = outcome.jump_if(_jump_gradient_at(t.k_out, outcome.times.size, stacked("d_out")))
    if outcome.coef.size:
        iid += outcome.if_beta @ stacked("d_beta")
    g_cens = _jump_gradient_at(t.k_cens, censoring.times.size, stacked("d_cens"))
    g_cens[:t.s.size] += stacked("d_jump_cens")
    iid += censoring.jump_if(g_cens)
    if censoring.coef.size:
        iid += censoring.if_beta @ stacked("d_gamma")
    return [ArmRisk(p.risk, p.iid + iid[:, j * m:(j + 1) * m]) for j, p in enumerate(parts)]


def _arm_parts(time: np.ndarray, z: np.ndarray, outcome: BreslowCox, arms: tuple,
               treatment: LogisticNuisance, t: ArmFreeTerms) -> list:
    """Each arm's risk, its IF up to the outcome and censoring models' terms, and the
    derivatives those terms need (:class:`_ArmPart`), for ``arms`` ((arm, X_arm), ...).

    The augmentation enters ``psi_i`` weighted by ``W_i``, 0 outside the arm, so it is
    computed on the arms' patients only, each with their own arm's risk score and weight:
    the (times, patients) arrays of all the arms asked are one array, one pass each (the
    patients of both arms are all patients), and the sums over one arm's patients are
    products with that arm's weights, 0 on the other arm's patients.
    """
    n, A = time.size, len(arms)
    Wc, at, mask_w, LW = t.Wc, t.at, t.mask_w, t.LW
    L_r, L_l, L_tau, dLC, LC_l, rho = t.L_r, t.L_l, t.L_tau, t.dLC, t.LC_l, t.rho
    r = [outcome.risk_score(X_arm) for _, X_arm in arms]
    W = [(z == arm) / treatment.arm_probability(arm) for arm, _ in arms]
    in_arm = np.stack([z == arm for arm, _ in arms])                    # (A, n)
    a = np.flatnonzero(in_arm.any(axis=0))
    if a.size == n:
        a = slice(None)               # every patient: views of the shared arrays, no copy
    mine = in_arm[:, a]                                                 # (A, n_a)
    r_a = np.choose(mine.argmax(axis=0), [r_j[a] for r_j in r])         # own arm's
    W_a = np.choose(mine.argmax(axis=0), [W_j[a] for W_j in W])
    wr_a, wrho_a = W_a / n * r_a, W_a / n * rho[a]
    M = mine.T.astype(np.float64)                 # (n_a, A): the columns of each arm's sums
    # time-major (times, patients) arrays: sums over the times are row operations
    # (in place where the arrays are large: a fresh array costs page faults)
    S_r = survival_matrix(L_r, r_a)                                     # (kc, n_a)
    # S(s_k-) differs from S(s_k) only at a censoring time tied with a death
    S_l = S_r if np.array_equal(L_l, L_r) else survival_matrix(L_l, r_a)
    # 1{s_k <= T_i} / (G S)(s_k-): exactly 0 after T_i, also where the product has
    # underflowed to 0 there (0/0 would make the whole arm NaN): 0 / 1 there, 1 / (G S)
    # in the risk set (a masked division costs several times a division and a select)
    at_risk = t.at_risk[:, a]
    gs = np.multiply(t.G_s[:, a], S_l, out=S_l if S_l is not S_r else None)
    inv_gs = np.where(at_risk, gs, 1.0)
    np.divide(at_risk, inv_gs, out=inv_gs)
    del gs
    q = np.multiply(t.dM_C[:, a], inv_gs)                              # (dN - dL_C rho) / (G S)
    g_inv = S_r * inv_gs
    S_rq = S_r
    S_rq *= q                                    # S_r no longer needed

    # sums over each arm's patients (kc, A) and, through mask_w, over the censoring times
    # up to each horizon (n_a, m); a factor of s_k goes into mask_w, not into an (kc, n)
    # array
    a_W, a_r, a_rho = np.hsplit(S_rq @ np.hstack((W_a[:, None] * M, wr_a[:, None] * M,
                                                   wrho_a[:, None] * M)), 3)
    b_rho = g_inv @ (wrho_a[:, None] * M)
    up_sq, up_out, up_cens = np.hsplit(S_rq.T @ np.hstack(
        (mask_w, (L_l - L_r)[:, None] * mask_w, LC_l[:, None] * mask_w)), 3)
    up_cens = up_cens - g_inv.T @ (dLC[:, None] * mask_w)
    del S_r, S_l, S_rq, g_inv  # the fewer large arrays live at once, the fewer page faults
    # the survival to the horizons (H, .) of the arms' patients under their own arm (what
    # the augmentation reads) and of the patients outside each arm under that arm (one
    # column block per arm): an arm's g-formula terms read both, nothing is copied
    outside = [np.flatnonzero(~in_j) for in_j in in_arm]
    block = np.cumsum([0] + [o.size for o in outside])
    S_a = survival_matrix(L_tau, r_a)
    S_out = survival_matrix(L_tau, np.concatenate([r_j[o] for r_j, o in zip(r, outside)]))
    V = [np.stack((1.0 - W_j, (1.0 - W_j) / n * r_j), axis=1) for W_j, r_j in zip(W, r)]
    P_a, P_out = S_a.T @ LW, S_out.T @ LW                               # (., 2m)
    V_a = S_a @ np.hstack([V_j[a] * M[:, j, None] for j, V_j in enumerate(V)])  # (H, 2A)
    S_sum = [V_a[:, 2 * j:2 * j + 2] + S_out[:, block[j]:block[j + 1]] @ V_j[outside[j]]
             for j, V_j in enumerate(V)]                                # (H, 2) each
    del S_out
    SQ_W, SQ_LW, SQ_sum, sw_out, sw_cens, ms, ms_inv = _weighted_by_survival(
        q, inv_gs, S_a, Wc, LW, at, L_l, LC_l, dLC, np.hstack((W_a[:, None] * M,
                                                               wr_a[:, None] * M)),
        np.hstack((wr_a[:, None] * M, wrho_a[:, None] * M)), wrho_a[:, None] * M,
        t.grouping)
    del S_a, q, inv_gs
    G, died_W = t.G, t.died_W                                           # Y_i(tau) @ Wc
    parts = []
    for j, (arm, X_arm) in enumerate(arms):
        mj = mine[j]                              # the arm's patients among the n_a
        aj = np.flatnonzero(in_arm[j])
        P = np.empty((n, LW.shape[1]))
        P[aj], P[outside[j]] = P_a[mj], P_out[block[j]:block[j + 1]]
        S_W, S_LW = np.hsplit(P, 2)                         # S_i(tau) @ Wc and @ L0(tau) Wc
        u = (1.0 - W[j]) / n
        # psi_i(tau) = (1 - W_i)(1 - S_i(tau)) + W_i (Y_i(tau) / G_i + A_i(tau)), and the
        # augmentation A_i(tau) = sum_{s_k <= tau} (S_i(s_k) - S_i(tau)) q_ik
        risk = ((1.0 - W[j]).sum() - S_sum[j][:, 0] + t.deaths.sums(W[j] / G)
                + _prefix(a_W[:, j])[at] - SQ_sum[:, j]) / n
        F_W = Wc.sum(axis=0) - S_W                                      # (1 - S) @ Wc
        B_W = np.zeros_like(F_W)                 # (weighted by W: 0 outside the arm)
        B_W[aj] = died_W[aj] / G[aj, None] - F_W[aj] + up_sq[mj] - SQ_W[mj]
        iid = (F_W + W[j][:, None] * B_W - risk @ Wc) / n
        iid += treatment.arm_if(arm, -(W[j][:, None] * B_W)
                                / (n * treatment.arm_probability(arm)[:, None]))

        # outcome model: derivatives with respect to L0(tau), L0(s_k), L0(s_k-) and beta
        m_tau = (S_sum[j][:, 1] + SQ_sum[:, A + j])[:, None] * Wc        # (H, m)
        m_l = a_r[:, j, None] * mask_w - ms[..., j]
        d_r = (u * r[j])[:, None] * S_LW        # d psi / d r_i, plus the arm's augmentation
        d_r[aj] += wr_a[mj, None] * (up_out[mj] + SQ_LW[mj] - sw_out[mj])
        Xc = X_arm - outcome.center if outcome.coef.size else X_arm
        grad_beta = Xc.T @ d_r
        # censoring model: the jump dL_C(s_k) itself, L_C(s_k-) and gamma
        jc = ms_inv[..., j] - b_rho[:, j, None] * mask_w
        mc_l = a_rho[:, j, None] * mask_w - ms[..., A + j]
        d_rho = np.zeros_like(F_W)
        d_rho[aj] = wrho_a[mj, None] * (up_cens[mj] + sw_cens[mj])
        grad_gamma = t.Zc.T @ d_rho
        # the IF terms of the censoring model through G(T_i-) in Y_i(tau) / G_i
        # (:func:`estimators.survival.ipw.censoring_if`'s derivatives)
        g_T = ((W[j] / n)[:, None] * died_W / G[:, None]) * rho[:, None]
        d_cens = np.vstack((mc_l, g_T))
        d_gamma = grad_gamma + t.Zc.T @ (g_T * t.cum_c[:, None])
        parts.append(_ArmPart(risk, iid, np.vstack((m_tau, -a_r[:, j, None] * mask_w, m_l)),
                              grad_beta, d_cens, jc, d_gamma))
    return parts
