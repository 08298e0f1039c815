"""R's ``glm(family = binomial)`` fitted to many designs at once, step for step.

:func:`estimators.glm_binomial.fit_glm_binomial` is ``glm.fit``'s IRLS; a leave-one-
covariate-out decomposition or a Monte Carlo study runs it hundreds of times on designs of
one shape. :func:`fit_glm_binomial_rows` runs the same iteration on a ``(B, n, p)`` stack:
each replicate starts where ``glm.fit`` starts, takes the same steps and stops at the same
iteration by the same rule (the relative deviance change below ``epsilon``).

A step is the weighted least-squares problem that ``glm.fit`` hands to ``Cdqrls``. The
steps that :func:`estimators.glm_qr.aliased_least_squares` (the one-replicate kernel's
solver) surely solves by its corrected semi-normal equations (exact reciprocal condition
of ``x'x`` above its threshold) are solved together, by those equations. The others (a
separated model late in its iterations is ill conditioned; a level absent from the
sample makes ``x'x`` singular) get one stacked Householder QR
(:func:`estimators.glm_qr.aliased_least_squares_rows`), and the few that need
``dqrdc2``'s pivoting are solved one at a time by ``aliased_least_squares`` itself.

Rounding may differ from the one-replicate fit in the last digits. So that it cannot move
the iteration at which a fit stops, a replicate whose deviance change lands within
:data:`STOP_MARGIN` of ``epsilon`` (relative) or whose step turns non-finite is refitted
from the start by ``fit_glm_binomial``, and its numbers are that kernel's. An IRLS whose
deviance rises after its first step is no longer a Newton iteration closing in on its
answer: a separated fit can then jump between fits whose probabilities are 0 and 1, and a
rounding difference in an ill-conditioned step can send it to another. A replicate whose
deviance rose after a stacked QR step is therefore fitted again with the ill-conditioned
steps solved one at a time (``stacked=False`` in :func:`_irls`), the arithmetic of the
fits before the stacked QR existed.
"""
from __future__ import annotations

import numpy as np

from ..glm_binomial import _deviance, _mu_eta, fit_glm_binomial, logit_linkinv
from ..glm_qr import (_CSNE_RCOND as CSNE_RCOND, aliased_least_squares,
                      aliased_least_squares_rows)

__all__ = ["fit_glm_binomial_rows", "semi_normal_steps", "condition_surely_fails",
           "CSNE_RCOND", "STOP_MARGIN"]

#: A deviance change within this fraction of ``epsilon`` could fall on either side of the
#: stopping rule after rounding: such a replicate is refitted alone.
STOP_MARGIN = 1e-3
#: Relative margin below ``CSNE_RCOND`` at which a bound on the condition decides alone.
_BOUND_MARGIN = 1e-4


