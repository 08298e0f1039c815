"""The one place where the analysis vocabulary calls the estimators' array kernels.

The replicate loop runs thousands of fits, so it calls the estimators' validation-free
kernels (:mod:`estimators.kernels`: ``fit_logistic``, ``fit_cox``, ...) on trusted arrays, as
``docs/design.md`` prescribes for hot paths. Whether a fit is an estimate is the kernel
result's ``status`` (:mod:`estimators.status`); this module only maps it to the report's
canonical reasons. Keeping every such call here means an estimator API change touches one
small module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, NamedTuple

import numpy as np
from scipy import special

from tacebench.estimators import kernels as _k
from tacebench.records import ArrayRecord
from tacebench.estimators.status import Estimability, logistic_estimability

__all__ = ["logistic", "propensity", "iptw", "smd", "km", "km_medians_many", "cox",
           "match_nearest",
           "smd_columns", "cox_binary_many", "cox_covariate_many", "cox_multi_many",
           "balancing", "matching_weights", "match_optimal",
           "match_mahalanobis", "match_exact", "survival_contrast", "FitFailure", "Note",
           "PropensityFit", "SEPARATED",
           "NOT_CONVERGED", "FITTED_01", "DIAGNOSTICS", "NOTE_KEY"]

# R's binomial()$linkinv bounds fitted probabilities at .Machine$double.eps
PS_EPS = np.finfo(float).eps

#: Canonical reasons why a logistic model has no estimate on a replicate (the report
#: counts replicates per reason, so these strings carry no replicate-specific numbers).
SEPARATED = "separated"
NOT_CONVERGED = "did not converge"
FITTED_01 = "fitted probabilities numerically 0 or 1"
#: estimators.status.Estimability of a logistic fit -> the reason counted in the report
_LOGISTIC_REASON = {Estimability.OK: None, Estimability.SEPARATED: SEPARATED,
                    Estimability.NOT_CONVERGED: NOT_CONVERGED,
                    Estimability.FITTED_0_1: FITTED_01}


class FitFailure(ArithmeticError):
    """A model or an adjustment is not estimable on this replicate (propensity model
    separated, no match within the caliper, Cox likelihood monotone, no events, an empty
    arm...). ``reason`` is a short canonical phrase the report counts over replicates;
    ``details`` are extra diagnostics counted the same way (e.g. which covariate level has
    no patient in one arm)."""

    def __init__(self, reason: str, details: tuple[str, ...] = ()):
        super().__init__(reason)
        self.reason = reason
        self.details = tuple(details)


class Note(NamedTuple):
    """A diagnostic of one replicate that makes no value NaN (R would warn and go on, e.g.
    a separated propensity model): ``reason`` a canonical phrase of :data:`DIAGNOSTICS`
    counted over replicates, ``details`` counted the same way."""

    reason: str
    details: tuple[str, ...] = ()


#: Prefix of a report note count that is a diagnostic (a :class:`Note`), not a failure:
#: ``"<analysis>: note: <reason>"`` and ``"<analysis>: note: <reason>: <detail>"``.
NOTE_KEY = "note: "

#: Diagnostic reasons of a propensity model (what R's glm / logistf warn about, and the
#: exact separation check) -> what the analysis does about it, for the report.
PS_SEPARATED = "propensity model separated"
PS_NOT_CONVERGED = "propensity model did not converge"
PS_FITTED_01 = "propensity model fitted probabilities numerically 0 or 1"
PS_ALIASED = "propensity model has aliased columns"
PS_SEPARATED_FIRTH = "propensity data separated (Firth model)"
DIAGNOSTICS = {
    PS_SEPARATED: "the coefficients diverge but the fitted probabilities converge; as R's "
                  "glm, the analysis uses them",
    PS_NOT_CONVERGED: "as R, the analysis uses the last iterate",
    PS_FITTED_01: "R's glm warns; the analysis uses them as R bounds them",
    PS_ALIASED: "dropped, as R's glm does (NA coefficients)",
    PS_SEPARATED_FIRTH: "the Firth estimates are finite; the analysis uses them",
}


def logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None):
    """Logistic fit with an intercept added; returns ``(coef, fitted, problem)``.

    ``coef[0]`` is the intercept. ``problem`` is ``None`` for a maximum-likelihood
    estimate, else the reason it is none (:func:`logistic_problem`). (No covariance: the
    analyses read the coefficients only, and the fit's information is formed on first
    access, so it is never formed here.)
    """
    Xa = np.column_stack([np.ones(len(y)), X])
    y = y.astype(float)
    w = np.ones(len(y)) if w is None else w
    fit = _k.fit_logistic(Xa, y, w)
    return fit.coef, fit.fitted, _LOGISTIC_REASON[fit.status]


def logistic_problem(Xa: np.ndarray, y: np.ndarray, w: np.ndarray, mu: np.ndarray,
                     converged: bool, beta: np.ndarray | None = None) -> str | None:
    """Why a logistic fit is not a maximum-likelihood estimate, or ``None`` if it is.

    ``Xa`` includes the intercept column; ``converged`` is Newton's flag. The verdict is
    :func:`estimators.status.logistic_status` (the rule ``logistic_regression`` and every
    logistic kernel result use; its direction-free form), mapped to the report's reasons.
    """
    status = logistic_estimability(Xa, y, w, mu, beta, converged)
    return _LOGISTIC_REASON[status]


@dataclass(frozen=True, eq=False)
class PropensityFit(ArrayRecord):
    """Fitted propensity scores, and the diagnostics of their model (:class:`Note`,
    computed on first access: the exact separation check solves a linear program).
    ``explain`` gives the details filed under a separation note."""

    ps: np.ndarray
    fit: object = field(repr=False)
    model: str = "glm"
    names: tuple = ()
    explain: Callable[[], tuple[str, ...]] | None = field(default=None, repr=False)

    @cached_property
    def notes(self) -> tuple[Note, ...]:
        fit, out = self.fit, []
        if fit.aliased[1:].any():
            out.append(Note(PS_ALIASED, tuple(
                str(n) for n, a in zip(self.names, fit.aliased[1:]) if a)))
        warned = tuple(f"R warns: {w}" for w in fit.warnings)
        if fit.separated:
            reason = PS_SEPARATED if self.model == "glm" else PS_SEPARATED_FIRTH
            out.append(Note(reason, (self.explain() if self.explain else ()) + warned))
        else:
            if not fit.converged:
                out.append(Note(PS_NOT_CONVERGED))
            if self.model == "glm" and fit.fitted_0_1:
                out.append(Note(PS_FITTED_01))
        return tuple(out)


def propensity(X: np.ndarray, z: np.ndarray, model: str = "glm", names=(),
               explain: Callable[[], tuple[str, ...]] | None = None) -> PropensityFit:
    """Propensity scores from a main-effects logistic model of ``z`` on ``X`` (intercept
    added), fitted as R fits it (:data:`estimators.kernels.PS_MODELS`: ``"glm"``, R's glm
    with its defaults, or ``"firth"``).

    Never not estimable: separation, non-convergence, fitted values at the bounds and
    aliased columns are notes (:class:`Note`), with the fitted probabilities used, as R
    uses them. ``names`` name the columns of ``X`` (for the aliased-column note); ``explain``
    returns the details of a separation note (e.g. levels seen in one arm only).
    """
    Xa = np.column_stack([np.ones(len(z)), X])
    fit = _k.PS_MODELS[model].fit(Xa, z.astype(float), np.ones(len(z)))
    return PropensityFit(fit.fitted, fit, model, tuple(names), explain)


def iptw(ps, z, estimand="ATE", stabilized=False, truncate=None) -> np.ndarray:
    return _k.iptw_weights_kernel(ps, z, estimand, stabilized, truncate)


def smd(x: np.ndarray, z: np.ndarray, w: np.ndarray | None, weighted_sd: bool = False,
        levels=None) -> float:
    """Standardized mean difference, treated - control: binary or continuous ``x``, or the
    Yang-Dalton multi-level SMD of category codes when ``levels`` is given. The SDs are
    those of the unadjusted sample unless ``weighted_sd``."""
    kind = ("categorical" if levels is not None else
            "binary" if np.isin(x, (0.0, 1.0)).all() else "continuous")
    weighted = w is not None
    w = np.ones(len(x)) if w is None else w
    return float(_k.smd_kernel(x, z.astype(np.int8), w, kind, levels, "pooled",
                               weighted_sd, weighted).smd)


def smd_columns(C: np.ndarray, z: np.ndarray, w: np.ndarray | None,
                weighted_sd: bool = False) -> np.ndarray:
    """:func:`smd` of every column of ``C`` (n, K, no missing values) at once: binary
    columns (all 0/1) as binary, the others as continuous."""
    weighted = w is not None
    w = np.ones(len(z)) if w is None else w
    binary = ((C == 0.0) | (C == 1.0)).all(axis=0)
    return _k.smd_columns_kernel(C, z.astype(np.int8), w, binary, "pooled", weighted_sd,
                                 weighted)


def km(time: np.ndarray, event: np.ndarray, w: np.ndarray | None):
    """Weighted Kaplan-Meier; returns an object with ``median()``, ``at(t)``, ``rmst(tau)``."""
    fit = _k.fit_km(time, event.astype(float), w, "greenwood")
    return _KM(fit.times, fit.survival)


def km_medians_many(time: np.ndarray, event: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Kaplan-Meier medians of many samples and groups from one sort of each sample
    (:func:`estimators.kernels.km_median_rows`): ``time`` and ``event`` (R, n), one row a
    sample; ``weights`` (G, R, n), group ``g``'s weights (0 outside the group). Returns the
    medians (G, R), ``inf`` where not reached."""
    from tacebench.estimators.batch import SortedRows

    s = SortedRows(time)
    return np.stack([_k.km_median_rows(s, event, w) for w in weights])


