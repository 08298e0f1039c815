"""Balancing-weight and covariate-matching adjustments: what a study's analysis could have used.

========== ============================================================= ===================
method     options (defaults)                                            produces
========== ============================================================= ===================
ebal       covariates, estimand ("ATT"|"ATC"|"ATE"), outcome_covariates  weights
cbps       covariates, estimand ("ATE"|"ATT"|"ATC"), outcome_covariates  weights
matching_  covariates, ps_model, fit_on, outcome_covariates              weights (ATM)
weights
mahalan-   covariates, covariate_caliper (none), ratio (1), replace      matched rows,
obis       (false), outcome_covariates                                   weights, pair ids
optimal    covariates, ps_model, fit_on, outcome_covariates              matched rows, ...
========== ============================================================= ===================

Entropy balancing (Hainmueller 2012) and the just-identified CBPS (Imai & Ratkovic 2014)
reweight on the covariate terms directly (:func:`estimators.balancing_weights`); a solver
that does not reach balance is not an estimate (the replicate's value is NaN, with the
reason). Matching weights (Li & Greene 2013) and optimal 1:1 pair matching on the logit PS
(Rosenbaum 1989; it needs at least as many controls as treated) use the analysis' logistic
PS model as ``iptw`` and ``psm`` do (the same cached fit). Mahalanobis matching
(``Matching::Match(Weight = 2)``) pairs on the covariate terms, within ``covariate_caliper``
SDs of every term if given. The estimates (HR, Kaplan-Meier rates, RMST, ...) then run on
the weighted or matched sample exactly as after ``iptw`` or ``psm``.
"""
from __future__ import annotations

import numpy as np

from . import kernels
from .adjustments import (_PS_COMMON, _RUNNERS, ADJUSTMENTS, PS_TERM_METHODS, Adjusted,
                          AdjustmentKind, _complete, _ps)
from .options import REQUIRED, Option, boolean, choice, integer, number, terms

__all__ = ["KINDS", "RUNNERS"]

_OUTCOME = {"outcome_covariates": Option(terms, (), "extra terms in the outcome model")}
_COV = {"covariates": Option(terms, REQUIRED, "balanced / matched covariate terms")}

KINDS: dict[str, AdjustmentKind] = {
    "ebal": AdjustmentKind("ebal", {
        **_COV, **_OUTCOME,
        "estimand": Option(choice("ATT", "ATC", "ATE"), "ATT")},
        weighted=True, needs_two_arms=True, covariate_options=("covariates",),
        doc="entropy balancing of the covariate means"),
    "cbps": AdjustmentKind("cbps", {
        **_COV, **_OUTCOME,
        "estimand": Option(choice("ATE", "ATT", "ATC"), "ATE")},
        weighted=True, needs_two_arms=True, covariate_options=("covariates",),
        doc="covariate balancing propensity score (just-identified)"),
    "matching_weights": AdjustmentKind("matching_weights", dict(_PS_COMMON),
                                       weighted=True, needs_two_arms=True,
                                       covariate_options=("covariates",),
                                       doc="matching weights min(e, 1 - e) / P(Z = z | x)"),
    "mahalanobis": AdjustmentKind("mahalanobis", {
        **_COV, **_OUTCOME,
        "covariate_caliper": Option(number(0, open_lo=True), None,
                                    "SDs of each covariate term (none by default)"),
        "ratio": Option(integer(1), 1),
        "replace": Option(boolean, False)},
        weighted=True, matched=True, needs_two_arms=True, covariate_options=("covariates",),
        doc="nearest-neighbour matching on the Mahalanobis distance"),
    "optimal": AdjustmentKind("optimal", dict(_PS_COMMON), weighted=True, matched=True,
                              needs_two_arms=True, covariate_options=("covariates",),
                              doc="optimal 1:1 pairs on the logit propensity score"),
}


def _covariates(adj, cols, subset):
    """Complete rows, their treatment and the term matrix less columns constant in them."""
    X, ok = _complete(adj.ps_terms.matrix(cols, subset.index), adj.missing)
    rows, X = subset.index[ok], X[ok]
    z = np.asarray(cols["treated"])[rows].astype(np.int8)
    if not z.size or z.min() == z.max():
        raise kernels.FitFailure("one arm is empty")
    return rows, z, X[:, np.ptp(X, axis=0) > 0]


def _run_balancing(adj, cols, subset, rng, cache=None):
    rows, z, X = _covariates(adj, cols, subset)
    return Adjusted(rows, kernels.balancing(X, z, adj.method, adj.options["estimand"]))


def _ps_rows(adj, cols, subset, cache):
    base = (np.arange(len(cols["treated"])) if adj.options["fit_on"] == "cohort"
            else subset.index)
    return _ps(adj, cols, base, cache)


def _keep_population(adj, subset, rows, *arrays):
    if adj.options["fit_on"] != "cohort":
        return (rows, *arrays)
    keep = np.isin(rows, subset.index)
    return (rows[keep], *(a[keep] for a in arrays))


def _run_matching_weights(adj, cols, subset, rng, cache=None):
    rows, z, ps, diagnose = _ps_rows(adj, cols, subset, cache)
    rows, w = _keep_population(adj, subset, rows, kernels.matching_weights(ps, z))
    return Adjusted(rows, w, None, diagnose)


def _run_optimal(adj, cols, subset, rng, cache=None):
    rows, z, ps, diagnose = _ps_rows(adj, cols, subset, cache)
    sel, w, pair = kernels.match_optimal(ps, z)
    rows, w, pair = _keep_population(adj, subset, rows[sel], w, pair)
    return Adjusted(rows, w, pair, diagnose)


def _run_mahalanobis(adj, cols, subset, rng, cache=None):
    rows, z, X = _covariates(adj, cols, subset)
    o = adj.options
    sel, w, pair = kernels.match_mahalanobis(X, z, caliper=o["covariate_caliper"],
                                             ratio=o["ratio"], replace=o["replace"])
    return Adjusted(rows[sel], w, pair)


RUNNERS = {"ebal": _run_balancing, "cbps": _run_balancing,
           "matching_weights": _run_matching_weights, "optimal": _run_optimal,
           "mahalanobis": _run_mahalanobis}


# Registered where every reader of the analysis vocabulary looks (the package imports this
# module), so that plans, readings and the compiler know the five methods.
ADJUSTMENTS.update(KINDS)
_RUNNERS.update(RUNNERS)
PS_TERM_METHODS.update(KINDS)
