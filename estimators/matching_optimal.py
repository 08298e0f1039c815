"""Optimal 1:1 pair matching: the pairs that minimise the total treated-control distance.

Greedy matching fixes each pair in turn, so an early choice can force a later treated unit
onto a distant control; optimal matching solves the whole assignment at once (Rosenbaum
1989), as ``MatchIt::matchit(method = "optimal")`` does through optmatch. With one control
per treated unit and at least as many controls as treated units this is a rectangular linear
assignment problem. Distances: ``|logit e_i - logit e_j|``, ``|e_i - e_j|`` or the
Mahalanobis distance between covariate vectors (:mod:`estimators.matching_mahalanobis`).

* Mahalanobis: ``scipy.optimize.linear_sum_assignment`` on the (n1, n0) distance matrix (a
  shortest augmenting path method, Crouse 2016).
* A one-dimensional distance ``|d_i - d_j|``: with treated and controls each sorted by
  ``d``, some optimal assignment is non-crossing (the k-th treated unit's control comes
  before the (k+1)-th's; uncrossing two pairs never raises the total of an absolute
  difference, Aggarwal et al. 1992), so a dynamic program over the sorted arrays
  (:func:`sorted_pairs`) is exact in O(n1 (n0 - n1 + 1)) without the distance matrix.

On a one-dimensional distance the optimal pairs are not unique: two treated units on the
same side of two controls can swap them at no cost. The matched controls are the same as
any other optimal solver's (unless distances tie exactly), but the pairing is this
module's: the non-crossing one, which is what the clustered SE of a matched analysis
depends on.

References
----------
Rosenbaum PR (1989). Optimal matching for observational studies. JASA 84:1024-1032.
Crouse DF (2016). On implementing 2D rectangular assignment algorithms. IEEE Trans Aerosp
Electron Syst 52:1679-1696.
Aggarwal A, Bar-Noy A, Khuller S, Kravets D, Schieber B (1992). Efficient minimum cost
matching using quadrangle inequality. Proc 33rd IEEE FOCS:583-592.
"""
from __future__ import annotations

import numpy as np
from scipy import special
from scipy.spatial.distance import cdist

from ._checks import (check_binary, check_both_arms, check_choice, check_lengths,
                      check_probability)
from .balancing_result import check_covariates
from .matching_mahalanobis import COVARIANCES, check_pooled_covariance, mahalanobis_coordinates
from .matching_result import MatchResult, result_from_sets

__all__ = ["DISTANCES", "match_optimal", "match_optimal_kernel", "pair_distance_matrix",
           "positions_of_running_minima", "sorted_pairs"]

#: distance -> what ``x`` is
DISTANCES = {"logit": "ps", "ps": "ps", "mahalanobis": "covariates"}


def pair_distance_matrix(x: np.ndarray, z: np.ndarray, distance: str,
                         covariance: str = "pooled") -> np.ndarray:
    """(n1, n0) treated-by-control distances, rows and columns in data order."""
    t, c = z == 1, z == 0
    if distance == "mahalanobis":
        Y = mahalanobis_coordinates(x, z, covariance)
        return cdist(Y[t], Y[c])
    d = special.logit(x) if distance == "logit" else x
    return np.abs(d[t][:, None] - d[c][None, :])


def sorted_pairs(d_treated: np.ndarray, d_control: np.ndarray) -> np.ndarray:
    """Minimum total ``|d_i - d_j|`` 1:1 assignment of controls to treated units on a line.

    Parameters
    ----------
    d_treated : (n1,) float array
    d_control : (n0,) float array, n0 >= n1

    Returns
    -------
    (n1,) int array
        The control (index into ``d_control``) of each treated unit, in input order.

    Notes
    -----
    Both arms are sorted by ``d`` (stable: equal values in input order). ``F_i[k]``, the
    least total of the first ``i + 1`` treated units with the last at most the
    ``(i + k)``-th control, is ``cummin_k(F_{i-1}[k] + |t_i - c_{i+k}|)``: one vector
    operation per treated unit over the ``n0 - n1 + 1`` controls it can take in a
    non-crossing assignment. Backtracking from the highest treated unit, each takes the
    lowest control that keeps the total optimal (the tie rule).

    References
    ----------
    Aggarwal A et al. (1992). Efficient minimum cost matching using quadrangle inequality.
    Proc 33rd IEEE FOCS:583-592.
    """
    n1, n0 = d_treated.size, d_control.size
    ot, oc = np.argsort(d_treated, kind="stable"), np.argsort(d_control, kind="stable")
    t, c = d_treated[ot], d_control[oc]
    w = n0 - n1 + 1
    # row i: the window of controls i .. i + w - 1, a strided view of the sorted controls
    # (a fresh contiguous array): sliding_window_view's array without its checks, which
    # cost more than the subtraction
    window = np.ndarray((n1, w), c.dtype, c, 0, (c.itemsize, c.itemsize))
    total = np.subtract(t[:, None], window)  # row i: cost[i], then in place plus F_{i-1}
    np.abs(total, out=total)
    best = np.empty_like(total)  # row i: F_i
    prev = np.zeros(w)
    add, running_min = np.add, np.minimum.accumulate  # (the loop's only work: two calls)
    for total_i, best_i in zip(total, best):  # (row views made once)
        prev = running_min(add(prev, total_i, out=total_i), out=best_i)
    # backtracking: row i's control is the first occurrence of the minimum of its totals up
    # to the next row's position, an argmin over a prefix of the row on the path only; a
    # NaN total (a PS of exactly 0 or 1 in both arms) reaches F's last entry, and then the
    # running minima are read off the whole table, where NaN never is a new minimum
    if np.isnan(best[-1, -1]):
        pos = positions_of_running_minima(total, best)
    else:
        # (positions as Python ints in a list: numpy scalars' arithmetic and item
        # assignment cost more than the argmin)
        pos, k = [0] * n1, w - 1
        for i in range(n1 - 1, -1, -1):
            k = int(total[i, :k + 1].argmin())
            pos[i] = i + k
    out = np.empty(n1, dtype=np.intp)
    out[ot] = oc[pos]
    return out


