"""Matching then a Cox model of treatment on the matched sample, SE clustered on matched set
(and on patient, with replacement: :func:`matched_cox`).

``method = "nearest"``: greedy 1:k nearest-neighbour matching on the logit PS with a caliper
of ``caliper`` pooled SDs (Austin 2011). ``method = "exact"``: exact matching on ``on``
(the "nested" matched designs of seeds 002 and 004: sex and age band, tumour size and
number). ``method = "mahalanobis"``: greedy nearest-neighbour matching on the Mahalanobis
distance of the ``covariates`` (overall covariance, as ``Matching::Match(Weight = 2)``; Rubin
1980), pairs allowed only within ``covariate_caliper`` SDs of every covariate (0: no
caliper). ``method = "optimal"``: optimal 1:1 pairs on ``|logit e_i - logit e_j|``
(Rosenbaum 1989; ``MatchIt``'s ``method = "optimal"``), every treated patient matched; it
needs at least as many controls as treated. Unmatched patients are dropped (counted in
``x_dropped_treated`` / ``x_dropped_control``), which changes the estimand towards the
matched population.
"""
from __future__ import annotations

import numpy as np

from tacebench.estimators.kernels import matched_set_weights as set_weights
from tacebench.estimators.kernels import twoway_se

from . import MethodOutput, check_covariates, check_number, design
from ._common import (ENDPOINTS, balance, covariate_design, cox_of_treatment, outcome,
                      propensity, treatment_cox_fit)

OPTIONS = {
    "method": ("nearest", ("nearest", "exact", "mahalanobis", "optimal")),
    "covariates": ([], check_covariates),      # PS model (nearest, optimal); mahalanobis's X
    "on": ([], check_covariates),              # exact matching variables
    "cut": ({}, dict),                         # exact: {variable: [cutpoints]} to band first
    "caliper": (0.2, check_number),
    "covariate_caliper": (0.0, check_number),  # mahalanobis: SDs of each covariate (0: none)
    "ratio": (1, int),
    "replace": (False, bool),
    "order": ("data", ("data", "largest", "smallest", "random")),
    "adjust": ([], check_covariates),          # covariates added to the matched Cox model
    "endpoint": ("os", ENDPOINTS),
    "ties": ("efron", ("efron", "breslow")),
    "balance": ([], check_covariates),         # covariates whose matched SMD to record
}


#: Options each matching method ignores: set in a study, they are refused.
IGNORED = {"optimal": ("caliper", "covariate_caliper", "order", "on", "cut"),
           "mahalanobis": ("caliper", "order", "on", "cut"),
           "nearest": ("covariate_caliper", "on", "cut"),
           "exact": ("covariates", "caliper", "covariate_caliper", "order")}


def option_problems(options, config) -> list[str]:
    """:func:`benchmarks.methods.method_problems`: what each method matches on, options it
    would ignore (optimal matching makes 1:1 pairs without caliper or replacement;
    Mahalanobis matching's caliper is ``covariate_caliper``), and a ratio below 1."""
    method, out = config["method"], []
    if method == "exact" and not config["on"]:
        out.append("exact matching needs `on` variables")
    if method != "exact" and not config["covariates"]:
        out.append(f"{method} matching needs covariates (a list of column names, or ['*'])")
    ignored = [k for k in IGNORED[method] if k in options]
    if method == "optimal":
        ignored += [k for k in ("ratio", "replace") if k in options
                    and options[k] != OPTIONS[k][0]]
    if method == "exact" and config["replace"]:
        ignored.append("replace")
    if ignored:
        out.append(f"{method} matching ignores {ignored} (its options: "
                   f"{[k for k in OPTIONS if k not in IGNORED[method]]}"
                   + ("; it makes 1:1 pairs without caliper or replacement" if method ==
                      "optimal" else "") + ")")
    if config["ratio"] < 1:
        out.append(f"ratio must be at least 1; got {config['ratio']!r}")
    return out


def population(config) -> str:
    """Controls are matched to treated patients: the ATT (of the matched treated, with a
    caliper; :func:`benchmarks.methods.estimate_population`)."""
    return "ATT"


