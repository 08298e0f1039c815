"""Mahalanobis distance matching with covariate calipers.

Controls are matched to treated units on the Mahalanobis distance between covariate vectors,
``sqrt((x_i - x_j)' S^-1 (x_i - x_j))``; a pair is allowed only if every covariate with a
caliper differs by at most ``caliper_k`` standard deviations of that covariate (SD over all
units), as ``Matching::Match(caliper = ...)`` interprets a covariate caliper. ``S`` is

* ``"overall"``: the covariance of all units (``Matching::Match(Weight = 2)``);
* ``"pooled"``: the pooled within-arm covariance ``((n1 - 1) S1 + (n0 - 1) S0) / (n - 2)``,
  each unit centred on its arm's mean, the arms weighted by their degrees of freedom
  (``MatchIt``'s ``pooled_cov``, which its ``distance = "mahalanobis"`` and
  ``mahalanobis_dist()`` use; Rubin 1980). An arm of one unit adds nothing to it (the
  other arm's covariance); it needs ``n >= 3``.

With ``replace=True`` each treated unit takes its ``ratio`` nearest allowed controls; without
replacement treated units choose in data order, ``ratio`` rounds as
:mod:`estimators.matching_nearest`, each the nearest still-available allowed control (ties
to the lower row).

References
----------
Rubin DB (1980). Bias reduction using Mahalanobis-metric matching. Biometrics 36:293-298.
Sekhon JS (2011). Multivariate and propensity score matching software with automated
balance optimization: the Matching package for R. J Stat Softw 42(7).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from ._checks import check_choice
from .balancing_result import certainly_full_rank, check_covariates, column_rank
from .matching_greedy_coordinates import greedy_on_coordinates, greedy_rounds
from .matching_result import MatchResult, result_from_sets

__all__ = ["COVARIANCES", "GINV_TOL", "check_covariate_caliper", "check_pooled_covariance",
           "covariate_caliper", "mahalanobis_coordinates", "match_mahalanobis",
           "match_mahalanobis_kernel", "match_on_distance"]

COVARIANCES = ("overall", "pooled")


#: A singular covariance's eigenvalues at or below this fraction of the largest are dropped
#: from its pseudo-inverse (MatchIt's ``generalized_inverse``, a port of ``MASS::ginv``).
GINV_TOL = 1e-8


def _covariance(X: np.ndarray, z: np.ndarray, covariance: str) -> np.ndarray:
    """(p, p) covariance of all units, or the pooled within-arm covariance
    ``((n1 - 1) S1 + (n0 - 1) S0) / (n - 2)``: the two arms' sums of squares about their
    own means over ``n - 2`` (MatchIt's ``pooled_cov``)."""
    if covariance == "overall":
        S = np.cov(X, rowvar=False, ddof=1)
    else:
        # (an arm's sums of squares as n_a times its ddof=0 covariance: zero, not NaN,
        # for an arm of one unit)
        S = sum(np.count_nonzero(m) * np.cov(X[m], rowvar=False, ddof=0)
                for m in (z == 1, z == 0)) / (X.shape[0] - 2)
    return np.atleast_2d(S)


def _centred(X: np.ndarray, z: np.ndarray, covariance: str) -> np.ndarray:
    """Rows whose cross-product is :func:`_covariance` times ``n - 1`` or ``n - 2``: the
    units less the overall mean, or less their arm's mean."""
    if covariance == "overall":
        return X - X.mean(axis=0)
    out = np.empty_like(X)
    for a in (0, 1):
        out[z == a] = X[z == a] - X[z == a].mean(axis=0)
    return out


def mahalanobis_coordinates(X: np.ndarray, z: np.ndarray, covariance: str) -> np.ndarray:
    """Coordinates whose Euclidean distances are the Mahalanobis distances, so a matcher
    needs only ``cdist``.

    A nonsingular covariance ``S`` gives ``X U'`` with ``U'U = S^-1`` (Cholesky). A
    singular one (linearly dependent covariates: :func:`column_rank` of the centred rows
    below ``p``; or ``S`` too close to singular to invert) has no inverse, and its
    Moore-Penrose pseudo-inverse is used, as MatchIt's ``transform_covariates`` does: the
    covariance of the covariates over their SDs, its ``generalized_inverse`` (eigenvalues
    above :data:`GINV_TOL` of the largest kept). The coordinates are those scaled
    covariates on the kept eigenvectors over the square roots of their eigenvalues. A
    covariate that is an exact linear combination of others then adds nothing to the
    distance, as if it were dropped. (MatchIt takes the pseudo-inverse already when
    ``det(S) <= 1e-8``; here only a singular ``S`` does, so that an invertible one keeps
    its exact inverse.)
    """
    S = _covariance(X, z, covariance)
    # (the covariance is the centred rows' Gram matrix over a constant: its own
    # certificate spares the rows' rank in the common, well-conditioned case)
    n, p = X.shape
    if certainly_full_rank(S, n) or column_rank(_centred(X, z, covariance)) == p:
        try:
            U = np.linalg.cholesky(np.linalg.inv(S)).T
            return X @ U.T
        except np.linalg.LinAlgError:
            pass  # of full rank, but too close to singular to invert: as a singular one
    Xs = X / X.std(axis=0, ddof=1)
    lam, V = np.linalg.eigh(_covariance(Xs, z, covariance))
    keep = lam > GINV_TOL * lam[-1]
    return Xs @ (V[:, keep] / np.sqrt(lam[keep]))


def check_covariate_caliper(caliper, p: int) -> None:
    """Raise unless ``caliper`` is None, one number or ``p`` numbers, each positive or NaN
    (no caliper on that covariate); strings and booleans are refused, and a list of one
    entry for several covariates is not broadcast."""
    if caliper is None:
        return
    cal = np.asarray(caliper) if not isinstance(caliper, (str, bytes)) else None
    if cal is None or cal.dtype.kind not in "iuf" or cal.ndim > 1 or (
            cal.ndim == 1 and cal.size != p):
        raise ValueError(f"caliper must be a number or have one entry per covariate ({p}), "
                         f"in SDs; got {caliper!r}")
    given = cal[~np.isnan(cal)]
    if not (np.isfinite(given) & (given > 0)).all():
        raise ValueError(f"caliper must be positive SDs (NaN for none); got {caliper!r}")


def check_pooled_covariance(z: np.ndarray, covariance: str) -> None:
    """Raise when ``covariance="pooled"`` meets one unit in each arm (``n - 2 = 0``
    degrees of freedom: MatchIt's ``pooled_cov`` is NaN there). An arm of one unit with
    more in the other is valid: it adds nothing, and the other arm's covariance is used,
    as in MatchIt."""
    if covariance == "pooled" and z.size < 3:
        raise ValueError("covariance='pooled' divides the within-arm sums of squares by "
                         f"n - 2, which needs at least 3 units; got {z.size}. Use "
                         "covariance='overall'")


def covariate_caliper(X: np.ndarray, caliper) -> np.ndarray | None:
    """Per-covariate caliper widths on the covariates' scale (``caliper`` SDs, NaN = none)."""
    if caliper is None:
        return None
    return np.broadcast_to(np.asarray(caliper, dtype=float), (X.shape[1],)) * X.std(axis=0,
                                                                                   ddof=1)


def allowed_pairs(Xt: np.ndarray, Xc: np.ndarray, width: np.ndarray | None) -> np.ndarray:
    """(n1, n0) boolean: every calipered covariate within its width (NaN width: no caliper)."""
    ok = np.ones((Xt.shape[0], Xc.shape[0]), dtype=bool)
    if width is not None:
        for k in np.flatnonzero(np.isfinite(width)):
            ok &= np.abs(Xt[:, k, None] - Xc[None, :, k]) <= width[k]
    return ok


def match_on_distance(D: np.ndarray, ratio: int, replace: bool) -> np.ndarray:
    """(n1, ratio) column indices of each treated row's controls (-1 none) on a distance
    matrix with ``inf`` for forbidden pairs: the k nearest with replacement, else greedy in
    row order, ``ratio`` rounds, the nearest available (first column on a tie)."""
    n1, n0 = D.shape
    mm = np.full((n1, ratio), -1, dtype=np.intp)
    if replace:
        order = np.argsort(D, axis=1, kind="stable")[:, :ratio]
        near = np.take_along_axis(D, order, axis=1)
        mm[:, :order.shape[1]] = np.where(np.isfinite(near), order, -1)
        return mm
    # the nearest available control of a row whose first choice was taken: the argmin of
    # D[i] plus the penalty row (0, inf where used) added into one buffer, the same
    # values as where(used, inf, D[i]) for distances >= 0 without a fresh array per row
    if n0 == 0:
        return mm
    first = np.argmin(D, axis=1)
    first_ok = np.isfinite(D[np.arange(n1), first]).tolist()
    row = np.empty(n0)

    def nearest(i: int, penalty: np.ndarray) -> int:
        np.add(D[i], penalty, out=row)
        j = int(row.argmin())
        return j if row[j] < np.inf else -1  # (NaN: none)

    return greedy_rounds(first.tolist(), first_ok, n0, ratio, nearest)


def match_mahalanobis_kernel(X: np.ndarray, z: np.ndarray, caliper=None,
                             covariance: str = "overall", ratio: int = 1,
                             replace: bool = False) -> MatchResult:
    """Mahalanobis matching on trusted input (the kernel of :func:`match_mahalanobis`).

    Parameters
    ----------
    X : (n, p) float array
    z : (n,) array of 0/1
    caliper, covariance, ratio, replace
        As :func:`match_mahalanobis` (already valid).

    Returns
    -------
    MatchResult
        ``distance`` None (the distance is between pairs); status NO_MATCH when no treated
        unit has an allowed control.

    Notes
    -----
    No validation, and never raises on data.
    """
    t_rows, c_rows = np.flatnonzero(z == 1), np.flatnonzero(z == 0)
    Y = mahalanobis_coordinates(X, z, covariance)
    width = covariate_caliper(X, caliper)
    cols = None
    if width is None and not replace and c_rows.size:
        # the same choices without the whole matrix of exact distances
        cols = greedy_on_coordinates(Y[t_rows], Y[c_rows], ratio)
    if cols is None:
        D = cdist(Y[t_rows], Y[c_rows])
        if width is not None:
            D[~allowed_pairs(X[t_rows], X[c_rows], width)] = np.inf
        cols = match_on_distance(D, ratio, replace)
    mm = np.where(cols >= 0, c_rows[np.maximum(cols, 0)], -1)
    msg = "" if (mm[:, 0] >= 0).any() else (
        f"no treated unit has a control within the covariate calipers {list(width)}")
    return result_from_sets(mm, t_rows, z, caliper=None, distance=None,
                            method=f"mahalanobis({covariance}, ratio={ratio}, "
                                   f"replace={replace})", message=msg)


def match_mahalanobis(X, treated, *, caliper=None, covariance: str = "overall",
                      ratio: int = 1, replace: bool = False, names=None) -> MatchResult:
    """Nearest-neighbour matching of controls to treated units on the Mahalanobis distance.

    Parameters
    ----------
    X : (n, p) array-like or DataFrame
        Matching covariates.
    treated : (n,) array-like of 0/1
    caliper : None, float or (p,) array-like
        Covariate calipers in SDs of each covariate (a scalar applies to all; NaN in an
        array leaves that covariate without caliper).
    covariance : {"overall", "pooled"}
        Covariance of all units (Matching) or pooled within arms,
        ``((n1 - 1) S1 + (n0 - 1) S0) / (n - 2)`` (MatchIt's ``pooled_cov``; needs
        ``n >= 3``). A singular covariance (linearly dependent covariates) is replaced by
        its pseudo-inverse as MatchIt does (see :func:`mahalanobis_coordinates`).
    ratio : int
        Controls per treated unit.
    replace : bool
    names : sequence of str, optional

    Returns
    -------
    MatchResult

    Raises
    ------
    ValueError
        Bad input (including ``covariance="pooled"`` with one unit in each arm), or no
        treated unit has an allowed control.

    Notes
    -----
    R equivalent (``covariance="overall"``)::

        Matching::Match(Tr = treated, X = X, Weight = 2, M = ratio, replace = replace,
                        caliper = caliper, ties = FALSE, distance.tolerance = 0)

    and (``covariance="pooled"``, no caliper, without replacement)::

        MatchIt::matchit(treated ~ X, method = "nearest", distance = "mahalanobis",
                         ratio = ratio, m.order = "data")

    References
    ----------
    Rubin DB (1980). Biometrics 36:293-298.
    """
    Xa, z, _ = check_covariates(X, treated, names)
    check_choice(covariance, "covariance", COVARIANCES)
    if replace not in (True, False):
        raise ValueError(f"replace must be True or False; got {replace!r}")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, np.integer)) or ratio < 1:
        raise ValueError(f"ratio must be a positive integer; got {ratio!r}")
    check_covariate_caliper(caliper, Xa.shape[1])
    check_pooled_covariance(z, covariance)
    m = match_mahalanobis_kernel(Xa, z, caliper, covariance, int(ratio), replace)
    if not m.status.ok:
        raise ValueError(m.message)
    return m
