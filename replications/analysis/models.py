"""Cox outcome models for one replicate: fixed terms, or the papers' forward selection.

Forward selection follows the usual methods-section recipe ("variables with P < 0.05 in the
univariable analyses were included in the multivariable analysis using the forward
method"): each candidate is screened in a univariable Cox model (Wald p < ``screen_p``);
screened candidates then enter one at a time, the one with the smallest Wald p (joint
Wald test for a multi-column term) first, while that p < ``enter_p``. SPSS's "Forward:
Wald" enters by the score statistic; the Wald p used here orders candidates the same way
in all but near-tied cases. A term that is not selected has no HR on that replicate (NaN),
so its simulated distribution is conditional on selection, like the published one.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tacebench.records import ArrayRecord

from . import kernels
from .owned import owned

__all__ = ["CoxData", "cox_model", "fit_data", "forward_cox", "univariable_cox_many",
           "varying_columns"]


def _design(ctx, ep, bound, include_treatment):
    """``(time, event, rows used, X, names)`` of a Cox model of ``bound`` (and the
    treatment) on the sample's rows, built once for the samples on the same rows."""
    return ctx.shared(("cox-design", ep, id(bound), include_treatment, ctx.adj.missing),
                      bound, lambda: _build_design(ctx, ep, bound, include_treatment))


def _build_design(ctx, ep, bound, include_treatment):
    from .adjustments import _complete
    t, d, keep = ctx.survival(ep)
    has_terms = bound is not None and bool(bound.parts)
    names = (["treated"] if include_treatment else []) + (list(bound.names) if has_terms
                                                           else [])
    if not names:
        return t, d, keep.copy(), np.empty((len(t), 0)), names
    if ctx.replicate_cache is None:
        blocks = [ctx.z[:, None]] if include_treatment else []
        if has_terms:
            blocks.append(bound.matrix(ctx.cols, ctx.rows))
        X = np.column_stack(blocks)
        X, ok = _complete(X, ctx.adj.missing)
        return t, d, keep & ok, X, names
    # the rows of the cohort's design, which the replicate's samples share (each entry
    # is a function of its row's values alone, so these are the same numbers)
    cohort, complete = _cohort_design(ctx, bound if has_terms else None, include_treatment)
    X = cohort[ctx.rows]
    if complete:                    # _complete: no missing value, every row is used
        return t, d, keep.copy(), X, names
    X, ok = _complete(X, ctx.adj.missing)
    return t, d, keep & ok, X, names


def _cohort_design(ctx, bound, include_treatment) -> tuple[np.ndarray, bool]:
    """``[treated | bound]`` on every row of the cohort, and whether it has no missing
    value, kept in the replicate's cache (the entry holds ``bound``, whose id its key
    names)."""
    def build():
        blocks = ([np.asarray(ctx.cols["treated"]).astype(float)[:, None]]
                  if include_treatment else [])
        if bound is not None:
            blocks.append(bound.matrix(ctx.cols))
        X = np.column_stack(blocks)
        return X, not np.isnan(X).any()

    return owned(ctx.replicate_cache, ("cohort-design", id(bound), include_treatment), bound,
                 build)


def _fit(ctx, t, d, m, X, shared=False):
    """Fit on rows ``m``; columns constant there get NaN (the model cannot estimate them).
    ``shared``: ``X`` is the samples' shared design (:func:`_design`), whose fits on other
    samples of the same rows differ in their weights alone: they share the model's data
    and its sorted form (:func:`kernels.cox`'s ``memo``)."""
    fit = fit_data(ctx, t, d, m, X) if shared else _fit_data(t, d, m, X)
    vary = fit.vary
    coef = np.full(X.shape[1], np.nan)
    cov = np.full((X.shape[1], X.shape[1]), np.nan)
    if vary.any():
        b, v = kernels.cox(fit.time, fit.event, fit.X, ctx.weights(m), ctx.ties,
                           fit.memo if shared else None)
        coef[vary] = b
        cov[np.ix_(vary, vary)] = v
    return coef, cov


@dataclass(frozen=True, eq=False)
class CoxData(ArrayRecord):
    """The data of a Cox model on rows ``m`` of a design: ``time``, ``event``, ``Xm`` (the
    design's rows), ``vary`` (its columns that vary there, which the model estimates) and
    ``X`` (those columns); ``memo`` holds what fits of these data with other weights share
    (:func:`kernels.cox`'s ``memo``: the sorted data)."""

    time: np.ndarray
    event: np.ndarray
    Xm: np.ndarray
    vary: np.ndarray
    X: np.ndarray
    memo: dict = field(default_factory=dict, repr=False, compare=False)


def fit_data(ctx, t, d, m, X) -> CoxData:
    """:class:`CoxData` of rows ``m`` of the shared design ``X`` (:func:`_design`), made once
    for the samples on the same rows, which differ in their weights alone."""
    return ctx.shared(("cox-fits", id(X), ctx.ties), X, lambda: _fit_data(t, d, m, X))


def _fit_data(t, d, m, X) -> CoxData:
    Xm = X[m]
    vary = varying_columns(Xm)
    return CoxData(t[m], d[m], Xm, vary, Xm[:, vary])