def match(data, config, rng):
    from tacebench.estimators.matching_result import result_from_sets

    z = np.asarray(data["treated"], dtype=np.int8)
    if config["method"] == "nearest":
        ps, _ = propensity(data, config["covariates"])
        return _match_nearest(ps, z, config, rng if config["order"] == "random" else None)
    if config["method"] in ("mahalanobis", "optimal"):
        return _match_on_covariates(data, config, z)
    from tacebench.estimators.kernels import exact_match_sets

    cols = []
    for name in config["on"]:
        x = np.asarray(data[name])
        if name in config["cut"]:
            x = np.searchsorted(np.asarray(config["cut"][name], dtype=float), x, side="right")
        cols.append(np.unique(x, return_inverse=True)[1])
    codes = np.unique(np.column_stack(cols), axis=0, return_inverse=True)[1].ravel()
    mm = exact_match_sets(codes, z, config["ratio"], rng)
    return result_from_sets(mm, np.flatnonzero(z == 1), z, caliper=None, distance=None,
                             method="exact")


# The matchers' public functions validate their input; what this module passes them is
# built here (a fitted PS strictly inside (0, 1), a finite design, a 0/1 int8 treatment), so
# where the options and both arms are valid the kernels run directly (the Monte Carlo hot
# path) and a kernel's non-OK status raises the public function's error. Anything else goes
# through the public function, which raises its own error on it.

def _both_arms(z) -> bool:
    n1 = int(np.count_nonzero(z))
    return 0 < n1 < z.size


def _inside(ps) -> bool:
    return bool(((ps > 0.0) & (ps < 1.0)).all())  # (False for NaN)


def _match_nearest(ps, z, config, rng):
    from tacebench.estimators.matching_nearest import match_nearest, match_nearest_kernel

    caliper, ratio = config["caliper"], config["ratio"]
    if not (np.isfinite(caliper) and caliper > 0 and ratio >= 1 and _both_arms(z)
            and _inside(ps)):
        return match_nearest(ps, z, caliper=caliper, ratio=ratio, replace=config["replace"],
                             order=config["order"], rng=rng)
    m = match_nearest_kernel(ps, z, caliper, "logit_sd", "pooled", ratio, config["replace"],
                             config["order"], rng)
    if not m.status.ok:
        raise ValueError(m.message)
    return m


def _match_on_covariates(data, config, z):
    if config["method"] == "optimal":
        from tacebench.estimators.matching_optimal import match_optimal, match_optimal_kernel

        ps, _ = propensity(data, config["covariates"])
        if _both_arms(z) and 2 * np.count_nonzero(z) <= z.size and _inside(ps):
            return match_optimal_kernel(ps, z, "logit")
        return match_optimal(ps, z, distance="logit")
    from tacebench.estimators.matching_mahalanobis import (match_mahalanobis,
                                                           match_mahalanobis_kernel)

    X = covariate_design(data, config["covariates"])
    caliper = config["covariate_caliper"] or None
    ratio = config["ratio"]
    valid = caliper is None or (np.isfinite(caliper) and caliper > 0)
    if not (valid and ratio >= 1 and X.shape[1] and _both_arms(z) and np.isfinite(X).all()):
        return match_mahalanobis(X, z, caliper=caliper, ratio=ratio, replace=config["replace"])
    m = match_mahalanobis_kernel(X, z, caliper, "overall", ratio, config["replace"])
    if not m.status.ok:
        raise ValueError(m.message)
    return m


def fit(data, config, rng):
    if config["method"] != "exact" and not config["covariates"]:
        raise ValueError(f"{config['method']} matching needs covariates")
    if config["method"] == "exact" and not config["on"]:
        raise ValueError("exact matching needs `on` variables")
    m = match(data, config, rng)
    if m.rows.size == 0:
        raise ValueError("no matched sets")
    time, event = outcome(data, config["endpoint"])
    X = design(data, config["adjust"])[m.rows] if config["adjust"] else None
    extra = {"dropped_treated": float(m.n_dropped["treated"]),
             "dropped_control": float(m.n_dropped["control"]), "matched_sets": float(m.n_sets)}
    if config["balance"]:
        extra.update(balance(data, config["balance"], m.weights))
    return matched_cox(time, event, m, X, config["ties"], extra, replace=config["replace"])


