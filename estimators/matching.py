"""Matching: the matchers, their result and the matched-pair Cox analysis.

The matchers live in :mod:`tacebench.estimators.matching_nearest` (greedy nearest-neighbour
propensity matching with a caliper), :mod:`tacebench.estimators.matching_exact` (exact
matching on categories, seed 002's matched case-control design),
:mod:`tacebench.estimators.matching_mahalanobis` (Mahalanobis distance with covariate
calipers) and :mod:`tacebench.estimators.matching_optimal` (optimal pair matching); their
result type in :mod:`tacebench.estimators.matching_result`. The matching estimator with
Abadie-Imbens standard errors (``Matching::Match``) is in
:mod:`tacebench.estimators.matching_ai`. All are re-exported here.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_binary, check_lengths
from .matching_ai import MatchEstimate, match_estimate
from .matching_exact import match_exact
from .matching_mahalanobis import match_mahalanobis
from .matching_nearest import match_nearest
from .matching_optimal import match_optimal
from .matching_result import MatchResult

__all__ = ["MatchEstimate", "MatchResult", "match_estimate", "match_exact", "match_mahalanobis",
           "match_nearest", "match_optimal", "matched_cox"]


def matched_cox(time, event, match: MatchResult, X=None, *, ties: str = "efron", names=None):
    """Cox model of treatment on a matched sample with a robust SE clustered on matched set.

    Fits ``cox_ph(time[rows], event[rows], [treated, X[rows]], robust=True,
    cluster=pair_id)``: the Lin & Wei (1989) sandwich summed within matched sets, as R
    ``coxph(Surv(time, event) ~ treated, data = matched, cluster = subclass)`` and as
    recommended by Austin (2013) for matched survival data. ``treated`` is the first
    coefficient.

    Parameters
    ----------
    time, event : (n,) array-like on the original (unmatched) rows
    match : MatchResult
    X : (n, q) array-like, optional
        Extra covariates (doubly adjusted analysis).
    ties : {"efron", "breslow"}
    """
    from .survival import cox_ph

    if not isinstance(match, MatchResult):
        raise ValueError(f"match must be a MatchResult; got {type(match).__name__}")
    time = np.asarray(time, dtype=float)
    event = np.asarray(event)
    n = check_lengths({"time": time, "event": event, "match.weights": match.weights})
    if match.rows.size == 0:
        raise ValueError("match has no matched sets; nothing to analyse")
    z = np.zeros(match.rows.size)
    first = np.r_[True, match.pair_id[1:] != match.pair_id[:-1]]
    z[first] = 1.0
    cols = [z]
    nm = ["treated"]
    if X is not None:
        Xa = np.asarray(X, dtype=float)
        Xa = Xa[:, None] if Xa.ndim == 1 else Xa
        check_lengths({"time": time, "X": Xa}, n)
        cols.append(Xa[match.rows])
        nm += list(names) if names is not None else [f"x{j}" for j in range(Xa.shape[1])]
    design = np.column_stack(cols)
    return cox_ph(time[match.rows], check_binary(event, "event")[match.rows], design,
                  robust=True, cluster=match.pair_id, ties=ties, names=nm)
