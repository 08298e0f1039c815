"""R's least-squares core of ``glm.fit``: Householder QR with limited column pivoting.

``glm.fit`` solves each IRLS step with ``.Call(C_Cdqrls, x * w, z * w, tol)``, LINPACK's
``dqrls`` on R's modified ``dqrdc2``. Its pivoting is not LAPACK's: columns keep their
order, and a column whose norm, after projecting out the columns before it, falls below
``tol`` times its original norm is moved to the end and not used (its coefficient is 0
in the iteration and ``NA`` in ``coef(glm)``). That is how ``glm`` drops aliased
(linearly dependent) columns, and it is what :func:`aliased_least_squares` reproduces.

A full-rank problem whose every reduced column stays far above the tolerance gets the same
answer from any stable solver, so the column-by-column ``dqrdc2`` runs only when needed:

* a well-conditioned problem (``cond(x) < 1e4`` by LAPACK's estimate, so every reduced
  column norm is above ``1e-4`` of its original norm, far from the tolerance) is solved by
  the normal equations (Cholesky) with one step of iterative refinement on the residual
  (Bjorck 1987), accurate to ~``eps * cond``: the common case, and cheap (no ``n x p``
  factorization, which multithreaded BLAS makes slow on a busy machine);
* otherwise the LAPACK Householder QR (``dgeqrf``: the same reflections as ``dqrdc2``
  without pivoting), when every reduced column is 100 times above the tolerance;
* otherwise ``dqrdc2``.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

_geqrf, _ormqr = lapack.dgeqrf, lapack.dormqr
_potrf, _pocon, _potrs = lapack.dpotrf, lapack.dpocon, lapack.dpotrs
#: Reciprocal condition of ``x'x`` (``cond(x)^-2``) above which the corrected semi-normal
#: equations are used: ``cond(x) < 1e4``, error ~ eps cond^2 = 2e-8 before and
#: ~eps cond after the refinement step.
_CSNE_RCOND = 1e-8


def _cho_solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _potrs(chol, b, lower=0)[0]

__all__ = ["aliased_least_squares", "aliased_least_squares_rows", "dqrdc2"]

#: A reduced-column norm this many times the tolerance is safely non-negligible: rounding
#: of two Householder QRs differs by ~1e-16 of a column norm, far below this margin.
_SAFE_MARGIN = 100.0


def dqrdc2(x: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """R's ``dqrdc2``: QR with negligible columns moved to the right.

    Parameters
    ----------
    x : (n, p) float array
        Overwritten copy is made; the input is not modified.
    tol : float
        A column is negligible when its reduced norm is below ``tol`` times its original
        norm.

    Returns
    -------
    qr : (n, p) array
        R in the upper triangle, the Householder vectors below (LINPACK layout).
    qraux : (p,) array
    pivot : (p,) int array
        Original column index of each column of ``qr`` (0-based).
    rank : int

    References
    ----------
    R source ``src/appl/dqrdc2.f``; Dongarra et al. (1979) LINPACK Users' Guide, ch. 9.
    """
    x = np.array(x, dtype=float, order="F")
    n, p = x.shape
    qraux = np.sqrt(np.einsum("ij,ij->j", x, x)) if n else np.zeros(p)
    work1 = qraux.copy()
    work2 = np.where(qraux == 0.0, 1.0, qraux)
    pivot = np.arange(p)
    k = p + 1                        # 1-based, as in the Fortran
    for l0 in range(min(n, p)):      # l0 = l - 1
        while l0 + 1 < k and not qraux[l0] >= work2[l0] * tol:
            # cycle the negligible column to the right-hand edge
            order = np.r_[np.arange(l0), np.arange(l0 + 1, p), l0]
            x[:, l0:] = x[:, order[l0:]]
            for a in (pivot, qraux, work1, work2):
                a[l0:] = a[order[l0:]]
            k -= 1
        if l0 + 1 == n:
            continue
        v = x[l0:, l0]
        nrmxl = float(np.sqrt(v @ v))
        if nrmxl == 0.0:
            continue
        if v[0] != 0.0:
            nrmxl = abs(nrmxl) if v[0] > 0 else -abs(nrmxl)
        v /= nrmxl
        v[0] += 1.0
        if l0 + 1 < p:
            rest = x[l0:, l0 + 1:]
            t = -(v @ rest) / v[0]
            rest += np.outer(v, t)
            nz = qraux[l0 + 1:] != 0.0
            with np.errstate(divide="ignore", invalid="ignore"):
                tt = np.maximum(1.0 - (np.abs(rest[0]) / qraux[l0 + 1:]) ** 2, 0.0)
            redo = nz & (np.abs(tt) < 1e-6)
            keep = nz & ~redo
            q = qraux[l0 + 1:]
            q[keep] = q[keep] * np.sqrt(tt[keep])
            if redo.any():
                # large reduction: recompute the norm (R's 9/99 modification)
                cols = np.flatnonzero(redo)
                fresh = np.sqrt(np.einsum("ij,ij->j", rest[1:, cols], rest[1:, cols]))
                q[cols] = fresh
                work1[l0 + 1:][cols] = fresh
        qraux[l0] = v[0]
        x[l0, l0] = -nrmxl
    rank = min(k - 1, n)
    return x, qraux, pivot, rank


def _dqrsl_coef(qr: np.ndarray, qraux: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Coefficients of the first ``k`` pivoted columns (LINPACK ``dqrsl``, job 100)."""
    n = qr.shape[0]
    qty = y.astype(float).copy()
    for j in range(min(k, n - 1)):
        if qraux[j] == 0.0:
            continue
        v = qr[j:, j].copy()
        v[0] = qraux[j]
        qty[j:] += (-(v @ qty[j:]) / v[0]) * v
    return linalg.solve_triangular(qr[:k, :k], qty[:k], lower=False, check_finite=False)


