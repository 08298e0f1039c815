"""Adjustments: how an analysis handles confounding, each a small function behind a table.

========== ============================================================= ===================
method     options (defaults)                                            produces
========== ============================================================= ===================
none       --                                                            the population
multivar.  covariates, treatment (true), selection ("none"|"screen"|     outcome-model terms
           "forward"),
           screen_p (0.05), enter_p (0.05)
iptw       covariates, estimand ("ATE"), stabilized (false), truncate,   weights
           outcome_covariates ([]), fit_on ("population"|"cohort"),
           ps_model ("glm"|"firth")
psm        covariates, caliper (0.2), caliper_scale ("logit_sd"),        matched rows,
           ratio (1), replace (false), order ("data"), focal,            weights, pair ids
           ps_model ("glm"|"firth"), ...
exact      on, ratio (1), focal, outcome_covariates ([])                 matched rows, ...
ebal, cbps, matching_weights, mahalanobis, optimal: see :mod:`.balancing`
========== ============================================================= ===================

The propensity score is a main-effects logistic regression on the listed terms (what the
methods sections describe), fitted as R's ``glm(family = binomial)`` with its defaults
(``ps_model = "glm"``) or by Firth's penalized likelihood (``"firth"``, R's ``logistf``);
see :data:`estimators.kernels.PS_MODELS`. As in R, a separated or non-converged model is
not a failure: the analysis uses its fitted probabilities (under separation they converge
while the coefficients diverge) and the replicate carries a :class:`~kernels.Note`
(counted in the report), with the covariate levels present in one arm only. Rows missing a
PS covariate are dropped (``missing = "complete_case"``) or mean-imputed (``missing =
"mean"``). ``fit_on = "cohort"`` weights
or matches the whole cohort and then applies the population filter to the result (the
weights of an imaging cohort come from the whole-cohort model; a subgroup of a matched
cohort keeps its matched patients), ``"population"`` fits within the population.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace as _replace
from typing import Any, Callable, Mapping

import numpy as np

from tacebench.estimators.kernels import PS_MODELS
from tacebench.records import ArrayRecord
from tacebench.estimators.weights import ESTIMANDS

from . import kernels
from .options import (REQUIRED, Option, OptionError, boolean, choice, integer, label,
                      number, percentiles, terms)
from .owned import owned
from .terms import BoundTerms, bind_terms

__all__ = ["ADJUSTMENTS", "AdjustmentKind", "Adjusted", "compile_adjustment"]


@dataclass(frozen=True)
class AdjustmentKind:
    name: str
    options: Mapping[str, Option]
    weighted: bool = False          # produces weights other than 1
    matched: bool = False           # produces a matched sample
    needs_two_arms: bool = False
    covariate_options: tuple[str, ...] = ()   # options that list covariate terms
    doc: str = ""
    estimates: tuple[str, ...] | None = None  # the estimates it serves (None: every one)
    combination: Callable | None = None       # cross-option rules: opts -> [(key, message)]


_PS_COMMON = {
    "covariates": Option(terms, REQUIRED, "propensity-score model terms"),
    "outcome_covariates": Option(terms, (), "extra terms in the outcome model"),
    "fit_on": Option(choice("population", "cohort"), "population"),
    "ps_model": Option(choice(*PS_MODELS), "glm",
                       "glm: R's glm(family = binomial); firth: Firth penalized (logistf)"),
}

ADJUSTMENTS: dict[str, AdjustmentKind] = {
    "none": AdjustmentKind("none", {}, doc="unadjusted"),
    "multivariable": AdjustmentKind("multivariable", {
        "covariates": Option(terms, REQUIRED, "outcome-model terms"),
        "treatment": Option(boolean, True, "include the treatment term (comparative studies)"),
        "selection": Option(choice("none", "screen", "forward"), "none",
                            "screen: univariable screen, then all screened terms; "
                            "forward: univariable screen, then forward entry"),
        "screen_p": Option(number(0, 1, open_lo=True), 0.05),
        "enter_p": Option(number(0, 1, open_lo=True), 0.05),
    }, covariate_options=("covariates",), doc="covariates in the outcome model"),
    "iptw": AdjustmentKind("iptw", {
        **_PS_COMMON,
        "estimand": Option(choice(*ESTIMANDS), "ATE"),
        "stabilized": Option(boolean, False),
        "truncate": Option(percentiles, None, "[lo, hi] percentiles of the weights"),
    }, weighted=True, needs_two_arms=True, covariate_options=("covariates",),
        doc="inverse probability of treatment weights"),
    "psm": AdjustmentKind("psm", {
        **_PS_COMMON,
        "caliper": Option(number(0, open_lo=True), 0.2, "in units of caliper_scale"),
        "caliper_scale": Option(choice("logit_sd", "ps_sd", "raw"), "logit_sd",
                                "logit_sd (Austin 2011), ps_sd (MatchIt default), raw"),
        "caliper_sd": Option(choice("pooled", "overall"), "pooled",
                             "pooled within-arm SD (Austin) or overall SD (MatchIt)"),
        "ratio": Option(integer(1), 1),
        "replace": Option(boolean, False),
        "order": Option(choice("data", "random", "largest", "smallest"), "data"),
        "focal": Option(label, None, "arm whose patients are matched (default: treated)"),
    }, weighted=True, matched=True, needs_two_arms=True, covariate_options=("covariates",),
        doc="nearest-neighbour propensity-score matching"),
    "exact": AdjustmentKind("exact", {
        "on": Option(terms, REQUIRED, "terms matched exactly"),
        "ratio": Option(integer(1), 1),
        "focal": Option(label, None),
        "outcome_covariates": Option(terms, ()),
    }, weighted=True, matched=True, needs_two_arms=True, covariate_options=("on",),
        doc="exact matching on categories"),
}


def check_combination(method: str, opts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Cross-option rules (key, message); the estimand table comes from estimators.weights."""
    kind = ADJUSTMENTS[method]
    out = list(kind.combination(opts)) if kind.combination is not None else []
    if method == "iptw":
        cap = ESTIMANDS[opts["estimand"]]
        if opts["stabilized"] and not cap.stabilize:
            out.append(("stabilized", f"stabilized weights are defined only for "
                        f"{[k for k, c in ESTIMANDS.items() if c.stabilize]}"))
        if opts["truncate"] is not None and not cap.truncate:
            out.append(("truncate", f"estimand {opts['estimand']} weights are bounded; "
                        "truncation does not apply"))
    return out