def varying_columns(X: np.ndarray) -> np.ndarray:
    """``X.std(axis=0) > 0`` (False for every column of an empty ``X``), the test of which
    columns a model can estimate, without the standard deviation where the range decides.

    A range ``max - min`` above 1e-100 makes some deviation from the computed mean at least
    half of it, whose square (above 1e-201) neither underflows nor, summed with other
    squares, decreases: the standard deviation is positive. Only when a column's range is
    not that large is the standard deviation of ``X`` computed, as before, so that a
    constant column whose mean rounds away from its value is judged as it was.
    """
    if not X.shape[0]:
        return np.zeros(X.shape[1], dtype=bool)
    vary = np.maximum.reduce(X, axis=0) - np.minimum.reduce(X, axis=0) > 1e-100
    if vary.all():
        return vary
    return X.std(axis=0) > 0


def cox_model(ctx, ep, bound, include_treatment):
    """``(names, coef)`` of a Cox model with the treatment term (optional) and ``bound``."""
    t, d, m, X, names = _design(ctx, ep, bound, include_treatment)
    if not (d[m] > 0).any():
        raise kernels.FitFailure("no events")
    coef, _ = _fit(ctx, t, d, m, X, shared=True)
    return names, coef


def univariable_cox_many(ctx, requests) -> dict:
    """``{("cox-uni", endpoint, term): (names, coef)}`` of the univariable Cox models that
    ``requests`` ask about whose term is one column varying in the fitted rows, with
    positive weights: fitted together, the 0/1 terms by :func:`kernels.cox_binary_many`,
    the others by :func:`kernels.cox_covariate_many`; the same numbers as
    :func:`cox_model` one at a time to rounding. Models that leave the batched path (and
    those with no events) are not in the result; :func:`cox_model` fits them."""
    todo = {}
    for r in requests:
        if r.estimate == "hr" and r.term_model is not None:
            todo.setdefault(("cox-uni", r.endpoint, r.term), r)
    by_model: dict = {}          # (endpoint, 0/1 term) -> models
    for key, r in todo.items():
        try:
            t, d, m, X, names = _design(ctx, r.endpoint, r.term_model, False)
        except ValueError:      # left to its own request, which reports it
            continue
        if X.shape[1] != 1 or not (d[m] > 0).any():
            continue
        x = X[m, 0]
        w = ctx.weights(m)
        if x.min() == x.max() or (w is not None and not (w > 0).all()):
            continue
        binary = bool(((x == 0.0) | (x == 1.0)).all())
        by_model.setdefault((r.endpoint, binary), []).append((key, names, m, X[:, 0]))
    out = {}
    for (ep, binary), rows in by_model.items():
        t, d, _ = ctx.survival(ep)
        W = np.zeros((len(rows), len(t)))     # weight 0: a row outside the model
        x = np.zeros_like(W)
        for i, (_, _, m, xk) in enumerate(rows):
            W[i, m] = 1.0 if ctx.w is None else ctx.w[m]
            x[i, m] = xk[m]
        T = np.where(W > 0, t, 0.0)              # (any time: such a row takes no part)
        D = np.broadcast_to(d, W.shape).copy()
        fit_many = kernels.cox_binary_many if binary else kernels.cox_covariate_many
        coef, ok = fit_many(T, D, x, W, ctx.ties)
        out.update({key: (names, np.array([b]))
                    for (key, names, _, _), b, good in zip(rows, coef, ok) if good})
    return out


def _candidate_p(ctx, t, d, m, X, cols, idx) -> float:
    """Wald p of columns ``idx`` in a Cox model on ``cols``; NaN (never selected) when that
    model is not estimable (monotone likelihood, singular...): R's Wald p of a diverging
    coefficient is ~1, SPSS's score test does not enter it either."""
    try:
        coef, cov = _fit(ctx, t, d, m, X[:, cols])
    except kernels.FitFailure:
        return np.nan
    return _wald_p(coef, cov, idx)


def _wald_p(coef, cov, idx) -> float:
    from scipy import stats
    b = coef[idx]
    if not np.isfinite(b).all():
        return np.nan
    V = cov[np.ix_(idx, idx)]
    try:
        chi2 = float(b @ np.linalg.solve(V, b))
    except np.linalg.LinAlgError:
        return np.nan
    return float(stats.chi2.sf(chi2, len(idx)))


def forward_cox(ctx, ep, bound, include_treatment, screen_p, enter_p, forward=True):
    """Univariable screen, then forward entry by Wald p (``forward``) or all screened terms
    together (``forward=False``: "factors significant in the univariable analysis were
    entered into the multivariable model"); unselected terms get NaN."""
    t, d, m, X, names = _design(ctx, ep, bound, include_treatment)
    if not (d[m] > 0).any():
        raise kernels.FitFailure("no events")
    start = 1 if include_treatment else 0
    groups = []                      # design columns per term, in term order
    j = start
    for part in bound.parts:
        groups.append(list(range(j, j + len(part.names))))
        j += len(part.names)
    screened = []
    for g in groups:
        if _candidate_p(ctx, t, d, m, X, g, list(range(len(g)))) < screen_p:
            screened.append(g)
    chosen = list(range(start))
    if not forward:
        chosen += [j for g in screened for j in g]
        screened = []
    while screened:
        best, best_p = None, enter_p
        for g in screened:
            cols = chosen + g
            p = _candidate_p(ctx, t, d, m, X, cols, list(range(len(chosen), len(cols))))
            if p < best_p:
                best, best_p = g, p
        if best is None:
            break
        chosen += best
        screened.remove(best)
    out = np.full(X.shape[1], np.nan)
    if chosen:
        coef, _ = _fit(ctx, t, d, m, X[:, chosen])
        out[chosen] = coef
    return names, out