def aliased_least_squares(x: np.ndarray, y: np.ndarray, tol: float
                          ) -> tuple[np.ndarray, np.ndarray, int]:
    """Least squares as R's ``Cdqrls``: ``(coef, pivot, rank)``.

    Parameters
    ----------
    x : (n, p) float array
    y : (n,) float array
    tol : float
        ``dqrdc2``'s tolerance (``glm.fit`` passes ``min(1e-7, epsilon / 1000)``).

    Returns
    -------
    coef : (p,) array
        In pivoted order: ``coef[j]`` belongs to column ``pivot[j]``; the ``p - rank``
        aliased columns (the last ones) get 0, as ``dqrls`` sets them.
    pivot : (p,) int array
    rank : int

    References
    ----------
    R source ``src/appl/dqrls.f`` and ``src/library/stats/R/glm.R`` (``glm.fit``).
    Bjorck A (1987) Stability analysis of the method of seminormal equations for linear
    least squares problems. Linear Algebra Appl 88/89:31-48.
    """
    n, p = x.shape
    if n >= p and p and tol * _SAFE_MARGIN < np.sqrt(_CSNE_RCOND):
        gram = x.T @ x
        chol, info = _potrf(gram, lower=0)
        if info == 0:
            rcond, info = _pocon(chol, np.abs(gram).sum(axis=0).max())
            if info == 0 and rcond > _CSNE_RCOND:
                coef = _cho_solve(chol, x.T @ y)
                coef += _cho_solve(chol, x.T @ (y - x @ coef))   # one refinement step
                return coef, np.arange(p), p
    if n >= p and p:
        norms = np.sqrt(np.einsum("ij,ij->j", x, x))
        qr, tau, _, _ = _geqrf(x)
        d = np.abs(np.diagonal(qr))
        if np.all(d >= _SAFE_MARGIN * tol * np.where(norms == 0.0, 1.0, norms)):
            qty = _ormqr("L", "T", qr, tau, y[:, None], max(1, p))[0][:p, 0]
            coef = linalg.solve_triangular(qr[:p], qty, lower=False, check_finite=False)
            return coef, np.arange(p), p
    qr, qraux, pivot, rank = dqrdc2(x, tol)
    coef = np.zeros(p)
    if rank > 0:
        coef[:rank] = _dqrsl_coef(qr, qraux, y, rank)
    return coef, pivot, rank


