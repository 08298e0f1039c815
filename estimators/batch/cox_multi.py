"""Weighted Cox model of p covariates for many replicates of one size at once.

The companion of :mod:`.cox` (one 0/1 covariate) and :mod:`.cox_covariate` (one covariate
of any values) for a multivariable model (a treatment adjusted for covariates): every
Newton iteration takes ``p + 1`` reverse cumulative sums (the risk-set sums of ``w r`` and
``w r x``) over the rows of all replicates together, and the information as
:mod:`estimators.survival._cox_kernel` forms it, ``X' diag(w r H) X - sum_t tw_t m_t m_t'``
with ``H`` a per-row cumulative hazard, as small matrix products per replicate.
Ties (Efron or Breslow, with case weights, as R ``coxph``), the centring of ``X``, the
Newton iteration and its stopping rule, the model SE and the Lin & Wei (1989) robust SE are
those of :func:`estimators.survival.cox.fit_cox`. A replicate that leaves the common path
(a step needing halving, an information that is singular or not positive definite, a
monotone likelihood, no convergence) is refitted alone by ``fit_cox`` (or, with
``refit=False``, only flagged), so every replicate's numbers and flags are that kernel's.

Speed: at the sizes of a study's multivariable Cox model (a few hundred rows, 20 to 30
columns) ``fit_cox`` is bound by its array work rather than per-call overhead, so this
kernel is no faster than ``fit_cox`` one replicate at a time (docs/batch.md has the
measurements) and the study loop does not use it. It pays on small models: 63 replicates
of 40 rows and 3 columns in 0.22 times ``fit_cox``'s time, of 150 rows and 10 columns in
0.53 times; the reproduction run fits its small outcome models with it
(``replications/analysis/cox_prefit.py``).
"""
from __future__ import annotations

import numpy as np

from ..survival.cox import fit_cox
from ..survival.cox_estimability import diverging
from ._sorted import SortedRows
from .cox import _terms

__all__ = ["fit_cox_multi_rows"]


class _Stack:
    """Sorted, centred data of the replicates and their likelihood terms."""

    __slots__ = ("s", "T", "R", "n", "p", "X1", "XR", "w", "wd", "wdx", "rev_first", "sd",
                 "term_bounds")

    def __init__(self, s: SortedRows, X, weights, event, ties):
        R, n, p = X.shape
        self.s, self.R, self.n, self.p = s, R, n, p
        w = s.take(weights)
        used = (w > 0).reshape(R, n)
        n_used = np.maximum(used.sum(axis=1), 1)
        Xs = X.reshape(R * n, p).take(s.flat, axis=0).reshape(R, n, p)
        # centred on the mean of the fitted rows, as fit_cox centres (every output is
        # invariant to it; it keeps exp() tame); rows of weight 0 set to 0
        xbar = np.where(used[:, :, None], Xs, 0.0).sum(axis=1) / n_used[:, None]
        XR = np.where(used[:, :, None], Xs - xbar[:, None, :], 0.0)
        self.XR = XR                                   # (R, n, p)
        X1 = np.empty((p + 1, R * n))                  # (1, x_1..x_p) covariate-major
        X1[0] = 1.0
        X1[1:] = XR.reshape(R * n, p).T
        self.X1 = X1
        d = s.take(event) * (w > 0)
        self.w, self.wd = w, w * d
        self.wdx = (X1[1:] * self.wd).reshape(p, R, n).sum(axis=2).T   # (R, p)
        self.T = _terms(s, d, np.zeros(R * n), w, ties)   # the tie structure only
        # each term's first risk-set row in the row-reversed layout of the cumulative sums
        first = s.first.take(self.T.pos)
        row = self.T.rep
        self.rev_first = row * n + (n - 1) - (first - row * n)
        bounds = np.searchsorted(row, np.arange(R + 1)).tolist()
        self.term_bounds = list(zip(bounds[:-1], bounds[1:]))
        self.sd = np.sqrt((XR * XR).sum(axis=1) / n_used[:, None])      # (R, p)

    def group_sum(self, V: np.ndarray) -> np.ndarray:
        """Sum of per-term ``V`` (k, terms) over each term's tie group."""
        T = self.T
        return np.add.reduceat(V, T.gstart, axis=1).take(T.gid, axis=1)

    def row_hazard(self, C: np.ndarray) -> np.ndarray:
        """``sum`` of per-term ``C`` (k, terms) over the terms whose risk set holds each row
        (sorted order, (k, N)); Efron: a tied death counts ``1 - k/D`` of its own time's
        k-th term."""
        s, T = self.s, self.T
        k = C.shape[0]
        CC = np.zeros((k, s.R * s.n))
        CC[:, T.pos] = C
        P = np.zeros((k, s.R, s.n + 1))
        np.cumsum(CC.reshape(k, s.R, s.n), axis=2, out=P[:, :, 1:])
        H = P.reshape(k, -1).take(s.last_pad, axis=1)
        if T.f is not None:
            H[:, T.pos] -= self.group_sum(C * T.f)
        return H