def cox(time, event, X, w=None, ties="efron", memo: dict | None = None):
    """Cox partial-likelihood fit (estimators' ``fit_cox`` kernel, R coxph's Newton-Raphson);
    returns ``(coef, cov)`` with the model-based covariance. ``memo``: a dict kept for the
    fits of one ``time``, ``event``, ``X`` and ``ties`` that differ in their weights: the
    first keeps its sorted data there and the others reuse them (the same numbers).

    Not estimable (:class:`FitFailure`) unless the fit's ``status`` is OK: no events, a
    singular fit (no variation within the risk sets), a monotone partial likelihood (a
    coefficient diverges, the MLE does not exist) or no convergence. R's coxph warns on a
    monotone likelihood and prints its last iterate, but that number is set by its
    iteration controls (log HR -10.8, -19.8, -26.8 for 10 iterations, the defaults and
    eps = 1e-12 in tests/reference/ps_separated) with an infinite CI: not an estimate a
    paper reports, unlike the fitted probabilities of a separated propensity model, which
    converge."""
    if not (event > 0).any():
        raise FitFailure(_COX_REASON[Estimability.NO_EVENTS])
    w = np.ones(len(time)) if w is None else w
    # fit_cox's coefficients, model variance and status alone (no residuals, robust
    # variance or Wald limits, which no caller here reads): the same numbers
    like = None if memo is None else memo.get("risk sets")
    fit = _k.cox_point_kernel(time, event.astype(float), X, w, ties=ties, like=like)
    if memo is not None:
        memo["risk sets"] = fit.risk_sets
    if fit.status is not Estimability.OK:
        raise FitFailure(_COX_REASON[fit.status])
    return fit.coef, fit.var


