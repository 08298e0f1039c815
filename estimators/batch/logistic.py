"""Logistic regression (the propensity model) for many replicates at once.

The same Newton–Raphson iteration as :func:`estimators.propensity.fit_logistic` (start at
zero, step halving on a log-likelihood decrease as R's ``glm.fit``, convergence on the
relative step), run over a stack of designs ``X[r]`` with one batched matrix product per
iteration instead of one call per replicate. A replicate that leaves the common path (a
step that needs halving, an information matrix that is not positive definite, a
non-finite value, no convergence) is refitted alone by the one-replicate kernel, so every
replicate's result is that kernel's result.
"""
from __future__ import annotations

import numpy as np

from ..logistic_fit import _CHORD  # the one-replicate kernel's chord threshold
from ..propensity import _MAX_ITER, _TOL, fit_logistic


def _loglik_rows(eta: np.ndarray, q: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    # the one-replicate kernel's stable log(1 + e^eta) = max(eta, 0) + log1p(e^-|eta|),
    # with q = e^-|eta| kept for the fitted probabilities of the next iteration
    soft = np.maximum(eta, 0.0) + np.log1p(q)
    return np.einsum("rn,rn->r", w, y * eta - soft)


def _expit(eta: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.where(eta >= 0.0, 1.0, q) / (1.0 + q)


def _solve(info: np.ndarray, grad: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(info, grad)
    except np.linalg.LinAlgError:  # a singular information: NaN, so that replicate goes alone
        out = np.full(grad.shape, np.nan)
        for k in range(info.shape[0]):
            try:
                out[k] = np.linalg.solve(info[k], grad[k])
            except np.linalg.LinAlgError:
                pass
        return out


def fit_logistic_rows(X: np.ndarray, y: np.ndarray, w: np.ndarray, *, tol: float = _TOL,
                      max_iter: int = _MAX_ITER) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                          np.ndarray, np.ndarray]:
    """Kernel on trusted arrays: ``X`` (R, n, p) with its intercept column, ``y`` and ``w``
    (R, n). Returns ``(beta (R, p), fitted (R, n), converged (R,), n_iter (R,),
    refitted (R,))``; ``refitted`` marks the replicates handed to the one-replicate kernel.

    ``X`` as the transposed view of a C-contiguous ``(R, p, n)`` array saves a copy. The
    information ``X' diag(w p (1 - p)) X`` is formed as ``A X`` with
    ``A = X' diag(w p (1 - p))`` (one general matrix product per replicate: OpenBLAS's
    symmetric ``A A'`` product of the square-root-scaled rows took half as long again at
    p = 20, n = 423, and the square root is one more pass), and not formed again once a
    replicate's relative step is below ``_CHORD`` (its last, confirming iteration).
    """
    R, n, p = X.shape
    XT = np.ascontiguousarray(X.transpose(0, 2, 1))
    X = XT.transpose(0, 2, 1)
    unit = bool((w == 1.0).all())
    beta = np.zeros((R, p))
    eta = np.zeros((R, n))
    q = np.ones((R, n))
    ll = _loglik_rows(eta, q, y, w)
    info = np.empty((R, p, p))
    buf = np.empty((R, p, n))  # X' diag(v), reused: a fresh (R, p, n) array per
    # iteration costs its page faults again
    small = np.zeros(R, dtype=bool)
    converged = np.zeros(R, dtype=bool)
    n_iter = np.zeros(R, dtype=np.intp)
    alone = np.zeros(R, dtype=bool)
    act = np.arange(R)
    # a diverging (separated) replicate may overflow on its way out: its non-finite values
    # send it to the one-replicate kernel, so the warnings would be noise
    with np.errstate(all="ignore"):
        for it in range(1, max_iter + 1):
            if act.size == 0:
                break
            # while at least half the replicates iterate, all rows are computed (a finished
            # replicate's values are discarded): gathering the active designs would copy
            # (R, p, n) per iteration
            every = 2 * act.size >= R
            cur = np.arange(R) if every else act
            XTa = XT if every else XT[act]
            ya, wa = (y, w) if every else (y[act], w[act])
            eta_a, q_a = (eta, q) if every else (eta[act], q[act])
            mu = _expit(eta_a, q_a)
            resid = ya - mu
            if not unit:
                resid *= wa
            grad = np.matmul(XTa, resid[:, :, None])
            fresh = ~small[cur]
            if every and act.size < R:
                fresh &= np.isin(cur, act)
            n_fresh = int(fresh.sum())
            if n_fresh:
                # the information of the replicates that need it; of all computed rows when
                # they are most of them (a gather would copy (R, p, n)), but kept for those
                # only: a replicate on its chord step keeps the information of its last
                # full step whatever the others of the batch do, so its numbers do not
                # depend on the batch it is in
                k = slice(None) if 2 * n_fresh >= fresh.size else np.flatnonzero(fresh)
                v = mu[k] - mu[k] * mu[k]
                if not unit:
                    v *= wa[k]
                XTk = XTa[k]
                A = np.multiply(XTk, v[:, None, :], out=buf[:v.shape[0]])
                new = np.matmul(A, XTk.transpose(0, 2, 1))
                if isinstance(k, slice) and n_fresh < fresh.size:
                    info[cur[fresh]] = new[fresh]
                else:
                    info[cur[k]] = new
            step = _solve(info if every else info[act], grad)[:, :, 0]
            new_beta = beta[cur] + step
            new_eta = np.matmul(new_beta[:, None, :], XTa)[:, 0, :]
            new_q = np.exp(-np.abs(new_eta))
            new_ll = _loglik_rows(new_eta, new_q, ya, wa)
            if every and act.size < R:  # back to the active replicates
                step, new_beta, new_eta, new_q, new_ll = (a[act] for a in (step, new_beta, new_eta,
                                                                           new_q, new_ll))
            old = ll[act]
            ok = (new_ll >= old - 1e-12 * (1.0 + np.abs(old))) & np.isfinite(new_ll)
            alone[act[~ok]] = True  # halving: the one-replicate kernel's path
            keep = act[ok]
            beta[keep], eta[keep] = new_beta[ok], new_eta[ok]
            q[keep], ll[keep] = new_q[ok], new_ll[ok]
            n_iter[keep] = it
            size = np.abs(step[ok]).max(axis=1)
            scale = 1.0 + np.abs(new_beta[ok]).max(axis=1)
            small[keep] = size <= _CHORD * scale
            done = size <= tol * scale
            converged[keep[done]] = True
            act = keep[~done]
    alone[act] = True  # iteration cap reached: let the kernel say so
    fitted = _expit(eta, q)
    for r in np.flatnonzero(alone):
        one = fit_logistic(np.ascontiguousarray(X[r]), y[r], w[r], tol=tol, max_iter=max_iter)
        # Newton's flag, as on the common path (the batch does not judge separation)
        beta[r], fitted[r], converged[r], n_iter[r] = (one.coef, one.fitted,
                                                       one.newton_converged, one.n_iter)
    return beta, fitted, converged, n_iter, alone