def _evaluate(st: _Stack, beta: np.ndarray):
    """Log partial likelihood (R,), score (R, p) and information (R, p, p) of every
    replicate at ``beta`` (R, p), and what the score residuals need."""
    R, n, p, T = st.R, st.n, st.p, st.T
    eta = np.matmul(st.XR, beta[:, :, None]).reshape(R * n)
    r = np.exp(eta)
    wr = st.w * r
    Z = st.X1 * wr
    rc = np.cumsum(Z.reshape(p + 1, R, n)[:, :, ::-1], axis=2)  # risk sets, last row first
    S = rc.reshape(p + 1, R * n).take(st.rev_first, axis=1)
    if T.f is not None:  # Efron: less the fraction k/D of the tied deaths' sums
        S -= T.f * st.group_sum(Z.take(T.pos, axis=1))
    S0 = S[0]
    mean = S[1:] / S0                                  # (p, terms)
    sums = T.rep_sums(np.vstack((T.tw * np.log(S0), mean * T.tw)))
    loglik = (st.wd * eta).reshape(R, n).sum(axis=1) - sums[0]
    score = st.wdx - sums[1:].T
    c = T.tw / S0
    H = st.row_hazard(c[None])[0]
    XW = st.XR * (wr * H).reshape(R, n, 1)
    info = np.matmul(XW.transpose(0, 2, 1), st.XR)
    # sum_t tw_t m_t m_t' over each replicate's terms: one small product per replicate
    # costs less than scattering the terms into (R, n, p) arrays for one batched product
    MW = mean * T.tw
    for k, (a, b) in enumerate(st.term_bounds):
        info[k] -= MW[:, a:b] @ mean[:, a:b].T
    return loglik, score, info, (r, S0, mean, H)


