"""Marginal survival contrasts: what a g-formula, IPTW-IPCW or doubly robust analysis of a
study's data would have said.

========== ============================================================= ===================
method     options (defaults)                                            estimates
========== ============================================================= ===================
survival_  covariates, estimator ("aiptw"|"gformula"|"iptw_ipcw"),       risk, risk_
ate        treatment_covariates (covariates), censoring ("cox"|          difference, risk_
           "marginal")                                                   ratio, rmst_diff.
========== ============================================================= ===================

The estimates are those of :func:`estimators.survival.survival_ate` and
:func:`~estimators.survival.survival_rmst` (equal to ``riskRegression::ate``), computed on
the analysed rows by their trusted kernels: the risk ``F_a(t) = P(T^a <= t)`` of each arm
had everyone received it, the risk difference ``F_1 - F_0`` and ratio ``F_1 / F_0``, and
the restricted mean survival time difference ``RMST_1(t) - RMST_0(t)``, at the target's
``time``. The working models are an outcome Cox model on ``[treated, covariates]``
(g-formula, AIPTW), a main-effects logistic treatment model on ``treatment_covariates``
(IPTW-IPCW, AIPTW) and a censoring model (IPTW-IPCW, AIPTW): a Cox model for censoring on
``[treated, covariates]`` (``censoring = "cox"``, riskRegression's default) or none
(``"marginal"``, censoring independent of covariates). A working model that is not an
estimate on a replicate (a separated treatment model, a monotone Cox likelihood) makes
the replicate's value not estimable, with that reason.

Rows missing a model covariate are dropped (``missing = "complete_case"``) or
mean-imputed (``missing = "mean"``), as for the other adjustments; a term constant in the
analysed rows (a level absent from this replicate) is left out of the models, as R's
``glm`` and ``coxph`` alias it.
"""
from __future__ import annotations

import numpy as np

from . import kernels
from .adjustments import _RUNNERS, ADJUSTMENTS, OUTCOME_TERM_METHODS, Adjusted, \
    AdjustmentKind, _complete
from .estimates import ESTIMATES, Context, EstimateKind, Request
from .options import REQUIRED, Option, choice, terms

__all__ = ["ESTIMATORS", "KIND", "MARGINAL_ESTIMATES", "risk", "risk_difference",
           "risk_ratio", "rmst_difference"]

#: analysis.toml's estimator names -> the estimators' names (``iptw_ipcw`` is spelled out:
#: ``iptw`` is already the weighting adjustment of the analysis vocabulary)
ESTIMATORS = {"gformula": "gformula", "iptw_ipcw": "iptw", "aiptw": "aiptw"}
#: estimators that fit a treatment and a censoring model
_WEIGHTING = ("iptw_ipcw", "aiptw")
#: what an analysis of this method reports besides the contrasts: its sample
_SAMPLE_ESTIMATES = ("group_size", "events", "followup")


def _combination(opts) -> list[tuple[str, str]]:
    """Options a g-formula does not use (it fits the outcome model only)."""
    if opts["estimator"] in _WEIGHTING:
        return []
    return [(k, f"only the estimators {list(_WEIGHTING)} fit a {what} model; estimator "
             f"{opts['estimator']!r} does not use it")
            for k, what in (("treatment_covariates", "treatment"), ("censoring", "censoring"))
            if opts[k]]


def _run(adj, cols, subset, rng, cache=None) -> Adjusted:
    """The population's rows with every model covariate (complete cases, or all rows when
    ``missing = "mean"`` imputes them in the estimates)."""
    X = np.column_stack([t.matrix(cols, subset.index) for t in _models(adj)])
    _, ok = _complete(X, adj.missing)
    return Adjusted(subset.index[ok])


def _models(adj):
    """Bound terms of the outcome model and, if it has its own, the treatment model."""
    return (adj.outcome_terms,) + ((adj.ps_terms,) if adj.ps_terms is not None else ())


def _design(bound, ctx: Context, keep: np.ndarray) -> np.ndarray:
    X, _ = _complete(bound.matrix(ctx.cols, ctx.rows), ctx.adj.missing)
    X = X[keep]
    return X[:, np.ptp(X, axis=0) > 0] if len(X) else X


