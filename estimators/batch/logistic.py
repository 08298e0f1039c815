"""Logistic regression (the propensity model) for many replicates at once.

The same Newton–Raphson iteration as :func:`estimators.propensity._fit_logistic` (start at
zero, step halving on a log-likelihood decrease as R's ``glm.fit``, convergence on the
relative step), run over a stack of designs ``X[r]`` with one batched matrix product per
iteration instead of one call per replicate. A replicate that leaves the common path (a
step that needs halving, an information matrix that is not positive definite, a
non-finite value, no convergence) is refitted alone by the one-replicate kernel, so every
replicate's result is that kernel's result.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from ..propensity import _MAX_ITER, _TOL, _fit_logistic


def _loglik_rows(eta: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    # the one-replicate kernel's stable log(1 + e^eta), row by row
    soft = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
    return np.einsum("rn,rn->r", w, y * eta - soft)


def fit_logistic_rows(X: np.ndarray, y: np.ndarray, w: np.ndarray, *, tol: float = _TOL,
                      max_iter: int = _MAX_ITER) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                          np.ndarray, np.ndarray]:
    """Kernel on trusted arrays: ``X`` (R, n, p) with its intercept column, ``y`` and ``w``
    (R, n). Returns ``(beta (R, p), fitted (R, n), converged (R,), n_iter (R,),
    refitted (R,))``; ``refitted`` marks the replicates handed to the one-replicate kernel.

    ``X`` as the transposed view of a C-contiguous ``(R, p, n)`` array saves a copy. The
    information ``X' diag(w p (1 - p)) X`` is formed as ``A A'`` with
    ``A = X' diag(sqrt(w p (1 - p)))`` (a third less time than scaling one side).
    """
    R, n, p = X.shape
    XT = np.ascontiguousarray(X.transpose(0, 2, 1))
    X = XT.transpose(0, 2, 1)
    unit = bool((w == 1.0).all())
    beta = np.zeros((R, p))
    eta = np.zeros((R, n))
    ll = _loglik_rows(eta, y, w)
    converged = np.zeros(R, dtype=bool)
    n_iter = np.zeros(R, dtype=np.intp)
    alone = np.zeros(R, dtype=bool)
    act = np.arange(R)
    for it in range(1, max_iter + 1):
        if act.size == 0:
            break
        # while most replicates iterate, all do (a converged replicate's update is masked
        # out): gathering the active designs would copy (R, n, p) per iteration
        full = 2 * act.size >= R
        sel = slice(None) if full else act
        XTa, ya, wa = XT[sel], y[sel], w[sel]
        mu = special.expit(eta[sel])
        v = mu - mu * mu
        resid = ya - mu
        if not unit:
            v *= wa
            resid *= wa
        A = XTa * np.sqrt(v)[:, None, :]
        info = np.matmul(A, A.transpose(0, 2, 1))
        grad = np.matmul(XTa, resid[:, :, None])[:, :, 0]
        try:
            step = np.linalg.solve(info, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # a singular information: that replicate goes alone
            step = np.full(grad.shape, np.nan)
            for k in range(step.shape[0]):
                try:
                    step[k] = np.linalg.solve(info[k], grad[k])
                except np.linalg.LinAlgError:
                    pass
        if full and act.size < R:  # back to the active replicates only
            step = step[act]
        new_beta = beta[act] + step
        XTs = XTa if full and act.size == R else XT[act]
        new_eta = np.matmul(new_beta[:, None, :], XTs)[:, 0, :]
        ya, wa = y[act], w[act]
        new_ll = _loglik_rows(new_eta, ya, wa)
        old = ll[act]
        ok = (new_ll >= old - 1e-12 * (1.0 + np.abs(old))) & np.isfinite(new_ll)
        alone[act[~ok]] = True  # halving: the one-replicate kernel's path
        keep = act[ok]
        beta[keep], eta[keep], ll[keep] = new_beta[ok], new_eta[ok], new_ll[ok]
        n_iter[keep] = it
        done = (np.abs(step[ok]).max(axis=1)
                <= tol * (1.0 + np.abs(new_beta[ok]).max(axis=1)))
        converged[keep[done]] = True
        act = keep[~done]
    alone[act] = True  # iteration cap reached: let the kernel say so
    fitted = special.expit(eta)
    for r in np.flatnonzero(alone):
        beta[r], fitted[r], _, converged[r], n_iter[r] = _fit_logistic(
            np.ascontiguousarray(X[r]), y[r], w[r], tol=tol, max_iter=max_iter)
    return beta, fitted, converged, n_iter, alone