@dataclass(eq=False)
class Adjusted(ArrayRecord):
    """What an adjustment hands to the estimates for one replicate."""

    rows: np.ndarray                         # cohort rows analysed (may repeat if replace)
    weights: np.ndarray | None = None
    cluster: np.ndarray | None = None
    # the adjustment's diagnostics (kernels.Note, no value NaN), computed on demand: the
    # exact separation check is a linear program, and leave-one-out reruns never ask
    diagnose: Callable[[], tuple] | None = None

    @property
    def notes(self) -> tuple:
        return self.diagnose() if self.diagnose is not None else ()


@dataclass(frozen=True)
class CompiledAdjustment:
    method: str
    options: Mapping[str, Any]
    ps_terms: BoundTerms | None = None       # iptw / psm
    on_terms: BoundTerms | None = None       # exact
    outcome_terms: BoundTerms | None = None  # multivariable covariates or outcome_covariates
    include_treatment: bool = True
    missing: str = "complete_case"
    focal_is_treated: bool = True
    run: Callable = field(default=None, repr=False)

    @property
    def loco_terms(self) -> tuple[str, ...]:
        """Terms a leave-one-covariate-out decomposition drops one at a time."""
        src = self.ps_terms or self.on_terms or self.outcome_terms
        return src.texts if src is not None else ()

    def without(self, term_text: str) -> "CompiledAdjustment":
        """The same adjustment with one covariate left out (for the decomposition)."""
        if self.ps_terms is not None:
            return _replace(self, ps_terms=self.ps_terms.without(term_text))
        if self.on_terms is not None:
            return _replace(self, on_terms=self.on_terms.without(term_text))
        return _replace(self, outcome_terms=self.outcome_terms.without(term_text))


