"""Greedy nearest-available matching on Euclidean coordinates, exact without the whole
matrix of exact distances.

:func:`estimators.matching_mahalanobis.match_on_distance` on ``cdist(Yt, Yc)`` (the
Mahalanobis matcher without calipers or replacement) needs, for each treated row, the
argmin of its exact distances over the controls still available, the lowest column on a
tie. The exact distance of a pair is ``cdist``'s (a sum of squared differences, then its
square root); computing it for every pair costs more than the matching. Here the squared
distances are first computed as ``|y_t|^2 + |y_c|^2 - 2 y_t . y_c`` (one matrix product),
whose error against the square of ``cdist``'s value is bounded (:func:`_band`). A column
whose approximate value exceeds the row's approximate minimum by more than twice that
bound cannot be the exact argmin; when only one column is within it, it is the argmin,
and otherwise the exact distances of the few columns within it decide, computed by
``cdist`` itself (whose value of a pair does not depend on the other pairs it is given
with). The choices are therefore those of the exact matrix, ties included.

References
----------
Higham NJ (2002). Accuracy and Stability of Numerical Algorithms, 2nd ed. SIAM, ch. 3
(error bounds of sums and inner products).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

__all__ = ["greedy_on_coordinates", "greedy_rounds"]

#: factor on the first-order rounding bound of :func:`_band` (the bound is not tight, and
#: a wider band only sends more rows to the exact distances, never a different choice)
SAFETY = 4.0


def _band(sq_t: np.ndarray, sq_c: np.ndarray, p: int) -> np.ndarray:
    """Per treated row, twice a bound on ``|approximate - exact^2|`` over its columns.

    With ``u`` the unit roundoff, ``cdist``'s square ``e^2`` is within ``(p + 5) u T`` of
    the true squared distance ``T <= (|a| + |b|)^2``, and the expansion within
    ``(p + 4) u (|a| + |b|)^2`` of it, so their difference is at most
    ``(2 p + 9) u (|a| + |b|)^2 <= (p + 5) eps (|a| + |b|)^2``."""
    eps = np.finfo(np.float64).eps
    return 2.0 * SAFETY * (p + 5) * eps * (np.sqrt(sq_t) + np.sqrt(sq_c.max())) ** 2


def greedy_on_coordinates(Yt: np.ndarray, Yc: np.ndarray, ratio: int) -> np.ndarray | None:
    """``match_on_distance(cdist(Yt, Yc), ratio, replace=False)`` without the (n1, n0)
    matrix of exact distances.

    Parameters
    ----------
    Yt : (n1, p) float array
        Coordinates of the treated units.
    Yc : (n0, p) float array
        Coordinates of the controls, n0 >= 1.
    ratio : int
        Rounds (controls per treated unit).

    Returns
    -------
    (n1, ratio) int array or None
        Column of each treated row's control in each round (-1 none); None if a
        coordinate is not finite (the caller then uses the exact matrix).
    """
    n1, n0, p = Yt.shape[0], Yc.shape[0], Yt.shape[1]
    sq_t, sq_c = np.einsum("ij,ij->i", Yt, Yt), np.einsum("ij,ij->i", Yc, Yc)
    band = _band(sq_t, sq_c, p)
    if not np.isfinite(band).all():
        return None
    A = Yt @ Yc.T                                   # approximate squared distances
    A *= -2.0
    A += sq_t[:, None]
    A += sq_c

    def exact_argmin(i: int, row: np.ndarray, cap: float) -> int:
        # the columns within the band, in column order: the first exact minimum wins
        near = np.flatnonzero(row <= cap)
        return int(near[np.argmin(cdist(Yt[i:i + 1], Yc[near])[0])])

    first = A.argmin(axis=1)
    cap = A[np.arange(n1), first] + band
    crowded = np.flatnonzero(np.count_nonzero(A <= cap[:, None], axis=1) > 1)
    first = first.tolist()
    for i in crowded.tolist():
        first[i] = exact_argmin(i, A[i], cap[i])
    row = np.empty(n0)

    def nearest(i: int, penalty: np.ndarray) -> int:
        np.add(A[i], penalty, out=row)
        j = int(row.argmin())
        least = row[j]
        if not least < np.inf:                     # every control used
            return -1
        row[j] = np.inf                            # another column within the band?
        if row.min() <= least + band[i]:
            row[j] = least
            j = exact_argmin(i, row, least + band[i])
        return j

    return greedy_rounds(first, [True] * n1, n0, ratio, nearest)


def greedy_rounds(first: list, first_ok: list, n0: int, ratio: int, nearest) -> np.ndarray:
    """The rounds of greedy matching without replacement: treated rows in order, ``ratio``
    rounds, each row taking its first choice while that is available (and allowed:
    ``first_ok``), else ``nearest(i, penalty)``.

    Parameters
    ----------
    first : list of int
        Each row's nearest control overall (the lowest column on a tie).
    first_ok : list of bool
        Whether that control is allowed (a finite distance).
    n0 : int
        Number of controls.
    ratio : int
    nearest : callable
        ``nearest(i, penalty)``: the column of row i's nearest available allowed control,
        -1 if none; ``penalty`` is 0, inf where a control is used up.

    Returns
    -------
    (n1, ratio) int array
        Column of each row's control in each round, -1 none.
    """
    # While row i's first choice is available it is also its nearest available one (the
    # other entries only grew), so ``nearest`` is asked only for the rows whose first
    # choice was taken.
    mm = np.full((len(first), ratio), -1, dtype=np.intp)
    used = [False] * n0
    penalty = np.zeros(n0)
    for r in range(ratio):
        for i in range(len(first)):
            j = first[i]
            if used[j]:
                j = nearest(i, penalty)
                if j < 0:
                    continue
            elif not first_ok[i]:
                continue
            mm[i, r] = j
            used[j] = True
            penalty[j] = np.inf
    return mm
