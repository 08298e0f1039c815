"""Firth's penalized partial likelihood for the Cox model (Heinze & Schemper 2001).

The penalty ``0.5 log det I(beta)`` (Jeffreys prior) removes the O(1/n) bias of the MLE
and keeps estimates finite under monotone likelihood (separation, e.g. no events in one
arm of a small study). The modified score is

    U*_r = U_r + 0.5 tr( I^{-1} dI/dbeta_r ),

where, per likelihood term t with mean m_t and second moment A_t of the risk set,

    dI/dbeta_r = sum_t tw_t [ S3_{t,r}/S0_t - A_t m_tr - (A_t e_r - m_t m_tr) m_t'
                              - m_t (A_t e_r - m_t m_tr)' ].

The third-moment part is contracted with I^{-1} row by row, ``sum_i w_i r_i H_i x_ir
x_i' I^{-1} x_i``, with the same per-row cumulative hazard H as the information, so Efron
ties and (entry, time] data need no special case. Newton steps use the unpenalized
information, as Heinze & Schemper do.
"""
from __future__ import annotations

import numpy as np

from ._cox_kernel import Evaluation, evaluate, term_sums


def firth_evaluate(rs, beta: np.ndarray) -> Evaluation:
    """Penalized log-likelihood and modified score at ``beta`` (information unpenalized)."""
    ev = evaluate(rs, beta)
    info = ev.information
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0 or not np.isfinite(logdet):
        return Evaluation(-np.inf, ev.score, info, ev.r, ev.mean, ev.c, ev.H, ev.T0, ev.T)
    V = np.linalg.inv(info)
    XT, p = rs.XT, rs.p
    wr = rs.w * ev.r
    XX = (XT[:, None, :] * XT[None, :, :]).reshape(p * p, rs.n)
    A = term_sums(rs, XX * wr) / ev.T0  # (p*p, terms): second moments of the risk sets
    q = np.sum((V @ XT) * XT, axis=0)
    third = XT @ (wr * ev.H * q)
    tr_va = V.ravel() @ A
    B = V @ ev.mean
    m_v_m = np.sum(B * ev.mean, axis=0)
    b_a = np.einsum("at,art->rt", B, A.reshape(p, p, -1))
    rest = (ev.mean * tr_va + 2.0 * (b_a - m_v_m * ev.mean)) @ rs.tw
    score = ev.score + 0.5 * (third - rest)
    return Evaluation(ev.loglik + 0.5 * logdet, score, info, ev.r, ev.mean, ev.c, ev.H,
                      ev.T0, ev.T)
