"""The Newton-Raphson iteration of a one-coefficient Cox model, run for many replicates at
once (:mod:`.cox`, :mod:`.cox_covariate`).

Every replicate takes :func:`estimators.survival.cox.fit_cox`'s steps from ``beta = 0``
and stops where it stops (Newton decrement below ``tol``); a replicate that leaves the
common path (a step that would need halving, a non-finite step, no convergence within
``max_iter``) is flagged ``alone`` for the caller to refit with ``fit_cox``.
"""
from __future__ import annotations

import numpy as np

from ..survival.cox_estimability import diverging


def newton_rows(evaluate, first, alone, term_rep, max_iter: int, tol: float, sd):
    """Iterate every replicate not already ``alone`` from ``beta = 0``.

    Parameters
    ----------
    evaluate : callable
        ``beta (R,) -> (loglik, score, information, *per_term)``, each of the first three
        ``(R,)``; ``per_term`` arrays have one entry per likelihood term.
    first : tuple
        ``evaluate(zeros)``.
    alone : (R,) bool array
        Replicates already left to the one-replicate kernel (updated in place).
    term_rep : int array
        The replicate of each likelihood term.
    max_iter, tol
        As ``fit_cox``.
    sd : (R,) array
        Covariate SD per replicate (the monotone-likelihood rule).

    Returns
    -------
    tuple
        ``(beta, loglik, score, information, per_term, loglik_null, n_iter)``, with
        ``per_term`` the per-term arrays at the final ``beta``.
    """
    R = alone.size
    beta = np.zeros(R)
    ll, U, info, *extra = first
    loglik0 = ll.copy()
    active = ~alone
    n_iter = np.zeros(R, dtype=np.intp)
    for it in range(1, max_iter + 1):
        if not active.any():
            break
        step = np.where(active, U / info, 0.0)
        decrement = U * step
        bad = active & ~np.isfinite(decrement)
        new = beta + step
        ll_new, U_new, info_new, *extra_new = evaluate(new)
        bad |= active & ~(ll_new >= ll - 1e-12 * np.abs(ll))  # step halving: alone
        alone |= bad
        ok = active & ~bad
        beta = np.where(ok, new, beta)
        ll = np.where(ok, ll_new, ll)
        U = np.where(ok, U_new, U)
        info = np.where(ok, info_new, info)
        if ok.all():
            extra = extra_new
        else:
            took = ok.take(term_rep)
            extra = [np.where(took, a, b) for a, b in zip(extra_new, extra)]
        n_iter[ok] = it
        active = ok & ~(decrement < tol)
    alone |= active  # not converged in max_iter
    naive = 1.0 / info
    # fit_cox's monotone-likelihood rule, with its coefficients beyond 25 SDs or SEs
    # beyond 1e4 SDs: such a replicate is refitted alone, which reports it
    alone |= diverging(beta, np.abs(naive * U), np.sqrt(np.abs(naive)), sd)
    alone |= ~(info > 0)
    return beta, ll, U, info, extra, loglik0, n_iter
