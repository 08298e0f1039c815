"""The terms of the AIPTW survival estimator that are the same for both arms.

:func:`estimators.survival.aiptw.aiptw_arm` (or ``aiptw_arms``, both arms in one call)
reads the same working models, horizons and contrast for each arm. Everything that depends
only on those -- the censoring
times up to the last horizon and the censoring model's survival at them, the censoring
martingale increments, who is at risk, the outcome model's baseline hazard at those
times, the deaths by horizon, the contraction weights and the sparse matrix that groups
the horizons by the censoring times before them -- is computed here once and read by both
arms. Each array is what the arm computed itself, by the same operations, so sharing it
changes no bit of the result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord
from .ate_nuisance import BreslowCox, DeathsByHorizon, rows_added_at, survival_matrix
from .ipw import censoring_survival

if TYPE_CHECKING:           # annotations only: scipy.sparse is imported by the analyses
    from scipy import sparse  # with many horizons (grouping_matrix), not by every worker

__all__ = ["ArmFreeTerms", "arm_free_terms"]


def _read_only(*arrays: np.ndarray) -> None:
    # shared by both arms: neither may alter what the other reads
    for a in arrays:
        a.flags.writeable = False


def grouping_matrix(at: np.ndarray, J: int, weights: np.ndarray) -> sparse.csr_array:
    """The (J m, H) matrix ``M`` with ``(M @ S).reshape(J, m, n)[j, c] = sum_{h: at[h] = j}
    weights[h, c] S[h]`` for any (H, n) ``S``: H m entries, one per (horizon, column)."""
    from scipy import sparse
    H, m = weights.shape
    rows = (at[:, None] * m + np.arange(m)).ravel()     # row of (at[h], column)
    order = np.argsort(rows, kind="stable")
    # (csr_array: the product of csr_matrix, at a third of its constructor's cost)
    return sparse.csr_array((weights.ravel()[order], np.repeat(np.arange(H), m)[order],
                             np.searchsorted(rows[order], np.arange(J * m + 1))),
                            shape=(J * m, H))


@dataclass(frozen=True, eq=False)
class ArmFreeTerms(ArrayRecord):
    """What :func:`~estimators.survival.aiptw.aiptw_arm` needs that does not depend on the
    arm (arrays read-only).

    Attributes
    ----------
    Wc : (H, m) contrast (identity when none was given).
    s : (kc,) censoring times up to the last horizon; ``at`` (H,) how many are ``<= tau_h``.
    L_r, L_l, L_tau : outcome baseline hazard at ``s``, just before ``s`` and at the horizons.
    G, rho, cum_c : (n,) ``G(T_i- | z_i)``, censoring risk scores and ``L_C(T_i-)``.
    dLC, LC_l : (kc,) censoring hazard jumps at ``s`` and cumulative hazard just before.
    G_s : (kc, n) ``exp(-L_C(s_k-) rho_i)``.
    at_risk : (kc, n) ``s_k <= T_i``.
    dM_C : (kc, n) ``dN^C_i(s_k) - dL_C(s_k) rho_i``.
    Zc : (n, q) centred censoring design.
    mask_w : (kc, m) ``sum_{h: s_k <= tau_h} Wc[h]``.
    LW : (H, 2m) ``[Wc, L0(tau) Wc]``.
    deaths : DeathsByHorizon; ``died_W`` (n, m) ``Y_i(tau) @ Wc``.
    grouping : the :func:`grouping_matrix` of ``at`` and ``Wc`` (many horizons only).
    k_out : (H + 2 kc,) the jump of the outcome model that a derivative with respect to
        ``L0(tau_h)``, ``L0(s_k)`` and ``L0(s_k-)`` reaches, in that order (as
        :func:`~estimators.survival.ate_nuisance.jump_gradient`'s ``searchsorted``).
    k_cens : (kc + n,) the same for the censoring model's ``L_C(s_k-)`` and ``L_C(T_i-)``.
    """

    Wc: np.ndarray
    s: np.ndarray
    at: np.ndarray
    L_r: np.ndarray
    L_l: np.ndarray
    L_tau: np.ndarray
    G: np.ndarray
    rho: np.ndarray
    cum_c: np.ndarray
    dLC: np.ndarray
    LC_l: np.ndarray
    G_s: np.ndarray = field(repr=False)
    at_risk: np.ndarray = field(repr=False)
    dM_C: np.ndarray = field(repr=False)
    Zc: np.ndarray = field(repr=False)
    mask_w: np.ndarray = field(repr=False)
    LW: np.ndarray = field(repr=False)
    deaths: DeathsByHorizon = field(repr=False)
    died_W: np.ndarray = field(repr=False)
    grouping: sparse.csr_array | None = field(repr=False)
    k_out: np.ndarray = field(repr=False)
    k_cens: np.ndarray = field(repr=False)


def _suffix(A: np.ndarray) -> np.ndarray:
    """Cumulative sums from the end over the first axis: ``_suffix(A)[j] = sum_{h >= j} A[h]``."""
    return np.cumsum(A[::-1], axis=0)[::-1]


def arm_free_terms(time: np.ndarray, event: np.ndarray, outcome: BreslowCox,
                   censoring: BreslowCox, Z_cens: np.ndarray, horizons: np.ndarray,
                   contrast: np.ndarray | None = None) -> ArmFreeTerms:
    """The arm-free terms of :func:`~estimators.survival.aiptw.aiptw_arm` (arguments as
    there); trusted-input kernel.

    Returns
    -------
    ArmFreeTerms
    """
    H = horizons.size
    Wc = np.eye(H) if contrast is None else contrast
    s = censoring.times[censoring.times <= horizons.max()]
    kc, J = s.size, s.size + 1
    at = np.searchsorted(s, horizons, side="right")      # censoring times s_k <= tau_h
    L_r, L_l, L_tau = (outcome.cumhaz_at(s), outcome.cumhaz_at(s, left=True),
                       outcome.cumhaz_at(horizons))
    G, rho, cum_c = censoring_survival(censoring, time, Z_cens)
    dLC, LC_l = censoring.jumps[:kc], censoring.cumhaz_at(s, left=True)
    G_s = survival_matrix(LC_l, rho)
    at_risk = s[:, None] <= time
    dM_C = np.multiply.outer(dLC, rho)
    np.subtract((s[:, None] == time) & (event == 0), dM_C, out=dM_C)     # dN - dL_C rho
    Zc = Z_cens - censoring.center if censoring.coef.size else Z_cens
    mask_w = _suffix(rows_added_at(at, Wc, J))[1:]
    LW = np.hstack((Wc, L_tau[:, None] * Wc))
    deaths = DeathsByHorizon.of(time, event, horizons)
    died_W = deaths.contract(Wc)
    # with few horizons (the risks') the arm takes the (H, kc) product path instead
    grouping = grouping_matrix(at, J, Wc) if H > J else None
    k_out = np.concatenate((np.searchsorted(outcome.times, horizons, side="right"),
                            np.searchsorted(outcome.times, s, side="right"),
                            np.searchsorted(outcome.times, s, side="left")))
    k_cens = np.searchsorted(censoring.times, np.concatenate((s, time)), side="left")
    _read_only(L_r, L_l, L_tau, G, rho, cum_c, G_s, at_risk, dM_C, mask_w, LW, died_W, k_out,
               k_cens)
    return ArmFreeTerms(Wc, s, at, L_r, L_l, L_tau, G, rho, cum_c, dLC, LC_l, G_s, at_risk,
                        dM_C, Zc, mask_w, LW, deaths, died_W, grouping, k_out, k_cens)
