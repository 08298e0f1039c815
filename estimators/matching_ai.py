"""The matching estimator of the ATT / ATE / ATC with Abadie-Imbens standard errors.

The estimator and variance of ``Matching::Match`` (Sekhon 2011), which implements Abadie &
Imbens (2006):

1. covariates are scaled by their SDs; the distance is ``d' W d`` with ``W = I``
   (``weight = "inverse_variance"``, Match's ``Weight = 1``) or the inverse covariance of the
   scaled covariates (``"mahalanobis"``, ``Weight = 2``);
2. each unit to be matched (treated for the ATT, controls for the ATC, all for the ATE) gets
   its ``M`` nearest units of the other arm, and with ``ties=True`` every other unit within
   ``tolerance`` of the ``M``-th distance too; each of its matches has weight 1 / (its
   number of matches). A unit with no match inside the covariate calipers is dropped;
3. the estimate is the mean over matched units of ``Y_i - mean of its matches`` (treated)
   or ``mean of its matches - Y_i`` (controls);
4. the variance (``Var.calc = 0``, Match's default) takes the conditional outcome variance
   as constant, ``σ² = ½ Σ_rows w (τ_row - τ̂)² / Σ w`` over matched pairs, and
   ``K_j`` (``KK_j``), the sum of a unit's match weights (and their squares):

   * ATT: ``V = [σ² Σ_controls (K_j² - KK_j) + Σ_treated (Ŷcaus_i - τ̂)²] / N1²``
   * ATE: ``V = [σ² Σ_all (K_j² + 2 K_j - KK_j) + Σ_all (Ŷcaus_i - τ̂)²] / N²``

   ``se`` is ``sqrt(V)`` (Abadie & Imbens' variance for the population effect) and
   ``se_conditional`` the part beyond the sample effect's (``Match``'s ``se.cond``).

   The variance is derived for matching with replacement and every tie kept. Without
   replacement, or with ``ties=False`` (ties broken), ``Match`` computes no SE (``se`` is
   NULL) and neither does :func:`match_estimate`: both SEs are NaN and ``se_message`` says
   why (a bootstrap or a paired analysis of the matched sample is the alternative).

References
----------
Abadie A, Imbens GW (2006). Large sample properties of matching estimators for average
treatment effects. Econometrica 74:235-267.
Sekhon JS (2011). Multivariate and propensity score matching software with automated
balance optimization: the Matching package for R. J Stat Softw 42(7).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial.distance import cdist

from tacebench.records import ArrayRecord

from ._checks import check_choice, check_finite, as_float_array, check_lengths
from .balancing_result import check_covariates
from ._option_checks import check_number
from .matching_mahalanobis import allowed_pairs, check_covariate_caliper, covariate_caliper

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["MatchEstimate", "match_estimate", "match_estimate_kernel"]

AI_ESTIMANDS = ("ATT", "ATE", "ATC")
WEIGHTS = ("inverse_variance", "mahalanobis")


@dataclass(frozen=True, eq=False)
class MatchEstimate(ArrayRecord):
    """A matching estimate with its Abadie-Imbens standard error.

    Attributes
    ----------
    estimate, se, se_conditional : float
    estimand : str
    index_treated, index_control : (r,) int arrays
        Each matched pair's treated and control row (Match's ``index.treated`` /
        ``index.control``), in the order units were matched.
    pair_weights : (r,) float array
        1 / (number of matches of the matched unit) (Match's ``weights``).
    n_matched : int
        Units matched (treated for the ATT).
    n_dropped : int
        Units to be matched that had no match inside the calipers.
    se_message : str
        Why ``se`` and ``se_conditional`` are NaN ("" when they are computed): no
        Abadie-Imbens SE without replacement or with ``ties=False``, as ``Match``.
    """

    estimate: float
    se: float
    se_conditional: float
    estimand: str
    index_treated: np.ndarray
    index_control: np.ndarray
    pair_weights: np.ndarray
    n_matched: int
    n_dropped: int
    se_message: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per matched pair: ``treated, control, weight``."""
        import pandas as pd
        return pd.DataFrame({"treated": self.index_treated, "control": self.index_control,
                             "weight": self.pair_weights})


def _scaled(X: np.ndarray, weight: str) -> np.ndarray:
    """Coordinates whose squared Euclidean distances are Match's ``d' W d``."""
    Xs = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    if weight == "inverse_variance":
        return Xs
    G = Xs.T @ Xs / X.shape[0]
    if np.linalg.eigvalsh(G).min() <= 1e-7:  # Match's fallback for singular covariates
        return Xs
    return Xs @ np.linalg.cholesky(np.linalg.inv(G))


def _match_rows(D2, ok, M, replace, ties, tol):
    """Per matched unit (row of D2): its matches (columns) and their weights."""
    out = []
    free = np.ones(D2.shape[1], dtype=bool)
    for i in range(D2.shape[0]):
        cand = np.flatnonzero(ok[i] & free)
        if cand.size == 0:
            out.append((np.empty(0, np.intp), np.empty(0)))
            continue
        d = D2[i, cand]
        order = np.argsort(d, kind="stable")
        m = min(M, cand.size)
        take = cand[d <= d[order[m - 1]] + tol] if ties else cand[order[:m]]
        if not ties:
            take = np.sort(take)
        if not replace:
            free[take] = False
        out.append((take, np.full(take.size, 1.0 / take.size)))
    return out


def match_estimate_kernel(y, X, z, estimand="ATT", M=1, weight="inverse_variance",
                          caliper=None, replace=True, ties=True,
                          tolerance=0.0) -> MatchEstimate:
    """Matching estimate and Abadie-Imbens SE on trusted input (kernel of
    :func:`match_estimate`; arguments as there, already valid).

    Returns
    -------
    MatchEstimate
        NaN estimate and SEs when no unit is matched; NaN SEs (with ``se_message``) when
        ``replace`` or ``ties`` is False.

    Notes
    -----
    No validation, and never raises on data.
    """
    t = (z == 1) if estimand != "ATC" else (z == 0)  # ATC: the ATT with the arms swapped
    n = z.size
    Y = _scaled(X, weight)
    width = covariate_caliper(X, caliper)
    focal = np.flatnonzero(t) if estimand != "ATE" else np.arange(n)
    pairs_i, pairs_j, pairs_w = [], [], []
    ycaus = np.zeros(n)
    matched = np.zeros(n, dtype=bool)
    for arm in ((1,) if estimand != "ATE" else (1, 0)):
        rows = np.flatnonzero(t == bool(arm))
        other = np.flatnonzero(t != bool(arm))
        D2 = cdist(Y[rows], Y[other], "sqeuclidean")
        ok = allowed_pairs(X[rows], X[other], width)
        for i, (cols, w) in zip(rows, _match_rows(D2, ok, M, replace, ties, tolerance)):
            if cols.size == 0:
                continue
            matched[i] = True
            ym = float(np.dot(w, y[other[cols]]))
            ycaus[i] = y[i] - ym if arm == 1 else ym - y[i]
            pairs_i.append(np.full(cols.size, i))
            pairs_j.append(other[cols])
            pairs_w.append(w)
    n_dropped = int(focal.size - matched[focal].sum())
    if not pairs_i:
        e = np.empty(0, np.intp)
        return MatchEstimate(np.nan, np.nan, np.nan, estimand, e, e, np.empty(0), 0, n_dropped)
    # pairs in the order the matched units come in the data, as Match lists them
    pi, pj, pw = (np.concatenate(a) for a in (pairs_i, pairs_j, pairs_w))
    o = np.argsort(pi, kind="stable")
    pi, pj, pw = pi[o], pj[o], pw[o]
    it = np.where(t[pi], pi, pj)
    ic = np.where(t[pi], pj, pi)
    tau = y[it] - y[ic]
    est = float(pw @ tau / pw.sum())
    K = np.bincount(pj, weights=pw, minlength=n)
    KK = np.bincount(pj, weights=pw * pw, minlength=n)
    sig = 0.5 * float(pw @ (tau - est) ** 2 / pw.sum())
    if estimand == "ATE":
        iot_t, iot_c = np.ones(n), np.ones(n)
        pop = sig * np.sum(K * K + 2 * K - KK)
    else:
        iot_t, iot_c = t.astype(float), (~t).astype(float)
        pop = sig * np.sum(iot_c * (K * K - KK))
    sn = iot_t.sum()
    v_sample = float(np.sum(sig * (iot_t + iot_c * K) ** 2) / sn**2)
    v_pop = float((pop + np.sum(iot_t * (ycaus - est) ** 2)) / sn**2)
    sign = -1.0 if estimand == "ATC" else 1.0
    # Match reports the ATC's pairs with the arms swapped back
    i_t, i_c = (ic, it) if estimand == "ATC" else (it, ic)
    se, se_cond, why = float(np.sqrt(v_pop)), float(np.sqrt(max(v_sample, v_pop) - v_sample)), ""
    if not (replace and ties):
        se = se_cond = float("nan")
        why = (f"no Abadie-Imbens SE with replace={replace}, ties={ties}: the variance is "
               "derived for matching with replacement and all ties kept (Matching::Match "
               "returns none either)")
    return MatchEstimate(sign * est, se, se_cond, estimand, i_t.astype(np.intp),
                         i_c.astype(np.intp), pw, int(matched[focal].sum()), n_dropped, why)


def match_estimate(y, X, treated, *, estimand: str = "ATT", M: int = 1,
                   weight: str = "inverse_variance", caliper=None, replace: bool = True,
                   ties: bool = True, tolerance: float = 0.0, names=None) -> MatchEstimate:
    """Matching estimate of a treatment effect with the Abadie-Imbens (2006) SE.

    Parameters
    ----------
    y : (n,) array-like
        Outcome.
    X : (n,) or (n, p) array-like
        Matching covariates (a propensity score or its logit is one column).
    treated : (n,) array-like of 0/1
    estimand : {"ATT", "ATE", "ATC"}
    M : int
        Matches per unit.
    weight : {"inverse_variance", "mahalanobis"}
        Match's ``Weight = 1`` or ``2``.
    caliper : None, float or (p,) array-like
        Covariate calipers in SDs (as ``Match``'s ``caliper``).
    replace : bool
        Matching with replacement (the setting Abadie & Imbens' variance is derived for;
        with False the SEs are NaN, see ``MatchEstimate.se_message``).
    ties : bool
        Keep every unit tied with the M-th nearest (within ``tolerance``); with False
        (ties broken) the SEs are NaN, as ``Match`` gives none.
    tolerance : float
        Match's ``distance.tolerance`` (its default is 1e-5, which treats near-ties as
        ties; 0 here).
    names : sequence of str, optional

    Returns
    -------
    MatchEstimate

    Raises
    ------
    ValueError
        Bad input, or no unit has a match inside the calipers.

    Notes
    -----
    R equivalent: ``Matching::Match(Y = y, Tr = treated, X = X, estimand = "ATT", M = 1,
    Weight = 1, replace = TRUE, ties = TRUE, distance.tolerance = 0)``; ``est`` and ``se``
    (``se`` is NULL there with ``replace = FALSE`` or ``ties = FALSE``: NaN here).

    References
    ----------
    Abadie A, Imbens GW (2006). Econometrica 74:235-267.
    """
    check_choice(estimand, "estimand", AI_ESTIMANDS)
    check_choice(weight, "weight", WEIGHTS)
    Xa, z, _ = check_covariates(X, treated, names)
    ya = check_finite(as_float_array(y, "y"), "y")
    check_lengths({"y": ya, "treated": z})
    for flag, nm in ((replace, "replace"), (ties, "ties")):
        if flag not in (True, False):
            raise ValueError(f"{nm} must be True or False; got {flag!r}")
    if isinstance(M, bool) or not isinstance(M, (int, np.integer)) or M < 1:
        raise ValueError(f"M must be a positive integer; got {M!r}")
    tol = check_number(tolerance, "tolerance", positive=False)
    check_covariate_caliper(caliper, Xa.shape[1])
    res = match_estimate_kernel(ya, Xa, z, estimand, int(M), weight, caliper, replace, ties,
                                tol)
    if res.n_matched == 0:
        raise ValueError(f"no unit has a match inside caliper={caliper!r}")
    return res
