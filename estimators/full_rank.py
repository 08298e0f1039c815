"""Full column rank of a design, certified cheaply before the SVD decides.

:func:`check_full_rank` raises unless a design has full column rank as
``numpy.linalg.matrix_rank`` decides it; a Cholesky factorization of the shifted ``X'X``,
else its eigenvalues, certify the well-conditioned designs (nearly all) without the SVD.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import lapack as _lapack

__all__ = ["check_full_rank"]


_EPS = np.finfo(np.float64).eps


def check_full_rank(Xa: np.ndarray, names: tuple[str, ...], rows: np.ndarray | None = None,
                    *, gram: np.ndarray | None = None) -> None:
    """Raise unless ``Xa`` (its ``rows`` when given) has full column rank, as
    ``numpy.linalg.matrix_rank`` decides it (singular values above ``max(n, p) eps`` of the
    largest).

    Parameters
    ----------
    Xa : (n, p) finite float array
    names : tuple of str
        Column names, shown in the error.
    rows : (n,) bool array, optional
        The rows to check (default all).
    gram : (p, p) array, optional
        ``X'X`` of those rows as the caller computed it in floating point (any summation
        order: the certificate's error bound holds for each), to save the product.

    Raises
    ------
    ValueError
        Rank deficient: the rank, the number of columns and their names.

    Notes
    -----
    The SVD that decides it runs only when a cheap certificate fails: the eigenvalues of
    ``X'X`` (p x p) are the squared singular values of ``X``, each computed to within
    about ``(n + p) p eps sigma_max^2`` (Higham 2002, sections 3.5 and 8). When the
    smallest exceeds 100 times that margin relative to the largest, the smallest singular
    value is above ``~10 sqrt((n + p) p eps)`` of the largest, many orders above the rank
    tolerance, so ``X`` has full rank with certainty. That inequality is shown first by
    one Cholesky factorization of a shifted ``X'X`` (:func:`_cholesky_certificate`),
    then, if that cannot, by the eigenvalues (the symmetric eigensolver is backward
    stable); otherwise (an ill-conditioned or deficient design) the SVD decides, as
    before.

    References
    ----------
    Higham, N. J. (2002). Accuracy and Stability of Numerical Algorithms, 2nd ed. SIAM.
    """
    X = Xa if rows is None else Xa[rows]
    p = X.shape[1]
    if _certainly_full_rank(X, gram):
        return
    rank = np.linalg.matrix_rank(X)
    if rank < p:
        raise ValueError(
            f"X is rank deficient (rank {rank} < {p} columns {list(names)}): "
            "drop collinear or constant columns"
        )


def _certainly_full_rank(X: np.ndarray, G: np.ndarray | None = None) -> bool:
    n, p = X.shape
    if n < p or p == 0:
        return False
    slack = 100.0 * (n + p) * p * _EPS
    if G is None:
        G = X.T @ X
    return _cholesky_certificate(G, slack) or _eigen_certificate(G, slack)


def _cholesky_certificate(G: np.ndarray, slack: float) -> bool:
    """``lambda_min(G) > slack lambda_max(G)`` shown by one Cholesky factorization (a
    fraction of the cost of the eigenvalues): with ``F = ||G||_F >= lambda_max`` and
    ``mu = 2 slack F``, Cholesky of ``G - mu I`` running to completion means
    ``G - mu I + E`` is positive definite with ``||E||_2 <= p gamma_{p+1} ||G - mu I + E||_2``
    (Higham 2002, theorem 10.5 and lemma 6.6), so ``lambda_min(G) > mu - err`` with ``err``
    bounding ``||E||_2`` and the rounding in forming ``G - mu I`` (then doubled);
    ``mu - err > slack F`` then certifies. Only says yes when certain: an ill-conditioned
    ``G`` (or ``F`` within a few powers of ``p`` of ``lambda_max`` failing) leaves it to
    the eigenvalues."""
    p = G.shape[0]
    u = _EPS / 2.0
    # ||G||_F, rounded up past its own rounding error (a sum of p^2 squares and a root)
    # (summed by one dot product of G's entries: the bound holds for any summation order)
    g = G.ravel()
    F = math.sqrt(float(g @ g)) * (1.0 + (p * p + 4) * 2.0 * u)
    if not (math.isfinite(F) and F > 0.0):
        return False
    pg = p * (p + 1) * u / (1.0 - (p + 1) * u)  # p gamma_{p+1}
    mu = 2.0 * slack * F
    err = 2.0 * (pg + u) * (F + mu) / (1.0 - pg)
    if not mu - err > slack * F:
        return False
    A = G.copy()
    A.ravel()[::p + 1] -= mu  # the diagonal (a view of the copy, not the flat iterator)
    _, info = _lapack.dpotrf(A, lower=False, clean=False, overwrite_a=True)
    return info == 0


def _eigen_certificate(G: np.ndarray, slack: float) -> bool:
    try:
        ev = np.linalg.eigvalsh(G)  # ascending
    except np.linalg.LinAlgError:
        return False
    return bool(np.isfinite(ev).all() and ev[0] > slack * ev[-1])