def semi_normal_steps(A: np.ndarray, b: np.ndarray, suspect: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Steps of the problems ``(A[i], b[i])`` that ``aliased_least_squares`` surely solves
    by its corrected semi-normal equations, and which those are.

    It takes them when its (LAPACK ``dpocon``) estimate of the reciprocal 1-norm condition
    of ``x'x`` exceeds 1e-8; that estimate never falls below the exact value (the
    estimator bounds ``||G^-1||_1`` from below; Higham 2002, 15.3), so a problem whose
    exact reciprocal condition exceeds 1e-8 is solved the same way here: the normal
    equations, then one step of refinement on the residual (Bjorck 1987). The others
    (``ok`` False) are left to ``aliased_least_squares``.

    The exact condition needs ``G^-1``; a problem that a cheaper bound puts below the
    threshold (:func:`condition_surely_fails`) is left out before ``G`` (the ``suspect``
    ones, which failed the test at their previous step) or before its inverse, so the
    problems that are inverted, and their numbers, are the same as if every one were.

    Parameters
    ----------
    A : (B, n, p) float array
        Weighted designs, C-ordered.
    b : (B, n) float array
        Weighted working responses.
    suspect : (B,) bool array
        Problems likely to fail the test (their ``x'x`` is formed only if the column
        norms cannot prove it).

    Returns
    -------
    tuple
        ``(coef (k, p), ok (B,))``: the steps of the ``k`` problems marked ``ok``.

    References
    ----------
    Higham NJ (2002) Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM;
    Bjorck A (1987) Stability analysis of the method of seminormal equations for linear
    least squares problems. Linear Algebra Appl 88/89:31-48.
    """
    B, p = A.shape[0], A.shape[2]
    ok = np.zeros(B, dtype=bool)
    test = np.arange(B)
    if suspect.any():
        s = np.flatnonzero(suspect)
        d = np.einsum("bij,bij->bj", A[s], A[s])
        # max G_jj <= ||G||_1, so the ratio of the diagonal's ends bounds it as well
        test = np.delete(test, s[condition_surely_fails(d.min(axis=1), d.max(axis=1))])
    if not test.size:
        return np.empty((0, p)), ok
    # (the products take the designs as they are laid out in the stack, C-ordered
    # (n, p) each, whatever the subset: the same BLAS calls on the same layout)
    A = A[test] if test.size < B else A
    G = np.swapaxes(A, 1, 2) @ A
    norm1 = np.abs(G).sum(axis=1).max(axis=1)
    diag = np.diagonal(G, axis1=1, axis2=2)
    # a design column that is 0 on every weighted row (a level absent from the sample)
    # makes x'x exactly singular; set aside up front, it would make the stacked inverse
    # fail and send the whole stack to the one-by-one loop below
    null = (diag == 0.0).any(axis=1)
    keep = np.flatnonzero(~null & ~condition_surely_fails(diag.min(axis=1), norm1))
    if not keep.size:
        return np.empty((0, p)), ok
    if keep.size < test.size:
        G, norm1, A, test = G[keep], norm1[keep], A[keep], test[keep]
    try:
        Ginv = np.linalg.inv(G)
    except np.linalg.LinAlgError:       # a singular x'x in the stack: invert one by one
        Ginv = np.full_like(G, np.nan)
        for i in range(G.shape[0]):
            try:
                Ginv[i] = np.linalg.inv(G[i])
            except np.linalg.LinAlgError:
                pass
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        inv1 = np.abs(Ginv).sum(axis=1).max(axis=1)
        good = np.isfinite(inv1) & (1.0 / (norm1 * inv1) > CSNE_RCOND)
    if not good.all():
        Ginv, A, test = Ginv[good], A[good], test[good]
    ok[test] = True
    At = np.swapaxes(A, 1, 2)
    bk = (b[test] if test.size < B else b)[:, :, None]
    with np.errstate(invalid="ignore", over="ignore"):
        coef = Ginv @ (At @ bk)
        coef += Ginv @ (At @ (bk - A @ coef))
    return coef[:, :, 0], ok


def condition_surely_fails(diag_min: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """Problems whose ``x'x`` surely fails the condition test of :func:`semi_normal_steps`.

    Its reciprocal 1-norm condition is at most ``min_j G_jj / ||G||_1``
    (``(G^-1)_jj >= 1 / G_jj`` for a positive definite ``G``); the test is decided here
    when that bound is below the threshold by a margin that covers the rounding of ``G``,
    of its inverse (relative ``~ p eps cond``, so ``~ p eps`` on the reciprocal condition)
    and of a ``norm`` summed another way.

    Parameters
    ----------
    diag_min : (B,) float array
        Smallest diagonal entry of each ``x'x`` (or sum of squares of a design column).
    norm : (B,) float array
        ``||x'x||_1``, or a lower bound on it (the largest diagonal entry).

    Returns
    -------
    (B,) bool array
        True where the exact test surely fails; NaN input gives False (not decided).

    References
    ----------
    Higham NJ (2002) Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM,
    chapter 15 (condition estimation).
    """
    with np.errstate(invalid="ignore"):
        return diag_min < (1.0 - _BOUND_MARGIN) * CSNE_RCOND * norm


def fit_glm_binomial_rows(X: np.ndarray, y: np.ndarray, w: np.ndarray, *,
                          epsilon: float = 1e-8, maxit: int = 25):
    """:func:`estimators.glm_binomial.fit_glm_binomial` of every replicate of a stack.

    Parameters
    ----------
    X : (B, n, p) float array
        Designs, intercept column included.
    y : (B, n) float array of 0/1
    w : (B, n) float array
        Non-negative prior weights (rows of weight 0 take no part).
    epsilon, maxit : float, int
        ``glm.control``.

    Returns
    -------
    tuple
        ``(coef (B, p), fitted (B, n), linear_predictor (B, n), n_iter (B,), converged
        (B,), aliased (B, p), refitted (B,))``. ``refitted`` marks the replicates that
        ``fit_glm_binomial`` fitted alone (see the module notes); every replicate's numbers
        are that kernel's to rounding.

    References
    ----------
    R Core Team, ``stats::glm.fit``; Bjorck A (1987) Stability analysis of the method of
    seminormal equations for linear least squares problems. Linear Algebra Appl
    88/89:31-48.
    """
    coef, mu, eta, n_iter, converged, aliased, alone, rose = _irls(X, y, w, epsilon,
                                                                  maxit, stacked=True)
    again = np.flatnonzero(rose & ~alone)
    if again.size:
        redo = _irls(X[again], y[again], w[again], epsilon, maxit, stacked=False)
        for full, part in zip((coef, mu, eta, n_iter, converged, aliased, alone), redo):
            full[again] = part
    coef[aliased] = np.nan                 # R's NA, as the last step dropped them
    for r in np.flatnonzero(alone):
        fit = fit_glm_binomial(X[r], y[r], w[r], epsilon=epsilon, maxit=maxit)
        coef[r], mu[r], eta[r] = fit.coef, fit.fitted, fit.linear_predictor
        n_iter[r], converged[r], aliased[r] = fit.n_iter, fit.converged, fit.aliased
    return coef, mu, eta, n_iter, converged, aliased, alone


def _irls(X, y, w, epsilon, maxit, *, stacked: bool):
    """The stacked iteration: ``fit_glm_binomial_rows``'s arrays before the refits (NaN
    not yet set), ``alone`` (to refit by the kernel) and ``rose`` (the deviance rose
    after a stacked QR step). ``stacked`` False: no stacked QR."""
    B, n, p = X.shape
    mu = (w * y + 0.5) / (w + 1.0)
    eta = np.log(mu / (1.0 - mu))
    mu = logit_linkinv(eta)
    coef = np.zeros((B, p))
    n_iter = np.zeros(B, dtype=np.intp)
    converged = np.zeros(B, dtype=bool)
    alone = np.zeros(B, dtype=bool)
    rose = np.zeros(B, dtype=bool)
    qr_seen = np.zeros(B, dtype=bool)
    tol = min(1e-7, epsilon / 1000.0)
    aliased = np.zeros((B, p), dtype=bool)  # columns the last step dropped
    # the replicates still iterating and their state, compacted only when some leave (a
    # gather of the (B, n, p) designs each iteration would cost more than the step)
    idx = np.arange(B)
    Xw, yw, ww, ew, mw = X, y, w, eta.copy(), mu.copy()
    dev_old = _deviance(yw, mw, ww)
    buf = np.empty((B, n, p))
    failed = np.zeros(B, dtype=bool)   # the condition test at the last step
    for it in range(1, maxit + 1):
        if not idx.size:
            break
        me = _mu_eta(ew)
        z = ew + (yw - mw) / me
        # rows of weight 0 get sw = 0: they add nothing to the problem, as glm.fit's
        # subset to the good rows
        sw = np.sqrt(ww * me * me / (mw * (1.0 - mw)))
        A = np.multiply(Xw, sw[:, :, None], out=buf[:idx.size])
        b = z * sw
        step = np.empty((idx.size, p))
        coef_ok, ok = semi_normal_steps(A, b, failed)
        failed = ~ok
        step[ok] = coef_ok
        aliased[idx[ok]] = False
        rest = np.flatnonzero(~ok)
        if rest.size and stacked:          # ill conditioned or aliased: a stacked QR
            c, al, qr_ok = aliased_least_squares_rows(A[rest], b[rest], tol)
            step[rest[qr_ok]] = c[qr_ok]
            aliased[idx[rest[qr_ok]]] = al[qr_ok]
            qr_seen[idx[rest[qr_ok]]] = True
            rest = rest[~qr_ok]
        for j in rest:                     # pivoting: the one-replicate solver
            g = ww[j] > 0
            c, pivot, rank = aliased_least_squares(A[j][g], b[j][g], tol)
            step[j, pivot] = c             # an aliased column's coefficient is 0
            aliased[idx[j]] = False
            aliased[idx[j], pivot[rank:]] = True
        bad = ~np.isfinite(step).all(axis=1)
        step[bad] = 0.0                    # (refitted alone; kept out of the products)
        ew = (Xw @ step[:, :, None])[:, :, 0]
        mw = logit_linkinv(ew)
        dev = _deviance(yw, mw, ww)
        crit = np.abs(dev - dev_old) / (np.abs(dev) + 0.1)
        keep = ~bad
        kept = idx[keep]
        coef[kept], eta[kept], mu[kept] = step[keep], ew[keep], mw[keep]
        n_iter[kept] = it
        if it > 1:     # (the first step starts from mu = (y + 0.5) / 2, not from a fit)
            rose[idx[(dev > dev_old) & qr_seen[idx]]] = True
        bad |= np.abs(crit - epsilon) <= STOP_MARGIN * epsilon
        alone[idx[bad]] = True
        done = keep & (crit < epsilon)
        converged[idx[done]] = True
        dev_old = dev
        stay = ~(bad | done)
        if not stay.all():
            pos = np.flatnonzero(stay)
            idx, Xw, yw, ww = idx[pos], Xw[pos], yw[pos], ww[pos]
            ew, mw, dev_old, failed = ew[pos], mw[pos], dev_old[pos], failed[pos]
    return coef, mu, eta, n_iter, converged, aliased, alone, rose