def survival_contrast(time, event, z, X, X_treatment, X_censoring, horizon: float,
                      estimator: str, censoring: str, rmst: bool):
    """Marginal risks (``rmst=False``: ``SurvivalATE``) or RMSTs (``SurvivalRMST``) of both
    arms at one ``horizon`` by one estimator (``"gformula"``, ``"iptw"``, ``"aiptw"``):
    the estimators' ``survival_ate_kernel`` / ``survival_rmst_kernel`` on trusted arrays.
    Not estimable (:class:`FitFailure`) when a working model is not (a separated treatment
    model, a monotone Cox likelihood, no events)."""
    kernel = _k.survival_rmst_kernel if rmst else _k.survival_ate_kernel
    res = kernel(time, event, z, X, X_treatment, X_censoring,
                 np.array([float(horizon)]), (estimator,), censoring)
    if not res.status.ok:
        raise FitFailure(f"working model not estimable ({res.status.value})")
    return res


def cox_binary_many(time, event, x, w, ties="efron") -> tuple[np.ndarray, np.ndarray]:
    """Cox models of one 0/1 covariate, one per row of the ``(k, n)`` stacks (rows with
    weight 0 left out), fitted together (:func:`estimators.kernels.fit_cox_rows`);
    returns ``(coef, ok)``. Where ``ok`` the coefficient is :func:`cox`'s and an
    estimate; elsewhere (the fit left the batched path: monotone or singular likelihood,
    step halving, no convergence) call :func:`cox` for the row, which says why."""
    out = _k.fit_cox_rows(time, event, x, w, ties=ties, robust=False)
    coef, refitted = out[0], out[-1]
    return coef, ~refitted


def cox_covariate_many(time, event, x, w, ties="efron") -> tuple[np.ndarray, np.ndarray]:
    """:func:`cox_binary_many` for one covariate of any values per row
    (:func:`estimators.kernels.fit_cox_covariate_rows`): ``(coef, ok)``."""
    out = _k.fit_cox_covariate_rows(time, event, x, w, ties=ties)
    return out[0], ~out[-1]


def cox_multi_many(time, event, X, w, ties="efron") -> tuple[np.ndarray, np.ndarray]:
    """:func:`cox_binary_many` for a model of p columns, one per ``(n, p)`` slice of the
    ``(k, n, p)`` stack ``X`` (:func:`estimators.kernels.fit_cox_multi_rows`, without
    its robust SEs): ``(coef, ok)``, ``coef`` of shape ``(k, p)``."""
    out = _k.fit_cox_multi_rows(time, event, X, w, ties=ties, refit=False, robust=False)
    return out[0], ~out[-1]