def _fit(ctx: Context, req: Request, rmst: bool):
    """Both arms' risks (or RMSTs) at ``req.time``, once per replicate, endpoint and time
    (the estimates of one analysis share it); None beyond the last follow-up."""
    key = ("survival_ate", req.endpoint, req.time, rmst)
    if key not in ctx.cache:
        ctx.cache[key] = _compute(ctx, req.endpoint, req.time, rmst)
    return ctx.cache[key]


def _compute(ctx: Context, endpoint: str, time: float, rmst: bool):
    t, d, keep = ctx.survival(endpoint)
    z = ctx.z[keep]
    if not z.size or z.min() == z.max():
        raise kernels.FitFailure("one arm is empty")
    if time > t[keep].max():
        return None             # the risk is not estimated beyond the last follow-up
    a = ctx.adj
    X = _design(a.outcome_terms, ctx, keep)
    Xt = X if a.ps_terms is None else _design(a.ps_terms, ctx, keep)
    censoring = a.options["censoring"] or "cox"
    Xc = np.column_stack([z, X]) if censoring == "cox" else np.empty((z.size, 0))
    return kernels.survival_contrast(t[keep], d[keep], z, X, Xt, Xc, time,
                                     ESTIMATORS[a.options["estimator"]], censoring, rmst)


def risk(ctx: Context, req: Request) -> float:
    """``F_a(time)`` of the target's arm."""
    res = _fit(ctx, req, False)
    arm = ctx.z[ctx.arm == req.arm]
    if not arm.size:
        raise kernels.FitFailure("empty arm")
    return np.nan if res is None else float(res.risk[0, int(arm[0]), 0])


def risk_difference(ctx: Context, req: Request) -> float:
    """``F_first(time) - F_second(time)`` of the contrast."""
    res = _fit(ctx, req, False)
    return np.nan if res is None else float(req.sign * res.difference[0, 0])


def risk_ratio(ctx: Context, req: Request) -> float:
    """``F_first(time) / F_second(time)`` of the contrast."""
    res = _fit(ctx, req, False)
    if res is None:
        return np.nan
    ratio = float(res.ratio[0, 0])
    return ratio if req.sign > 0 else 1.0 / ratio


def rmst_difference(ctx: Context, req: Request) -> float:
    """``RMST_first(time) - RMST_second(time)`` of the contrast (months)."""
    res = _fit(ctx, req, True)
    return np.nan if res is None else float(req.sign * res.difference[0, 0])


_ONLY = ("survival_ate",)
MARGINAL_ESTIMATES = {e.name: e for e in (
    EstimateKind("risk", risk, ("risk",), "survival", ("arm", "time"), adjustments=_ONLY,
                 doc="marginal risk of the event by `time` had everyone received the arm"),
    EstimateKind("risk_difference", risk_difference, ("risk_difference",), "survival",
                 ("contrast", "time"), comparative=True, adjustments=_ONLY,
                 doc="marginal risk difference at `time`"),
    EstimateKind("risk_ratio", risk_ratio, ("risk_ratio",), "survival", ("contrast", "time"),
                 "log", comparative=True, adjustments=_ONLY,
                 doc="marginal risk ratio at `time`"),
    EstimateKind("rmst_difference", rmst_difference, ("rmst_difference",), "survival",
                 ("contrast", "time"), comparative=True, adjustments=_ONLY,
                 doc="marginal restricted mean survival time difference up to `time`"),
)}

KIND = AdjustmentKind("survival_ate", {
    "covariates": Option(terms, REQUIRED, "outcome Cox model terms (and treatment model "
                         "terms unless treatment_covariates are given)"),
    "estimator": Option(choice(*ESTIMATORS), "aiptw",
                        "gformula (standardized Cox), iptw_ipcw, aiptw (doubly robust)"),
    "treatment_covariates": Option(terms, (), "logistic treatment model terms"),
    "censoring": Option(choice("cox", "marginal"), None,
                        "censoring model: cox on [treated, covariates] (default) or marginal"),
}, needs_two_arms=True, covariate_options=("covariates", "treatment_covariates"),
    doc="marginal risks and RMST by g-formula, IPTW-IPCW or AIPTW",
    estimates=(*MARGINAL_ESTIMATES, *_SAMPLE_ESTIMATES), combination=_combination)

# Registered where every reader of the analysis vocabulary looks (the package imports this
# module), as the balancing methods are.
ADJUSTMENTS[KIND.name] = KIND
_RUNNERS[KIND.name] = _run
OUTCOME_TERM_METHODS.add(KIND.name)
ESTIMATES.update(MARGINAL_ESTIMATES)