fit.uses_rng = True


def matched_cox(time, event, m, X=None, ties="efron", extra=None, *,
                replace=False) -> MethodOutput:
    """Cox model of treatment on the matched sample of ``m`` (``time`` and ``event`` of
    the whole cohort; ``X``, if any, already the matched rows'), one row per patient per
    matched set, with the weights and variance of :func:`estimators.matching.matched_cox`
    on the Monte Carlo path: sets of unequal size weighted by the matching weights
    (:func:`set_weights`); the SE clustered on the matched set, with ``replace`` on both
    the matched set and the patient (:func:`twoway_se`). The two-way SE follows the
    ``replace`` option (the study's design), where the public function follows whether a
    control was reused: in a cohort where none was, the two differ by the factor
    ``ks/(ks-1)`` of the set variance. 1:1 pairs without replacement by
    :func:`_cox_on_pairs`."""
    z = _first_of_each_set(m.pair_id).astype(np.float64)  # each set lists its treated first
    if replace:
        return _cox_twoway(time[m.rows], event[m.rows], z, X, set_weights(m.pair_id, z),
                           m.pair_id, m.rows, ties, dict(extra or {}))
    if m.rows.size == 2 * m.n_sets:  # 1:1 pairs: rows 2j and 2j + 1 are set j
        return _cox_on_pairs(time[m.rows], event[m.rows], z, X, ties, dict(extra or {}))
    return cox_of_treatment(time[m.rows], event[m.rows], z, X, set_weights(m.pair_id, z),
                            cluster=m.pair_id, ties=ties, extra=extra)


def _cox_twoway(time, event, z, X, weights, pair_id, unit, ties, extra) -> MethodOutput:
    """:func:`cox_of_treatment` with the SE of :func:`twoway_se` (set and patient)."""
    fit = treatment_cox_fit(time, event, z, X, weights, ties=ties)
    # (fit.var: the model-based variance; the weights are positive, so no row was dropped)
    se = twoway_se(fit.weights[:, None] * fit.score_residuals, fit.var, pair_id, unit)
    return MethodOutput(float(fit.coef[0]), float(np.nan if fit.infinite[0] else se),
                        converged=bool(fit.estimable), extra=extra)


def _cox_on_pairs(time, event, z, X, ties, extra) -> MethodOutput:
    """:func:`cox_of_treatment` clustered on 1:1 matched pairs (rows ``2j``, ``2j + 1``:
    pair ``j``), the same numbers: without adjustment covariates, the pairs kernel
    (``estimators.kernels.cox_of_pairs_kernel``); with them, the Cox kernel's fit without
    clusters and its robust variance ``D'D``, ``D`` the pairs' sums of ``w_i L_i`` times
    the model-based variance, each pair's sum its two rows' sum (what the kernel's sorted
    segment sums add, for sorted ids) instead of sorting the ids. An infinite coefficient
    (monotone likelihood) has a NaN SE, as the kernel gives it; no events raise
    :func:`treatment_cox_fit`'s error."""
    from tacebench.estimators.kernels import Estimability, cox_of_pairs_kernel, pairs_robust_se

    if X is None and event.any():
        fit = cox_of_pairs_kernel(time, event.astype(np.float64), z, ties)
        return MethodOutput(fit.coef, fit.se, converged=fit.status is Estimability.OK,
                            extra=extra)
    fit = treatment_cox_fit(time, event, z, X, ties=ties)
    # (fit.var: the model-based variance, not robust)
    se = pairs_robust_se(fit.weights[:, None] * fit.score_residuals, fit.var)
    return MethodOutput(float(fit.coef[0]), float(np.nan if fit.infinite[0] else se),
                        converged=bool(fit.estimable), extra=extra)


def _first_of_each_set(pair_id: np.ndarray) -> np.ndarray:
    """Whether each row starts its matched set (``pair_id`` is grouped by set)."""
    first = np.empty(pair_id.size, dtype=bool)
    first[:1] = True
    np.not_equal(pair_id[1:], pair_id[:-1], out=first[1:])
    return first
