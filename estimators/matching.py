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

from dataclasses import dataclass, fields, replace

import numpy as np

from ._checks import check_binary, check_lengths
from .matching_ai import MatchEstimate, match_estimate
from .matching_exact import match_exact
from .matching_mahalanobis import match_mahalanobis
from .matching_nearest import match_nearest
from .matching_optimal import match_optimal
from .matching_result import MatchResult
from .matching_variance import matched_set_weights, twoway_variance
from .survival._ci import two_sided_p, z_value
from .survival.cox import CoxResult

__all__ = ["MatchEstimate", "MatchResult", "MatchedCoxResult", "match_estimate", "match_exact",
           "match_mahalanobis", "match_nearest", "match_optimal", "matched_cox"]


@dataclass(frozen=True, eq=False)
class MatchedCoxResult(CoxResult):
    """A Cox model on a matched sample (:func:`matched_cox`): every :class:`CoxResult`
    field, ``var`` / ``robust_se`` (and the Wald ``z``, ``p_value``, ``ci`` from them) the
    variance named in ``variance``.

    Attributes
    ----------
    variance : {"set", "set_and_patient"}
        ``"set"``: robust, clustered on the matched set; ``"set_and_patient"``: clustered on
        both the matched set and the patient
        (:func:`estimators.matching_variance.twoway_variance`), when a patient has a row in
        more than one set.
    weighted : bool
        Whether the fit is weighted by the matching weights (sets of unequal size,
        :func:`estimators.matching_variance.matched_set_weights`); ``weights`` holds them.
    """

    variance: str = "set"
    weighted: bool = False


def matched_cox(time, event, match: MatchResult, X=None, *, ties: str = "efron",
                names=None) -> MatchedCoxResult:
    """Cox model of treatment on a matched sample, robust SE clustered on matched set (and
    on patient, with reused controls), weighted where the sets differ in size.

    The matched sample is ``match.rows``: one row per patient per matched set, each set's
    treated patient first. ``treated`` is the first coefficient. What the matched sets
    need is read from ``match``:

    - 1:1 pairs or 1:k sets of one size, no patient in two sets: ``cox_ph(time[rows],
      event[rows], [treated, X[rows]], robust=True, cluster=pair_id)``, the Lin & Wei (1989)
      sandwich summed within matched sets, as R ``coxph(Surv(time, event) ~ treated, data
      = matched, cluster = subclass)`` and as recommended by Austin (2013) for matched
      survival data (``variance = "set"``).
    - Sets of unequal size (1:k matching whose caliper, or exact strata, left some treated
      patients fewer than ``k`` controls): the same fit weighted by the matching weights
      (:func:`estimators.matching_variance.matched_set_weights`: MatchIt's weights;
      ``weighted``), as R ``coxph(..., weights = weights, cluster = subclass)`` on
      ``match.data()``.
    - A patient with a row in more than one set (matching with replacement that reused a
      control): ``var`` is clustered on both the matched set and the patient (its row
      of the unmatched data, ``match.rows``), Austin & Cafri (2020)
      (:func:`estimators.matching_variance.twoway_variance`; ``variance =
      "set_and_patient"``); clustering on the set alone treats a reused control's rows
      as independent and understates the SE. A variance that comes out not positive (a
      difference of variances, in a small sample) gives a NaN SE.

    Parameters
    ----------
    time, event : (n,) array-like on the original (unmatched) rows
    match : MatchResult
    X : (n, q) array-like, optional
        Extra covariates (doubly adjusted analysis), on the original rows.
    ties : {"efron", "breslow"}
    names : the names of ``X``'s columns

    Returns
    -------
    MatchedCoxResult

    References
    ----------
    Austin PC. The use of propensity score methods with survival or time-to-event outcomes:
    reporting measures of effect similar to those used in randomized experiments. Stat Med
    2014;33:1242-1258. Austin PC, Cafri G. Variance estimation when using propensity-score
    matching with replacement with survival or time-to-event outcomes. Stat Med
    2020;39:1623-1640. Greifer N. Estimating effects after matching. MatchIt vignette
    ("Estimating Effects"), CRAN.
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
    weights = matched_set_weights(match.pair_id, z)
    fit = cox_ph(time[match.rows], check_binary(event, "event")[match.rows], design, weights,
                 robust=True, cluster=match.pair_id, ties=ties, names=nm)
    fit = MatchedCoxResult(**{f.name: getattr(fit, f.name) for f in fields(CoxResult)},
                           weighted=weights is not None)
    if np.bincount(match.rows).max() == 1:  # no patient in two sets
        return fit
    return _with_variance(fit, twoway_variance(fit.dfbeta, match.pair_id, match.rows),
                          "set_and_patient")


def _with_variance(fit: MatchedCoxResult, var: np.ndarray, name: str) -> MatchedCoxResult:
    """``fit`` with the robust covariance ``var``: its SEs, Wald z, p-values and limits."""
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.where(var.diagonal() > 0, var.diagonal(), np.nan))
    se[fit.infinite] = np.nan
    zq = z_value(fit.conf_level)
    ci = np.exp(fit.coef[:, None] + np.multiply.outer(se, (-zq, zq)))
    z = fit.coef / se
    return replace(fit, var=var, robust_se=se, z=z, p_value=two_sided_p(z), ci=ci,
                   variance=name)
