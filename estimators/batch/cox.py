"""Weighted Cox model of a binary treatment for many replicates at once.

For a two-valued covariate every risk-set sum is ``W0(t) + e^beta W1(t)``, with ``W_k(t)``
the risk-set weight of arm k, so after one sort per replicate a Newton iteration costs a
handful of numpy operations over the deaths of all replicates together. Ties (Breslow or
Efron with case weights, as R ``coxph``), the model-based SE, the Lin & Wei (1989) robust
SE and its cluster version (e.g. matched pairs) follow
:mod:`estimators.survival._cox_kernel`; a replicate that leaves the common path (a step
needing halving, a singular or monotone likelihood, no convergence) is refitted alone by
:func:`estimators.survival.cox.fit_cox`, so every replicate's numbers are that kernel's.

Rows with weight 0 take no part in the fit, which lets replicates of different sizes (the
matched samples of a PSM study) share one ``(R, n)`` array.
"""
from __future__ import annotations

import numpy as np

from ..survival.cox import fit_cox
from ._newton import newton_rows
from ._sorted import SortedRows


class _Terms:
    """One likelihood term per death (Efron splits tied deaths ``k = 0..D-1``), in sorted
    order; a term's risk-set sums by arm are ``A0 + e^beta A1`` (Efron: less the fraction
    ``k/D`` of the tied deaths' weights)."""

    __slots__ = ("pos", "rep", "A0", "A1", "tw", "f", "gstart", "gid", "D", "rstart",
                 "rfull")

    def group_sum(self, v: np.ndarray) -> np.ndarray:
        """Sum of a per-term ``v`` over each term's tie group."""
        return np.add.reduceat(v, self.gstart).take(self.gid)

    def rep_sums(self, V: np.ndarray) -> np.ndarray:
        """Sums of the rows of ``V`` (k, terms) over each replicate's terms: (k, R), 0 for a
        replicate without deaths. A segment sum (``reduceat``) over the replicates that
        have terms (strictly increasing starts) costs a fraction of a weighted
        ``bincount``."""
        out = np.zeros((V.shape[0], self.rfull.size))
        if self.rstart.size:
            out[:, self.rfull] = np.add.reduceat(V, self.rstart, axis=1)
        return out


def _terms(s: SortedRows, d, x, w, ties: str) -> _Terms:
    T = _Terms()
    pos = np.flatnonzero(d)
    T.pos, T.rep = pos, s.row.take(pos)
    # the first term of each replicate that has one (a replicate without deaths has an
    # empty segment, which reduceat cannot express)
    bounds = np.searchsorted(T.rep, np.arange(s.R + 1))
    T.rfull = bounds[1:] > bounds[:-1]
    T.rstart = bounds[:-1][T.rfull]
    w1 = w * x
    w0 = w - w1  # exact: w - w = 0, w - 0 = w
    A0 = s.rev_cumsum_at_first(w0).take(pos)
    A1 = s.rev_cumsum_at_first(w1).take(pos)
    # tie groups of deaths: consecutive terms sharing a first row
    g = s.first.take(pos)
    new = np.empty(pos.size, dtype=bool)
    new[:1] = True
    np.not_equal(g[1:], g[:-1], out=new[1:])
    T.gstart = np.flatnonzero(new)
    T.gid = np.cumsum(new) - 1
    T.D = np.diff(np.append(T.gstart, pos.size)).astype(np.float64).take(T.gid)
    if ties == "efron" and T.gstart.size < pos.size:  # tied deaths exist
        T.f = (np.arange(pos.size) - T.gstart.take(T.gid)) / T.D
        dW0 = T.group_sum(w0.take(pos))
        dW1 = T.group_sum(w1.take(pos))
        A0 = A0 - T.f * dW0
        A1 = A1 - T.f * dW1
        T.tw = (dW0 + dW1) / T.D
    else:  # Breslow, or Efron without ties (the same likelihood)
        T.f = None
        T.tw = w.take(pos)
    T.A0, T.A1 = A0, A1
    return T


def _evaluate(T: _Terms, beta: np.ndarray, wdx1: np.ndarray, R: int):
    """Log partial likelihood, score and information of every replicate at ``beta`` (R,),
    and the per-term S0 and risk-set mean of x."""
    eA1 = np.exp(beta).take(T.rep) * T.A1
    S0 = T.A0 + eA1
    m = eA1 / S0
    V = np.empty((3, m.size))
    np.multiply(T.tw, np.log(S0), out=V[0])
    np.multiply(T.tw, m, out=V[1])
    np.multiply(V[1], 1.0 - m, out=V[2])
    sums = T.rep_sums(V)
    loglik = beta * wdx1 - sums[0]
    score = wdx1 - sums[1]
    info = sums[2]
    return loglik, score, info, S0, m