def _positive_definite(A: np.ndarray) -> np.ndarray:
    """Whether each (p, p) matrix of ``A`` has a Cholesky factor (LAPACK ``dposv``'s test,
    which ``fit_cox`` applies)."""
    try:
        np.linalg.cholesky(A)
        return np.ones(A.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        ok = np.ones(A.shape[0], dtype=bool)
        for i in range(A.shape[0]):
            try:
                np.linalg.cholesky(A[i])
            except np.linalg.LinAlgError:
                ok[i] = False
        return ok


def _singular(st: _Stack, info0: np.ndarray) -> np.ndarray:
    """:func:`estimators.survival.cox_estimability.singular_columns` for every replicate:
    a column without information at the start, or (p > 1) collinear in the risk sets."""
    spread = st.T.rep_sums(st.T.tw[None])[0][:, None] * st.sd * st.sd
    dg = np.diagonal(info0, axis1=1, axis2=2)
    flat = ~(dg > 1e-10 * spread).all(axis=1)
    if st.p == 1:
        return flat
    ok = ~flat
    scale = np.sqrt(np.abs(dg[ok]))
    corr = info0[ok] / (scale[:, :, None] * scale[:, None, :])
    pd = _positive_definite(corr)
    bad = ~pd
    if pd.any():
        L = np.linalg.cholesky(corr[pd])
        low = np.diagonal(L, axis1=1, axis2=2).min(axis=1) ** 2 < 1e-10
        bad[np.flatnonzero(pd)[low]] = True
    flat[np.flatnonzero(ok)[bad]] = True
    return flat


def _newton(st: _Stack, first, alone, max_iter: int, tol: float):
    """``fit_cox``'s Newton iteration from ``beta = 0`` for every replicate not ``alone``;
    a replicate that would need step halving, a non-positive-definite information or more
    than ``max_iter`` steps is flagged ``alone`` (updated in place).

    Every iteration evaluates the whole stack, so once fewer than half of its replicates
    are still iterating (e.g. a monotone likelihood taking 20 steps to be recognized while
    the rest converged in 5), they stop and come back ``delegated``: the caller fits them
    again as a smaller stack, along the same path (no number depends on the stack)."""
    R, p = st.R, st.p
    beta = np.zeros((R, p))
    ll, U, info, extra = first
    active = ~alone
    n_iter = np.zeros(R, dtype=np.intp)
    delegated = np.zeros(R, dtype=bool)
    for it in range(1, max_iter + 1):
        if not active.any():
            break
        if 2 * np.count_nonzero(active) < R:
            delegated = active
            active = np.zeros(R, dtype=bool)
            break
        pd = np.zeros(R, dtype=bool)
        idx = np.flatnonzero(active)
        pd[idx] = _positive_definite(info[idx])
        alone |= active & ~pd
        active &= pd
        idx = np.flatnonzero(active)
        step = np.zeros((R, p))
        step[idx] = np.linalg.solve(info[idx], U[idx][:, :, None])[:, :, 0]
        decrement = (U * step).sum(axis=1)
        bad = active & ~np.isfinite(decrement)
        new = beta + step
        ll_new, U_new, info_new, extra_new = _evaluate(st, new)
        bad |= active & ~(ll_new >= ll - 1e-12 * np.abs(ll))  # step halving: alone
        alone |= bad
        ok = active & ~bad
        beta = np.where(ok[:, None], new, beta)
        ll = np.where(ok, ll_new, ll)
        U = np.where(ok[:, None], U_new, U)
        info = np.where(ok[:, None, None], info_new, info)
        on_row, on_term = ok.take(st.s.row), ok.take(st.T.rep)
        extra = tuple(np.where(on, a, b) for on, a, b in
                      zip((on_row, on_term, on_term, on_row), extra_new, extra))
        n_iter[ok] = it
        active = ok & ~(decrement < tol)
    alone |= active  # not converged in max_iter
    return beta, ll, U, info, extra, n_iter, delegated


def _robust_var(st: _Stack, extra, naive: np.ndarray) -> np.ndarray:
    """Lin & Wei sandwich ``naive B naive``, ``B = sum_i (w_i L_i)(w_i L_i)'``, with the
    score residuals ``L_i = d_i (x_i - mbar_i) - r_i (x_i H_i - G_i)`` of
    :func:`estimators.survival._cox_kernel.score_residuals`."""
    R, n, p, T = st.R, st.n, st.p, st.T
    r, S0, mean, H = extra
    c = T.tw / S0
    G = st.row_hazard(c * mean)                        # (p, N)
    mbar = st.group_sum(mean) / T.D if T.f is not None else mean
    L = G - st.X1[1:] * H
    L *= r
    L[:, T.pos] += st.X1[1:, T.pos] - mbar
    wL = (L * st.w).reshape(p, R, n)
    B = np.matmul(wL.transpose(1, 0, 2), wL.transpose(1, 2, 0))
    return np.matmul(np.matmul(naive, B), naive)


def _fit_block(time, event, X, weights, ties, max_iter, tol, s=None, robust=True):
    """The common path for one stack: ``(coef, se, robust_se, loglik, loglik_null, n_iter,
    alone)``, the replicates left to ``fit_cox`` flagged ``alone`` (``robust_se`` NaN
    unless ``robust``)."""
    R, n, p = X.shape
    s = s if s is not None else SortedRows(time)
    st = _Stack(s, X, weights, event, ties)
    alone = np.zeros(R, dtype=bool)
    with np.errstate(all="ignore"):
        first = _evaluate(st, np.zeros((R, p)))
        loglik0 = first[0].copy()
        alone |= _singular(st, first[2])
        beta, ll, U, info, extra, n_iter, delegated = _newton(st, first, alone, max_iter, tol)
        skip = alone | delegated
        pd = _positive_definite(np.where(skip[:, None, None], np.eye(p), info))
        alone |= ~pd
        skip |= ~pd
        naive = np.linalg.inv(np.where(skip[:, None, None], np.eye(p), info))
        step = np.abs(np.matmul(naive, U[:, :, None])[:, :, 0])
        se = np.sqrt(np.abs(np.diagonal(naive, axis1=1, axis2=2)))
        alone |= diverging(beta, step, se, st.sd).any(axis=1) & ~delegated
        rse = (np.sqrt(np.diagonal(_robust_var(st, extra, naive), axis1=1, axis2=2))
               if robust else np.full((R, p), np.nan))
    out = [beta, se.copy(), rse.copy(), ll, loglik0, n_iter, alone]
    if delegated.any():
        idx = np.flatnonzero(delegated)
        sub = _fit_block(time[idx], event[idx], X[idx], weights[idx], ties, max_iter, tol,
                         robust=robust)
        for a, b in zip(out, sub):
            a[idx] = b
    return tuple(out)


def fit_cox_multi_rows(time, event, X, weights, *, ties="efron", max_iter=50, tol=1e-9,
                       sorted_rows: SortedRows | None = None, refit: bool = True,
                       robust: bool = True):
    """``fit_cox`` of ``X[r]`` for every replicate ``r`` of the stacks.

    Parameters
    ----------
    time, event, weights : (R, n) float arrays
        Trusted: times >= 0, 0/1 events, weights >= 0 (rows of weight 0 take no part).
    X : (R, n, p) float array
        Finite covariate values.
    ties : {"efron", "breslow"}
    max_iter, tol
        As :func:`estimators.survival.cox.fit_cox`.
    sorted_rows : SortedRows, optional
        ``SortedRows(time)``, if the caller has it.
    refit : bool
        Refit a replicate off the common path with ``fit_cox`` (its values and flags); if
        False, its entries are NaN and only ``refitted`` marks it (for a caller that fits
        such replicates by another route).
    robust : bool
        Compute the Lin & Wei robust SEs (else ``robust_se`` is NaN, for a caller that
        needs only the coefficients and model SEs: it saves a sixth of the time).

    Returns
    -------
    tuple
        ``(coef, se, robust_se, loglik, loglik_null, converged, n_iter, refitted)``:
        ``(R, p)`` coefficients, model SEs and Lin & Wei robust SEs, then ``(R,)`` arrays;
        ``converged`` is the fit's ``estimable`` (its status is OK); ``refitted`` marks the
        replicates left to ``fit_cox``.

    References
    ----------
    Therneau TM, Grambsch PM (2000) Modeling Survival Data, ch. 3 (R ``coxph``: Efron's
    approximation with case weights). Lin DY, Wei LJ (1989) The robust inference for the
    Cox proportional hazards model. JASA 84:1074-1078.
    """
    coef, se, rse, ll, loglik0, n_iter, alone = _fit_block(time, event, X, weights, ties,
                                                           max_iter, tol, sorted_rows, robust)
    converged = ~alone
    for r in np.flatnonzero(alone):
        if not refit:
            coef[r] = se[r] = rse[r] = ll[r] = loglik0[r] = np.nan
            continue
        keep = weights[r] > 0
        fit = fit_cox(time[r][keep], event[r][keep].astype(np.float64), X[r][keep],
                      weights[r][keep], ties=ties, robust=robust, max_iter=max_iter, tol=tol)
        coef[r], se[r] = fit.coef, fit.se
        rse[r] = fit.robust_se if robust else np.nan
        ll[r], loglik0[r] = fit.loglik, fit.loglik_null
        converged[r], n_iter[r] = fit.estimable, fit.n_iter
    return coef, se, rse, ll, loglik0, converged, n_iter, alone
