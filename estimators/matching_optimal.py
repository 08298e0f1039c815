"""Optimal 1:1 pair matching: the pairs that minimise the total treated-control distance.

Greedy matching fixes each pair in turn, so an early choice can force a later treated unit
onto a distant control; optimal matching solves the whole assignment at once (Rosenbaum
1989), as ``MatchIt::matchit(method = "optimal")`` does through optmatch. With one control
per treated unit and at least as many controls as treated units this is a rectangular linear
assignment problem, solved exactly by ``scipy.optimize.linear_sum_assignment`` (a shortest
augmenting path method, Crouse 2016). Distances: ``|logit e_i - logit e_j|``, ``|e_i - e_j|``
or the Mahalanobis distance between covariate vectors (:mod:`estimators.matching_mahalanobis`).

References
----------
Rosenbaum PR (1989). Optimal matching for observational studies. JASA 84:1024-1032.
Crouse DF (2016). On implementing 2D rectangular assignment algorithms. IEEE Trans Aerosp
Electron Syst 52:1679-1696.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize, special
from scipy.spatial.distance import cdist

from ._checks import check_binary, check_choice, check_lengths, check_probability
from .balancing_result import check_covariates
from .matching_mahalanobis import COVARIANCES, mahalanobis_coordinates
from .matching_result import MatchResult, result_from_sets

__all__ = ["DISTANCES", "match_optimal", "match_optimal_kernel", "pair_distance_matrix"]

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
    No validation; never raises on valid-shaped data.
    """
    D = pair_distance_matrix(x, z, distance, covariance)
    rows, cols = optimize.linear_sum_assignment(D)
    t_rows, c_rows = np.flatnonzero(z == 1), np.flatnonzero(z == 0)
    mm = np.full((t_rows.size, 1), -1, dtype=np.intp)
    mm[rows, 0] = c_rows[cols]
    total = float(D[rows, cols].sum())
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
        Mahalanobis only: pooled within-arm covariance (MatchIt's) or that of all units.
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
    distance = <matrix>)``, or ``clue::solve_LSAP(D)`` on the same distance matrix.

    References
    ----------
    Rosenbaum PR (1989). JASA 84:1024-1032.
    """
    check_choice(distance, "distance", tuple(DISTANCES))
    check_choice(covariance, "covariance", COVARIANCES)
    if DISTANCES[distance] == "covariates":
        xa, z, _ = check_covariates(x, treated, names)
    else:
        if names is not None:
            raise ValueError(f"names does not apply to distance={distance!r}")
        xa, z = check_probability(x, "ps"), check_binary(treated, "treated")
        check_lengths({"ps": xa, "treated": z})
        if np.unique(z).size < 2:
            raise ValueError(f"treated must contain both arms; got only {int(z[0])}")
    n1 = int(z.sum())
    if z.size - n1 < n1:
        raise ValueError(f"optimal 1:1 matching needs at least as many controls as treated "
                         f"units; got {z.size - n1} controls for {n1} treated")
    return match_optimal_kernel(xa, z, distance, covariance)
