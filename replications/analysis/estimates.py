"""Estimates: what an analysis reports, each a small function behind a capability table.

Every estimate reads the analysed rows, weights and landmark from a :class:`Context`, so the
same function serves unadjusted, weighted and matched analyses: ``km_median`` of an IPTW
analysis is the weighted Kaplan-Meier median, ``hr`` of a PSM analysis is the Cox HR in the
matched sample. The table says which target quantity each estimate serves, which target
fields it needs, which endpoints and adjustments it accepts and on which scale verdicts
judge it (log for ratios).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from tacebench.estimators.paired_tests import paired_test_kernel, pairs_from_sets_kernel

from . import kernels
from .adjustments import _complete
from .arm_shares import covariate_median, mean, proportion, response_rate
from .context import Context
from .models import cox_model, forward_cox, univariable_cox_many

__all__ = ["ESTIMATES", "EstimateKind", "Request", "Context", "estimate_for"]


@dataclass(frozen=True)
class EstimateKind:
    name: str
    fn: Callable
    quantities: tuple[str, ...]
    endpoint: str | None          # "survival" | "response" | None (no endpoint needed)
    requires: tuple[str, ...]     # target fields: arm, time, contrast, term, contrast|term
    scale: str = "identity"       # identity | log | inverse
    comparative: bool = False
    adjustments: tuple[str, ...] | None = None    # None: every adjustment
    doc: str = ""


@dataclass(frozen=True)
class Request:
    """One target bound to an analysis: what to compute on every replicate."""

    target_id: str
    estimate: str
    quantity: str = ""
    endpoint: str | None = None
    arm: int | None = None          # arm code
    sign: float = 1.0               # +1 if the contrast's first arm is the treated arm
    time: float | None = None
    term: str | None = None         # design-column name of a covariate HR / SMD
    term_model: object = None       # BoundTerms of a univariable model / SMD column
    test: str | None = None         # the target's `test` as the paper names it


# --- the estimates -------------------------------------------------------------------

def km_median(ctx: Context, req: Request) -> float:
    return _median(ctx, req.endpoint, req.arm)


def _median(ctx: Context, endpoint: str, arm: int) -> float:
    found = ctx.cache.get(("km-median", endpoint, arm))   # (.km_prefit)
    return ctx.km(endpoint, arm).median() if found is None else found


def median_difference(ctx: Context, req: Request) -> float:
    """The first arm's Kaplan-Meier median minus the second's (months): the very medians
    ``km_median`` gives the arms, so a printed "extends the median by 7 months" is judged
    on the same curves as the two medians. An arm whose median is not reached gives
    +-inf (the other arm's median not reached either: no value)."""
    treated = _median(ctx, req.endpoint, _code(ctx, 1))
    control = _median(ctx, req.endpoint, _code(ctx, 0))
    if np.isinf(treated) and np.isinf(control):
        return np.nan
    return req.sign * (treated - control)


def km_rate(ctx: Context, req: Request) -> float:
    return ctx.km(req.endpoint, req.arm).at(req.time)


def rmst(ctx: Context, req: Request) -> float:
    return ctx.km(req.endpoint, req.arm).rmst(req.time)


def _survival_difference(ctx: Context, req: Request) -> float:
    treated = ctx.km(req.endpoint, _code(ctx, 1)).at(req.time)
    control = ctx.km(req.endpoint, _code(ctx, 0)).at(req.time)
    return req.sign * (treated - control)


def _code(ctx: Context, z: int) -> int:
    hits = ctx.arm[ctx.z == z]
    if not hits.size:
        raise kernels.FitFailure("empty arm")
    return int(hits[0])


def arr(ctx: Context, req: Request) -> float:
    """Absolute risk reduction at ``time``: S_first(t) - S_second(t) of the contrast."""
    return _survival_difference(ctx, req)


def nnt(ctx: Context, req: Request) -> float:
    """Number needed to treat, 1 / ARR (Altman 1998); judged on the 1/NNT scale."""
    d = _survival_difference(ctx, req)
    return np.inf if d == 0 else 1.0 / d


def hr(ctx: Context, req: Request) -> float:
    if req.term_model is not None:          # univariable HR of a covariate
        key = ("cox-uni", req.endpoint, req.term)
        if ("cox-uni",) not in ctx.cache:  # the sample's one-column 0/1 terms, together
            ctx.cache[("cox-uni",)] = True
            ctx.cache.update(univariable_cox_many(ctx, ctx.requests))
        if key not in ctx.cache:
            ctx.cache[key] = cox_model(ctx, req.endpoint, req.term_model, False)
        names, coef = ctx.cache[key]
    else:
        key = ("cox", req.endpoint)
        if key not in ctx.cache:
            a = ctx.adj
            if a.method == "multivariable" and a.options.get("selection") in ("forward",
                                                                               "screen"):
                ctx.cache[key] = forward_cox(ctx, req.endpoint, a.outcome_terms,
                                             a.include_treatment, a.options["screen_p"],
                                             a.options["enter_p"],
                                             a.options["selection"] == "forward")
            else:
                ctx.cache[key] = cox_model(ctx, req.endpoint, a.outcome_terms,
                                           a.include_treatment)
        names, coef = ctx.cache[key]
    j = names.index(req.term or "treated")
    return float(np.exp(req.sign * coef[j]))


def _response_design(ctx: Context, endpoint: str):
    """``(X, y, m)`` of the response model: the design (treatment, outcome terms) and
    responses of the rows ``m`` it is fitted on; y None when it has no variation."""
    y, assessed = ctx.response(endpoint)
    X = ctx.z[:, None]
    if ctx.adj.outcome_terms is not None:
        X = np.column_stack([X, ctx.adj.outcome_terms.matrix(ctx.cols, ctx.rows)])
    X, ok = _complete(X, ctx.adj.missing)
    m = assessed & ok
    ym = y[m]
    return X[m], (None if ym.min() == ym.max() else ym), m


def odds_ratio(ctx: Context, req: Request) -> float:
    terms = ctx.adj.outcome_terms
    X, y, m = ctx.shared(("logit", ctx.response_key(req.endpoint), id(terms), ctx.adj.missing),
                         terms, lambda: _response_design(ctx, req.endpoint))
    if y is None:
        raise kernels.FitFailure("no variation in response")
    key = ("logit", req.endpoint)     # one fit per endpoint (an OR may be asked both ways)
    if key not in ctx.cache:
        ctx.cache[key] = kernels.logistic(X, y, ctx.weights(m))
    coef, _, problem = ctx.cache[key]
    if problem is not None:     # e.g. no responder in one arm: the OR is 0 or infinite
        raise kernels.FitFailure(f"response model {problem}")
    return float(np.exp(req.sign * coef[1]))


def group_size(ctx: Context, req: Request) -> float:
    """Patients in one arm of the analysed sample, or in the whole sample."""
    return float(ctx.arm.size if req.arm is None else np.count_nonzero(ctx.arm == req.arm))


def weighted_group_size(ctx: Context, req: Request) -> float:
    return float(ctx.weights(ctx.arm == req.arm).sum())


def events(ctx: Context, req: Request) -> float:
    """Number (``count``) or proportion (``rate``) of events, in one arm or overall."""
    t, d, keep = ctx.survival(req.endpoint)
    m = keep if req.arm is None else keep & (ctx.arm == req.arm)
    n_events = float(d[m].sum())
    return n_events if req.quantity == "count" else n_events / max(m.sum(), 1)


def followup(ctx: Context, req: Request) -> float:
    """Person-time (sum of follow-up) or median follow-up by reverse Kaplan-Meier
    (Schemper & Smith 1996), in one arm or overall."""
    t, d, keep = ctx.survival(req.endpoint)
    m = keep if req.arm is None else keep & (ctx.arm == req.arm)
    if req.quantity == "person_time":
        return float(t[m].sum())
    return kernels.km(t[m], 1.0 - d[m], None).median()


def paired_test(ctx: Context, req: Request) -> float:
    """Two-sided p of a paired test of ``term`` between the members of the 1:1 matched
    pairs (R's ``mcnemar.test`` for a 0/1 term; for another term ``wilcox.test(paired =
    TRUE)`` when the target's ``test`` names a Wilcoxon / signed-rank test, else
    ``t.test(paired = TRUE)``), :mod:`estimators.paired_tests`."""
    if ctx.pairs is None:
        raise kernels.FitFailure("no matched pairs")
    x = req.term_model.matrix(ctx.cols, ctx.rows)[:, 0]
    first, second = pairs_from_sets_kernel(ctx.pairs, ctx.z)
    if not len(first):
        raise kernels.FitFailure("no 1:1 matched pair")
    a, b = x[first], x[second]
    named = (req.test or "").lower()
    test = ("mcnemar" if set(np.unique(x[~np.isnan(x)])) <= {0.0, 1.0} else
            "wilcoxon" if "wilcoxon" in named or "signed" in named else "t")
    res = paired_test_kernel(a, b, test)
    if np.isnan(res.p_value):
        raise kernels.FitFailure(f"{res.method} undefined (no discordant pair or constant differences)")
    return res.p_value


def balance(ctx: Context, req: Request) -> float:
    """Absolute standardized mean difference (Austin 2009, pooled SD of the unadjusted
    sample unless the analysis sets ``smd_sd = "weighted"``); a categorical term gives the
    multi-level SMD of Yang & Dalton (2012), as tableone prints.

    The one-column terms without missing values of all the sample's balance requests
    (a Table 1 has dozens) are computed together, by one kernel call, on the first."""
    if ("balance",) not in ctx.cache:
        ctx.cache[("balance",)] = True
        ctx.cache.update(_balances(ctx))
    key = ("balance", id(req.term_model))
    if key in ctx.cache:
        return ctx.cache[key]
    X = req.term_model.matrix(ctx.cols, ctx.rows)
    ok = ~np.isnan(X).any(axis=1)
    weighted_sd = ctx.smd_sd == "weighted"
    if X.shape[1] == 1:
        return abs(kernels.smd(X[ok, 0], ctx.z[ok], ctx.weights(ok), weighted_sd))
    codes = (X[ok] * np.arange(1, X.shape[1] + 1)).sum(axis=1)   # 0 = reference level
    return abs(kernels.smd(codes, ctx.z[ok], ctx.weights(ok), weighted_sd,
                           levels=np.arange(X.shape[1] + 1.0)))


def _balances(ctx: Context) -> dict:
    """``balance`` of every one-column, complete term the sample's requests ask about."""
    terms = {id(r.term_model): r.term_model for r in ctx.requests
             if r.estimate == "balance" and r.term_model is not None}
    keys, cols = [], []
    for k, tm in terms.items():
        try:
            x = tm.matrix(ctx.cols, ctx.rows)
        except ValueError:      # left to its own request, which reports it
            continue
        if x.shape[1] == 1 and not np.isnan(x).any():
            keys.append(("balance", k))
            cols.append(x[:, 0])
    if not cols:
        return {}
    d = kernels.smd_columns(np.column_stack(cols), ctx.z, ctx.w, ctx.smd_sd == "weighted")
    return {k: float(v) for k, v in zip(keys, np.abs(d))}


ESTIMATES: dict[str, EstimateKind] = {e.name: e for e in (
    EstimateKind("km_median", km_median, ("km_median",), "survival", ("arm",),
                 doc="Kaplan-Meier median (weighted when the analysis is)"),
    EstimateKind("median_difference", median_difference, ("median_difference",), "survival",
                 ("contrast",), comparative=True,
                 doc="difference of the two arms' Kaplan-Meier medians (weighted when the "
                     "analysis is)"),
    EstimateKind("km_rate", km_rate, ("km_rate",), "survival", ("arm", "time"),
                 doc="Kaplan-Meier survival at `time` months"),
    EstimateKind("rmst", rmst, ("rmst",), "survival", ("arm", "time"),
                 doc="restricted mean survival time up to `time`"),
    EstimateKind("hr", hr, ("hr",), "survival", ("contrast|term",), "log",
                 doc="Cox hazard ratio of the treatment contrast or of a covariate term"),
    EstimateKind("arr", arr, ("arr",), "survival", ("contrast", "time"), comparative=True,
                 doc="absolute risk reduction at `time` from the two KM curves"),
    EstimateKind("nnt", nnt, ("nnt",), "survival", ("contrast", "time"), "inverse",
                 comparative=True, doc="number needed to treat, 1/ARR"),
    EstimateKind("events", events, ("count", "rate"), "survival", (),
                 doc="number or proportion of events (one arm or all)"),
    EstimateKind("response_rate", response_rate, ("rate", "count"), "response", ("arm",),
                 doc="responders among the assessed (weighted when the analysis is)"),
    EstimateKind("odds_ratio", odds_ratio, ("odds_ratio",), "response", ("contrast",), "log",
                 comparative=True, doc="logistic-regression odds ratio of response"),
    EstimateKind("followup", followup, ("person_time", "median_followup"), "survival", (),
                 doc="person-time, or median follow-up by reverse Kaplan-Meier"),
    EstimateKind("paired_test", paired_test, ("p_value",), None, ("term",),
                 adjustments=("psm", "exact"),
                 doc="p of a paired test (McNemar, paired t, Wilcoxon) in 1:1 matched pairs"),
    EstimateKind("proportion", proportion, ("proportion",), None, ("arm", "term"),
                 doc="share of an arm with a 0/1 characteristic (a Table 1 cell)"),
    EstimateKind("mean", mean, ("mean",), None, ("arm", "term"),
                 doc="mean of a covariate in an arm (weighted when the analysis is)"),
    EstimateKind("median", covariate_median, ("median",), None, ("arm", "term"),
                 doc="median of a covariate in an arm (weighted when the analysis is)"),
    EstimateKind("group_size", group_size, ("group_size",), None, (),
                 doc="patients per arm (or in all) in the analysed sample"),
    EstimateKind("weighted_group_size", weighted_group_size, ("weighted_group_size",), None,
                 ("arm",), adjustments=("iptw", "psm", "exact"),
                 doc="sum of the weights per arm"),
    EstimateKind("balance", balance, ("smd",), None, ("term",), comparative=True,
                 doc="absolute standardized mean difference of a covariate"),
)}


def estimate_for(quantity: str, endpoint_class: str | None) -> str | None:
    """The estimate that serves a target quantity (``rate``/``count`` depend on endpoint)."""
    found = [e for e in ESTIMATES.values() if quantity in e.quantities]
    if len(found) == 1:
        return found[0].name
    found = [e for e in found if e.endpoint == endpoint_class]
    return found[0].name if found else None