def _complete(X: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows usable for a model (mask) and X with mean imputation if asked."""
    bad = np.isnan(X)
    if not bad.any():
        return X, np.ones(len(X), dtype=bool)
    if how == "mean":
        X = X.copy()
        means = np.nanmean(np.where(bad, np.nan, X), axis=0)
        X[bad] = np.take(means, np.nonzero(bad)[1])
        return X, np.ones(len(X), dtype=bool)
    return X, ~bad.any(axis=1)


def _ps(adj: CompiledAdjustment, cols, rows, cache=None):
    """``(rows, z, ps, diagnose)`` of the propensity model on ``rows`` (``diagnose()``
    gives its notes); cached per replicate, since several analyses of a plan (and their
    leave-one-out variants) share the same model on the same rows. A fit that is not estimable is cached as its
    :class:`~kernels.FitFailure` and raised again."""
    key = None
    if cache is not None:
        key = ps_cache_key(adj, rows)
        if key in cache:
            out = cache[key]
            if isinstance(out, kernels.FitFailure):
                raise out
            return out
    try:
        out = _fit_ps(adj, cols, rows)
    except kernels.FitFailure as exc:
        if key is not None:
            cache[key] = exc
        raise
    if key is not None:
        cache[key] = out
    return out


def ps_cache_key(adj: CompiledAdjustment, rows: np.ndarray) -> tuple:
    """The key of a propensity fit in a replicate's cache: the model's terms, missing-data
    rule and kind, and the rows it is fitted on (before complete-case removal)."""
    return ("ps", adj.ps_terms.texts, adj.missing,
            adj.options.get("ps_model", "glm"), rows.tobytes())


def ps_inputs(adj: CompiledAdjustment, cols, rows, design: np.ndarray | None = None):
    """``(rows, X, z)`` of the propensity model on ``rows``: complete cases (or mean
    imputed), design without its intercept, treatment. Not estimable (``FitFailure``)
    when an arm is empty, as R's glm has nothing to contrast then. ``design``: the
    model's terms' matrix on ``rows`` when the caller has built it already."""
    X, ok = _complete(adj.ps_terms.matrix(cols, rows) if design is None else design,
                      adj.missing)
    rows, X = rows[ok], X[ok]
    z = np.asarray(cols["treated"])[rows].astype(float)
    if not z.size or z.min() == z.max():
        raise kernels.FitFailure("one arm is empty")
    return rows, X, z


def ps_result(adj: CompiledAdjustment, rows, X, z, fit) -> tuple:
    """What :func:`_ps` caches for a fitted model ``fit`` (a ``BinomialFit`` of
    ``ps_inputs``): ``(rows, z, ps, diagnose)``."""
    names = adj.ps_terms.names
    pf = kernels.PropensityFit(fit.fitted, fit, adj.options.get("ps_model", "glm"),
                               tuple(names), explain=lambda: _one_arm_levels(X, z, names))
    return rows, z, pf.ps, lambda: pf.notes


def _fit_ps(adj: CompiledAdjustment, cols, rows):
    """Fit the propensity model as R would (``ps_model``). Not estimable
    (``FitFailure``) only when an arm is empty; separation, non-convergence and fitted
    values at the bounds are notes, and the fitted probabilities are used (R's glm warns
    and returns them). A separation note lists the covariate levels seen in one arm only:
    a positivity violation the reader should know about, which the published analysis
    had too when its Table 1 shows an empty cell."""
    rows, X, z = ps_inputs(adj, cols, rows)
    fit = kernels.propensity(X, z, adj.options.get("ps_model", "glm"), adj.ps_terms.names)
    return ps_result(adj, rows, X, z, fit.fit)


def _one_arm_levels(X: np.ndarray, z: np.ndarray, names) -> tuple[str, ...]:
    """Columns constant within one arm but not the other: a covariate value no patient of
    that arm has, which (quasi-)completely separates a propensity model by itself."""
    out = []
    for j, name in enumerate(names):
        for arm, label in ((0.0, "control"), (1.0, "treated")):
            mine, other = X[z == arm, j], X[z != arm, j]
            if mine.size and np.all(mine == mine[0]) and np.any(other != mine[0]):
                value = 1.0 - mine[0] if np.isin(X[:, j], (0.0, 1.0)).all() else None
                out.append(f"no {label} patient with {name} = {value:g}" if value is not None
                           else f"{name} constant among {label} patients")
    return tuple(out)


def _run_none(adj, cols, subset, rng, cache=None):
    return Adjusted(subset.index)


def _run_iptw(adj, cols, subset, rng, cache=None):
    o = adj.options
    base = np.arange(len(cols["treated"])) if o["fit_on"] == "cohort" else subset.index
    rows, z, ps, diagnose = _ps(adj, cols, base, cache)
    wkey = ("w", id(ps), o["estimand"], o["stabilized"], o["truncate"])
    if cache is not None and wkey in cache:
        w = cache[wkey]
    else:
        w = kernels.iptw(ps, z, o["estimand"], o["stabilized"], o["truncate"])
        if cache is not None:
            cache[wkey] = w
    if o["fit_on"] == "cohort":
        keep = _in_population(rows, subset, cache)
        rows, w = rows[keep], w[keep]
    return Adjusted(rows, w, None, diagnose)


def _run_psm(adj, cols, subset, rng, cache=None):
    o = adj.options
    base = np.arange(len(cols["treated"])) if o["fit_on"] == "cohort" else subset.index
    rows, z, ps, diagnose = _ps(adj, cols, base, cache)
    # one matched sample per replicate for every analysis that matches the same way
    mkey = ("match", id(ps), adj.focal_is_treated, *(o[k] for k in (
        "caliper", "caliper_scale", "caliper_sd", "ratio", "replace", "order")))
    if cache is not None and mkey in cache:
        sel, w, pair = cache[mkey]
    else:
        zf = z if adj.focal_is_treated else 1.0 - z
        psf = ps if adj.focal_is_treated else 1.0 - ps
        sel, w, pair = kernels.match_nearest(
            psf, zf, caliper=o["caliper"], caliper_scale=o["caliper_scale"],
            caliper_sd=o["caliper_sd"], ratio=o["ratio"],
            replace=o["replace"], order=o["order"], rng=rng)
        if cache is not None:
            cache[mkey] = (sel, w, pair)
    rows = rows[sel]
    if o["fit_on"] == "cohort":     # the matched cohort, then the population within it
        keep = _in_population(rows, subset, cache)
        rows, w, pair = rows[keep], w[keep], pair[keep]
    return Adjusted(rows, w, pair, diagnose)


def _in_population(rows: np.ndarray, subset, cache=None) -> np.ndarray:
    """``np.isin(rows, subset.index)``, kept in the replicate's ``cache`` for the same
    rows and population (the leave-one-covariate-out reruns of a weighting fitted on the
    cohort weight the same rows). The entry holds ``subset``, whose id its key names."""
    if cache is None:
        return np.isin(rows, subset.index)
    key = ("in-population", id(subset), rows.dtype.str, rows.tobytes())
    return owned(cache, key, subset, lambda: np.isin(rows, subset.index))


def _run_exact(adj, cols, subset, rng, cache=None):
    keys, ok = _complete(adj.on_terms.matrix(cols, subset.index), "complete_case")
    rows = subset.index[ok]
    z = np.asarray(cols["treated"])[rows].astype(float)
    zf = z if adj.focal_is_treated else 1.0 - z
    sel, w, pair = kernels.match_exact(keys[ok], zf, ratio=adj.options["ratio"], rng=rng)
    return Adjusted(rows[sel], w, pair)


_RUNNERS = {"none": _run_none, "multivariable": _run_none, "iptw": _run_iptw,
            "psm": _run_psm, "exact": _run_exact}
#: Adjustments whose ``covariates`` are terms of a treatment (PS or balancing) model.
PS_TERM_METHODS = {"iptw", "psm"}
#: Adjustments whose ``covariates`` are terms of the outcome model.
OUTCOME_TERM_METHODS = {"multivariable"}


def compile_adjustment(method: str, options: Mapping[str, Any], schema, levels=None,
                       missing: str = "complete_case") -> CompiledAdjustment:
    """Bind the adjustment's terms to the cohort; raises ``TermError`` on a bad term."""
    o = dict(options)
    bind = lambda key: bind_terms(o.get(key) or (), schema, levels)  # noqa: E731
    ps_terms = (bind("covariates") if method in PS_TERM_METHODS else
                bind("treatment_covariates") if o.get("treatment_covariates") else None)
    on_terms = bind("on") if method == "exact" else None
    if method in OUTCOME_TERM_METHODS:
        outcome = bind("covariates")
    elif method in PS_TERM_METHODS or method == "exact":
        outcome = bind("outcome_covariates") if o.get("outcome_covariates") else None
    else:
        outcome = None
    focal = o.get("focal")
    return CompiledAdjustment(
        method, o, ps_terms, on_terms, outcome,
        include_treatment=schema.comparative and o.get("treatment", True),
        missing=missing, focal_is_treated=focal is None or focal == schema.treated_arm,
        run=_RUNNERS[method])


def run_adjustment(adj: CompiledAdjustment, cols, subset, rng, cache=None) -> Adjusted:
    """Run the adjustment; ``cache`` (a dict, one per replicate) shares propensity fits."""
    return adj.run(adj, cols, subset, rng, cache)


__all__ += ["check_combination", "CompiledAdjustment", "run_adjustment", "OptionError"]
# Balancing weights and covariate matching (:mod:`.balancing`) add themselves to
# ADJUSTMENTS, _RUNNERS and PS_TERM_METHODS when the package is imported.