def positions_of_running_minima(total: np.ndarray, best: np.ndarray) -> np.ndarray:
    """The backtracking of :func:`sorted_pairs` on its whole table.

    Parameters
    ----------
    total : (n1, w) float array
        Row i: the cost of each window position plus the best of the rows before it.
    best : (n1, w) float array
        Row i: the running minimum of ``total[i]`` (``F_i``).

    Returns
    -------
    (n1,) int array
        Position in the sorted controls of each sorted treated unit: from the last row
        back, the last strictly new running minimum up to the next row's position (a NaN
        total is never one).
    """
    n1, w = total.shape
    new_min = np.ones_like(total, dtype=bool)
    np.less(total[:, 1:], best[:, :-1], out=new_min[:, 1:])
    arg = np.maximum.accumulate(np.where(new_min, np.arange(w), 0), axis=1)
    pos = np.empty(n1, dtype=np.intp)
    k = w - 1
    for i in range(n1 - 1, -1, -1):
        k = arg[i, k]
        pos[i] = i + k
    return pos


def match_optimal_kernel(x: np.ndarray, z: np.ndarray, distance: str = "logit",
                         covariance: str = "pooled") -> MatchResult:
    """Optimal pair matching on trusted input (the kernel of :func:`match_optimal`).

    Parameters
    ----------
    x : (n,) propensity scores or (n, p) covariates
    z : (n,) array of 0/1 with at least as many controls as treated
    distance, covariance
        As :func:`match_optimal`.

    Returns
    -------
    MatchResult
        Every treated unit matched; ``method`` carries the total distance.

    Notes
    -----
    No validation; never raises on valid-shaped data. Mahalanobis by linear assignment, a
    one-dimensional distance by :func:`sorted_pairs` (see the module docstring).
    """
    from scipy import optimize
    t_rows, c_rows = np.flatnonzero(z == 1), np.flatnonzero(z == 0)
    mm = np.full((t_rows.size, 1), -1, dtype=np.intp)
    if distance == "mahalanobis":
        D = pair_distance_matrix(x, z, distance, covariance)
        rows, cols = optimize.linear_sum_assignment(D)
        mm[rows, 0] = c_rows[cols]
        total = float(D[rows, cols].sum())
    else:
        d = special.logit(x) if distance == "logit" else x
        dt = d[t_rows]
        mm[:, 0] = c_rows[sorted_pairs(dt, d[c_rows])]
        total = float(np.abs(dt - d[mm[:, 0]]).sum())
    return result_from_sets(mm, t_rows, z, caliper=None,
                            distance=None if x.ndim == 2 else x,
                            method=f"optimal({distance}, total distance {total:.17g})")


def match_optimal(x, treated, *, distance: str = "logit", covariance: str = "pooled",
                  names=None) -> MatchResult:
    """Optimal 1:1 pair matching of controls to treated units (minimum total distance).

    Parameters
    ----------
    x : (n,) array-like of propensity scores, or (n, p) covariates for "mahalanobis"
    treated : (n,) array-like of 0/1
    distance : {"logit", "ps", "mahalanobis"}
        ``|logit(ps_i) - logit(ps_j)|``, ``|ps_i - ps_j|`` or the Mahalanobis distance.
    covariance : {"pooled", "overall"}
        Mahalanobis only: pooled within-arm covariance
        ``((n1 - 1) S1 + (n0 - 1) S0) / (n - 2)`` (MatchIt's ``pooled_cov``, as in its
        ``mahalanobis_dist()``; needs ``n >= 3``) or that of all units; a singular one by
        its pseudo-inverse, as MatchIt
        (:func:`estimators.matching_mahalanobis.mahalanobis_coordinates`).
    names : sequence of str, optional
        Covariate names (Mahalanobis only).

    Returns
    -------
    MatchResult
        ``total_distance`` is in ``method``; every treated unit is matched.

    Raises
    ------
    ValueError
        Bad input, or fewer controls than treated units (no 1:1 assignment exists).

    Notes
    -----
    R equivalent: ``MatchIt::matchit(treated ~ x, data, method = "optimal",
    distance = <matrix>)``, or ``clue::solve_LSAP(D)`` on the same distance matrix (for
    ``"mahalanobis"`` with ``"pooled"``, ``D = MatchIt::mahalanobis_dist(treated ~ x,
    data)``): the
    same total distance; on ``"logit"`` and ``"ps"`` the same matched controls but not
    always the same pairs (the optimum is not unique; this function returns the
    non-crossing pairs, :func:`sorted_pairs`).

    References
    ----------
    Rosenbaum PR (1989). JASA 84:1024-1032.
    """
    check_choice(distance, "distance", tuple(DISTANCES))
    check_choice(covariance, "covariance", COVARIANCES)
    if DISTANCES[distance] == "covariates":
        xa, z, _ = check_covariates(x, treated, names)
        check_pooled_covariance(z, covariance)
    else:
        if names is not None:
            raise ValueError(f"names does not apply to distance={distance!r}")
        xa, z = check_probability(x, "ps"), check_binary(treated, "treated")
        check_lengths({"ps": xa, "treated": z})
        check_both_arms(z)
    n1 = int(z.sum())
    if z.size - n1 < n1:
        raise ValueError(f"optimal 1:1 matching needs at least as many controls as treated "
                         f"units; got {z.size - n1} controls for {n1} treated")
    return match_optimal_kernel(xa, z, distance, covariance)