#: estimators.status.Estimability of a Cox fit -> the reason counted in the report
_COX_REASON = {
    Estimability.NO_EVENTS: "no events",
    Estimability.SINGULAR: "Cox model singular (a covariate constant within the risk sets)",
    Estimability.MONOTONE_LIKELIHOOD: "Cox likelihood monotone (a coefficient diverges)",
    Estimability.NOT_CONVERGED: "Cox model did not converge",
}


def match_nearest(ps, z, *, caliper, caliper_scale, caliper_sd, ratio, replace, order, rng):
    """Nearest-neighbour PS matching (the estimators' validation-free kernel on the trusted
    ``ps`` of :func:`propensity`); returns ``(rows, weights, set_id)`` of the matched sample
    (rows index ``ps``; weights are MatchIt's matching weights). Not estimable when no
    treated patient has a control within the caliper."""
    m = _k.match_nearest_kernel(ps, z, caliper=caliper, caliper_scale=caliper_scale,
                                caliper_sd=caliper_sd, ratio=ratio, replace=replace,
                                order=order, rng=rng)
    if m.status is Estimability.NO_MATCH:
        raise FitFailure("no match within the caliper")
    return m.rows, m.weights[m.rows], m.pair_id


def match_exact(keys: np.ndarray, z, *, ratio, rng):
    """Exact matching on the rows of ``keys`` (n x k); returns ``(rows, weights, set_id)``."""
    _, codes = np.unique(keys, axis=0, return_inverse=True)
    zi = z.astype(np.int8)
    mm = _k.exact_match_sets(codes.ravel(), zi, int(ratio), rng)
    if not (mm[:, 0] >= 0).any():
        raise FitFailure("no stratum holds both a treated patient and a control")
    m = _k.result_from_sets(mm, np.flatnonzero(zi == 1), zi, caliper=None,
                            distance=None, method="exact")
    return m.rows, m.weights[m.rows], m.pair_id


def balancing(X: np.ndarray, z, method: str, estimand: str) -> np.ndarray:
    """Entropy-balancing or CBPS weights (:func:`estimators.balancing_weights`); not
    estimable when the balance problem has no solution the solver reaches."""
    from tacebench.estimators.balancing_weights import balancing_weights

    try:
        return balancing_weights(X, z, method=method, estimand=estimand).weights
    except ValueError as exc:  # e.g. the target means outside the arm's convex hull
        raise FitFailure(str(exc)) from None


def matching_weights(ps, z) -> np.ndarray:
    """Matching weights ``min(e, 1 - e) / P(Z = z | x)`` (Li & Greene 2013)."""
    from tacebench.estimators.weights_matching import matching_weights_kernel

    return matching_weights_kernel(ps, z).weights


def _sample(m):
    return m.rows, m.weights[m.rows], m.pair_id


def match_optimal(ps, z):
    """Optimal 1:1 pairs on the logit PS; ``(rows, weights, set_id)`` as
    :func:`match_nearest`. Not estimable with fewer controls than treated."""
    from tacebench.estimators.matching_optimal import match_optimal_kernel

    n1 = int(z.sum())
    if z.size - n1 < n1:
        raise FitFailure(f"optimal 1:1 matching needs at least as many controls as treated; "
                         f"{z.size - n1} controls for {n1} treated")
    return _sample(match_optimal_kernel(np.clip(ps, 1e-12, 1 - 1e-12), z.astype(np.int8),
                                        "logit"))


def match_mahalanobis(X, z, *, caliper, ratio, replace):
    """Mahalanobis nearest-neighbour matching (overall covariance); ``(rows, weights,
    set_id)``. Not estimable when no treated patient has an allowed control."""
    from tacebench.estimators.matching_mahalanobis import match_mahalanobis_kernel

    m = match_mahalanobis_kernel(X, z.astype(np.int8), caliper, "overall", ratio, replace)
    if not m.status.ok:
        raise FitFailure(m.message or "no treated patient has a match")
    return _sample(m)


class _KM:
    def __init__(self, times, surv):
        self.times, self.surv = times, surv

    def median(self) -> float:
        """R's ``print.survfit`` median (midpoint rule at an exact 0.5); inf if not reached."""
        return float(_k.first_crossing(self.surv, self.times, 0.5))

    def at(self, t: float) -> float:
        """S(t); NaN beyond the last observed time unless the curve has reached 0."""
        i = np.searchsorted(self.times, t, side="right") - 1
        if i < 0:
            return 1.0
        if t > self.times[-1] and self.surv[-1] > 0:
            return np.nan
        return float(self.surv[i])

    def rmst(self, tau: float) -> float:
        t = np.concatenate([[0.0], self.times[self.times < tau], [tau]])
        s = np.concatenate([[1.0], self.surv[self.times < tau]])
        return float(np.sum(np.diff(t) * s))


def expit(x):
    return special.expit(x)
