"""Weighted Cox model of one covariate, any values, for many replicates (or many
covariates of one sample) at once.

The companion of :mod:`.cox` (one 0/1 covariate, where each risk-set sum is two arm
sums): for a covariate ``x`` with any values the risk-set sums ``S_k(t) = sum w x^k
e^(beta x)``, ``k = 0, 1, 2``, change with ``beta``, so every Newton iteration takes three
reverse cumulative sums over the rows of all replicates together. Ties (Efron or Breslow,
with case weights, as R ``coxph``), the centring of ``x`` and the iteration are those of
:func:`estimators.survival.cox.fit_cox`; a replicate that leaves the common path (a step
needing halving, a singular or monotone likelihood, no convergence) is refitted alone by
``fit_cox``, so every replicate's numbers are that kernel's.

A paper's univariable table fits one such model per continuous covariate on the same
sample: stacked as rows (one covariate per row, the same times), they are fitted together.
"""
from __future__ import annotations

import numpy as np

from ..survival.cox import fit_cox
from ._newton import newton_rows
from ._sorted import SortedRows
from .cox import _terms

__all__ = ["fit_cox_covariate_rows"]


def _evaluate(s: SortedRows, T, x, w, beta, wdx):
    """Log partial likelihood, score and information of every replicate at ``beta``."""
    wr = w * np.exp(beta.take(s.row) * x)
    wrx = wr * x
    S = [s.rev_cumsum_at_first(a).take(T.pos) for a in (wr, wrx, wrx * x)]
    if T.f is not None:      # Efron: less the fraction k/D of the tied deaths' sums
        S = [Sk - T.f * T.group_sum(a.take(T.pos)) for Sk, a in zip(S, (wr, wrx, wrx * x))]
    S0, S1, S2 = S
    m = S1 / S0
    V = np.empty((3, m.size))
    np.multiply(T.tw, np.log(S0), out=V[0])
    np.multiply(T.tw, m, out=V[1])
    np.multiply(T.tw, S2 / S0 - m * m, out=V[2])
    sums = T.rep_sums(V)
    return beta * wdx - sums[0], wdx - sums[1], sums[2]


def fit_cox_covariate_rows(time, event, x, weights, *, ties="efron", max_iter=50,
                           tol=1e-9, sorted_rows: SortedRows | None = None):
    """``fit_cox`` of ``x[r]`` for every row ``r`` of the ``(R, n)`` stacks.

    Parameters
    ----------
    time, event, x, weights : (R, n) float arrays
        Trusted: times >= 0, 0/1 events, finite covariate values, weights >= 0 (rows of
        weight 0 take no part).
    ties : {"efron", "breslow"}
    max_iter, tol
        As :func:`estimators.survival.cox.fit_cox`.
    sorted_rows : SortedRows, optional
        ``SortedRows(time)``, if the caller has it.

    Returns
    -------
    tuple of (R,) arrays
        ``(coef, se, loglik, loglik_null, converged, n_iter, refitted)``: model-based SE;
        ``refitted`` marks the replicates ``fit_cox`` fitted alone (its values and flags,
        e.g. an infinite coefficient for a monotone likelihood).

    References
    ----------
    Therneau TM, Grambsch PM (2000) Modeling Survival Data, ch. 3 (R ``coxph``: Efron's
    approximation with case weights).
    """
    R, n = time.shape
    s = sorted_rows if sorted_rows is not None else SortedRows(time)
    w = s.take(weights)
    used = (w > 0).reshape(R, n)
    n_used = np.maximum(used.sum(axis=1), 1)
    xr = s.take(x).reshape(R, n)
    # centred on the mean of the fitted rows, as fit_cox centres (every output is
    # invariant to it; it keeps exp() tame)
    xbar = np.where(used, xr, 0.0).sum(axis=1) / n_used
    xc = np.where(used, xr - xbar[:, None], 0.0)
    sd = np.sqrt((xc * xc).sum(axis=1) / n_used)
    xc = xc.ravel()
    d = s.take(event) * (w > 0)
    wdx = (w * d * xc).reshape(R, n).sum(axis=1)
    T = _terms(s, d, (xc > 0).astype(np.float64), w, ties)   # the tie structure only
    spread = T.rep_sums(T.tw[None])[0] * sd * sd
    alone = np.zeros(R, dtype=bool)
    with np.errstate(all="ignore"):
        first = _evaluate(s, T, xc, w, np.zeros(R), wdx)
        alone |= ~(first[2] > 1e-10 * spread)
        beta, ll, _, info, _, loglik0, n_iter = newton_rows(
            lambda b: _evaluate(s, T, xc, w, b, wdx), first, alone, T.rep,
            max_iter, tol, sd)
        se = np.sqrt(1.0 / info)
    converged = ~alone
    for r in np.flatnonzero(alone):
        keep = weights[r] > 0
        fit = fit_cox(time[r][keep], event[r][keep], x[r][keep][:, None], weights[r][keep],
                      ties=ties, max_iter=max_iter, tol=tol)
        beta[r], se[r], ll[r], loglik0[r] = fit.coef[0], fit.se[0], fit.loglik, fit.loglik_null
        converged[r], n_iter[r] = fit.converged, fit.n_iter
    return beta, se, ll, loglik0, converged, n_iter, alone