def fit_cox_rows(time, event, treated, weights, *, ties="efron", cluster=None, max_iter=50,
                  tol=1e-9, sorted_rows: SortedRows | None = None, residuals: bool = False,
                  robust: bool = True):
    """Kernel on trusted ``(R, n)`` float arrays (``event``/``treated`` 0/1, weights >= 0,
    ``cluster`` non-negative integer codes or None). Returns ``(coef, se, robust_se,
    loglik, loglik_null, converged, n_iter, refitted)``, each of shape (R,); with
    ``residuals``, also the (unweighted) score residuals, ``(R, n)`` in the input's row
    order, NaN in the rows of a refitted replicate (what an M-estimation variance stacks
    with the propensity model's score; :func:`estimators.kernels.m_estimation_cov`).
    ``robust`` False: no Lin & Wei SE (``robust_se`` NaN where not refitted), for a
    caller that reads the coefficients alone (its score residuals cost a fifth of a fit);
    every other number is the same."""
    R, n = time.shape
    s = sorted_rows if sorted_rows is not None else SortedRows(time)
    w = s.take(weights)
    x = s.take(treated)
    d = s.take(event) * (w > 0)
    wdx1 = (w * d * x).reshape(R, n).sum(axis=1)
    T = _terms(s, d, x, w, ties)
    # the checks of fit_cox on the rows with positive weight: no information at beta = 0
    # (singular), or a coefficient still moving after convergence (monotone likelihood)
    used = (w > 0).reshape(R, n)
    n_used = used.sum(axis=1)
    xr = x.reshape(R, n)
    xbar = np.where(used, xr, 0.0).sum(axis=1) / np.maximum(n_used, 1)
    sd = np.sqrt(np.where(used, (xr - xbar[:, None]) ** 2, 0.0).sum(axis=1)
                 / np.maximum(n_used, 1))
    spread = T.rep_sums(T.tw[None])[0] * sd * sd
    alone = np.zeros(R, dtype=bool)
    with np.errstate(all="ignore"):
        first = _evaluate(T, np.zeros(R), wdx1, R)
        alone |= ~(first[2] > 1e-10 * spread)
        beta, ll, U, info, (S0, m), loglik0, n_iter = newton_rows(
            lambda b: _evaluate(T, b, wdx1, R), first, alone, T.rep, max_iter, tol, sd)
        naive = 1.0 / info
        parts = _residual_parts(s, T, S0, m) if robust or residuals else None
        rvar = (_robust_var(s, T, x, w, beta, parts, naive,
                            None if cluster is None else s.take(cluster), R)
                if robust else np.full(R, np.nan))
        if residuals:
            L = np.empty(R * n)
            L[s.flat] = _score_residuals(s, T, x, beta, parts)
            L = L.reshape(R, n)
    coef, se, rse = beta, np.sqrt(naive), np.sqrt(rvar)
    converged = ~alone
    for r in np.flatnonzero(alone):
        keep = weights[r] > 0
        fit = fit_cox(time[r][keep], event[r][keep].astype(np.float64),
                       treated[r][keep].astype(np.float64)[:, None], weights[r][keep],
                       ties=ties, robust=True, max_iter=max_iter, tol=tol,
                       cluster=None if cluster is None else cluster[r][keep])
        coef[r], se[r], rse[r] = fit.coef[0], fit.se[0], fit.robust_se[0]
        ll[r], converged[r], n_iter[r] = fit.loglik, fit.converged, fit.n_iter
        loglik0[r] = fit.loglik_null
    if residuals:
        L[alone] = np.nan
        return coef, se, rse, ll, loglik0, converged, n_iter, alone, L
    return coef, se, rse, ll, loglik0, converged, n_iter, alone


def _residual_parts(s: SortedRows, T: _Terms, S0, m):
    """``(H, G, mbar)`` of the score residuals
    ``L_i = d_i (x_i - mbar_i) - r_i (x_i H_i - G_i)`` of
    :func:`estimators.survival._cox_kernel.score_residuals`: ``H_i`` and ``G_i`` sum
    ``c = tw / S0`` and ``c m`` over the terms whose risk set holds row i (sorted order);
    ``mbar`` is each death's risk-set mean of x (Efron: its tie group's average)."""
    R = s.R
    N = R * s.n
    c = T.tw / S0
    cm = c * m
    CC = np.zeros((2, N))
    CC[0, T.pos] = c
    CC[1, T.pos] = cm
    P = np.zeros((2, R, s.n + 1))
    np.cumsum(CC.reshape(2, R, s.n), axis=2, out=P[:, :, 1:])
    H = P[0].ravel().take(s.last_pad)
    G = P[1].ravel().take(s.last_pad)
    if T.f is not None:  # a tied death counts 1 - k/D of its own time's k-th term
        H[T.pos] -= T.group_sum(c * T.f)
        G[T.pos] -= T.group_sum(cm * T.f)
        mbar = T.group_sum(m) / T.D
    else:  # every death of a tie group has its time's risk set, hence its mean
        mbar = m
    return H, G, mbar


def _score_residuals(s: SortedRows, T: _Terms, x, beta, parts) -> np.ndarray:
    """Unweighted score residuals ``L_i`` (sorted order) from :func:`_residual_parts`;
    ``r_i = e^(beta x_i)`` is 1 in the control arm and ``e^beta`` in the treated arm."""
    H, G, mbar = parts
    L = (1.0 - x) * G + np.exp(beta).take(s.row) * x * (G - H)
    L[T.pos] += x.take(T.pos) - mbar
    return L


def _robust_var(s: SortedRows, T: _Terms, x, w, beta, parts, naive, cl, R):
    """Lin & Wei sandwich ``sum_i (w_i L_i)^2 / I^2`` (clustered: sums of ``w_i L_i`` per
    cluster squared), the score residuals ``L_i`` from :func:`_residual_parts`."""
    H, G, mbar = parts
    xt = x.take(T.pos)
    # r_i = e^(beta x_i) is 1 in the control arm and e^beta in the treated arm
    w1 = w * x
    wL = (w - w1) * G + np.exp(beta).take(s.row) * w1 * (G - H)
    wL[T.pos] += w.take(T.pos) * (xt - mbar)
    if cl is None:
        total = np.bincount(s.row, wL * wL, minlength=R)
    else:
        k = int(cl.max()) + 1
        sums = np.bincount(s.row * k + cl.astype(np.intp), wL, minlength=R * k)
        total = (sums * sums).reshape(R, k).sum(axis=1)
    return total * naive * naive