def aliased_least_squares_rows(x: np.ndarray, y: np.ndarray, tol: float
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`aliased_least_squares` of a stack of problems, where it needs no pivoting.

    ``dqrdc2`` moves a column to the end only when its reduced norm falls below ``tol``
    times its original norm. A column that is exactly 0 (a level absent from the sample)
    is always moved and leaves the others' reflections as they are; any other column is
    kept when its reduced norm, the diagonal of R, is :data:`_SAFE_MARGIN` times above
    that bound (the margin the one-problem kernel takes for its LAPACK path). So each
    problem's zero columns are put last, the stack gets one Householder QR (LAPACK
    ``dgeqrf`` per problem, on ``[x | y]``, whose last column becomes ``Q'y``), and a
    problem whose kept columns all clear the margin is solved: its answer is the
    kernel's to rounding. The others (``ok`` False) are left to the kernel.

    Parameters
    ----------
    x : (B, n, p) float array
    y : (B, n) float array
    tol : float
        ``dqrdc2``'s tolerance.

    Returns
    -------
    coef : (B, p) array
        In the original column order; 0 for an aliased column, as ``dqrls`` sets it.
    aliased : (B, p) bool array
        The columns ``dqrdc2`` moves to the end (the exactly-zero ones).
    ok : (B,) bool array
        Problems solved here; ``coef`` and ``aliased`` of the others are 0 / False.

    References
    ----------
    R source ``src/appl/dqrdc2.f``; Golub GH, Van Loan CF (2013) Matrix Computations,
    4th ed., section 5.2.
    """
    B, n, p = x.shape
    coef = np.zeros((B, p))
    aliased = np.zeros((B, p), dtype=bool)
    if n < p + 1 or not B or not p:
        return coef, aliased, np.zeros(B, dtype=bool)
    norms = np.sqrt(np.einsum("bij,bij->bj", x, x))
    zero = norms == 0.0
    order = np.argsort(zero, axis=1, kind="stable")     # zero columns last, others kept
    aug = np.empty((B, n, p + 1))
    aug[:, :, :p] = x
    moved = np.flatnonzero(zero.any(axis=1))           # (gathering all would be slow)
    aug[moved, :, :p] = np.take_along_axis(x[moved], order[moved, None, :], axis=2)
    aug[:, :, p] = y
    with np.errstate(invalid="ignore", over="ignore"):
        r = np.linalg.qr(aug, mode="r")
    R, rhs = r[:, :p, :p], r[:, :p, p].copy()
    dead = np.take_along_axis(zero, order, axis=1)       # trailing in each row
    scale = np.take_along_axis(norms, order, axis=1)
    with np.errstate(invalid="ignore"):
        clear = np.abs(np.diagonal(R, axis1=1, axis2=2)) >= _SAFE_MARGIN * tol * scale
    ok = ((clear | dead).all(axis=1) & np.isfinite(R).all(axis=(1, 2))
          & np.isfinite(rhs).all(axis=1))
    # an aliased column: unit diagonal and 0 on the right, so its coefficient is 0 and
    # the kept columns' back substitution is untouched (their R entries above it are 0)
    off = dead | ~ok[:, None]
    R[off] = 0.0
    rows, cols = np.nonzero(off)
    R[rows, cols, cols] = 1.0
    rhs[off] = 0.0
    # R is upper triangular with a nonzero diagonal: LU without a row exchange, i.e.
    # back substitution
    c = np.linalg.solve(R, rhs[:, :, None])[:, :, 0]
    np.put_along_axis(coef, order, c, axis=1)
    np.put_along_axis(aliased, order, dead, axis=1)
    coef[~ok] = 0.0
    aliased[~ok] = False
    return coef, aliased, ok
