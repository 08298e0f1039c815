"""The outcome Cox models of many analysed samples, fitted together.

The hazard ratio of an analysis is a Cox model, one per analysed sample: several per
replicate (the analyses, their readings, the leave-one-covariate-out reruns of a
weighting), thousands per study. After the samples of a batch of replicates are prepared
(:meth:`.compile.CompiledAnalysis.prepare`), :func:`prefit_cox` fits every such model of
the batch that a batched kernel takes, stacked with the models of the same number of
columns and about the same size (rows of weight 0 padding them to a multiple of
:data:`PAD_ROWS`), and puts each in its sample's
cache under the key :func:`.estimates.hr` looks up, so the estimates then run unchanged:

- a model of the treatment alone (unadjusted, weighted or matched analyses) by
  :func:`kernels.cox_binary_many`;
- a model of several columns (a multivariable analysis, or the outcome covariates of an
  adjusted one) by :func:`kernels.cox_multi_many`, when its design is small enough for the
  stack to pay (:data:`MULTI_MAX_CELLS`): at a few hundred rows and ten columns one
  ``fit_cox`` call is bound by its array work, not by its per-call overhead, and the
  stacked kernel is no faster.

A model the batched path does not take (no events, every column constant, a weight of 0,
a forward selection, a design above the size) or leaves (a monotone or singular
likelihood, step halving, no convergence: ``ok`` False) is fitted by the estimate itself,
which reports why, as before. The batched fit equals the one-sample fit to rounding
(1e-10 relative), and does not depend on which samples share its stack. Nothing here
draws random numbers.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from . import kernels
from .models import _design, fit_data

__all__ = ["prefit_cox", "MAX_STACK", "MULTI_MAX_CELLS", "PAD_ROWS"]

#: Largest stack of samples fitted at once (bounds the ``(k, n)`` arrays).
MAX_STACK = 512
#: Largest design (rows x columns) whose multivariable model is fitted in a stack.
#: Measured, 25-replicate stacks against ``fit_cox`` one at a time (CPU, Efron ties):
#: 0.27-0.52x at 80-176 rows and 2-8 columns, 0.51-0.63x at 300 rows and 2-5 columns,
#: 0.81x at 300 x 8, 0.90-0.95x at 423 x 8-10, where the per-model gain no longer pays
#: for building the stack.
MULTI_MAX_CELLS = 2500
#: Every sample is padded to the next multiple of this many rows, and stacked only with
#: samples of that padded size: a sum over a sample's rows rounds according to their
#: number, so a model's numbers would otherwise depend on the samples it shares a stack
#: with, hence on the batches and ``--n-jobs``.
PAD_ROWS = 16


def _outcome_models(ctx) -> tuple[list, list]:
    """The Cox models of ``ctx``'s requests that a batched path takes, one per endpoint:
    ``(key, time, event, treated, weights)`` of the treatment-only ones and
    ``(key, names, vary, time, event, X, weights)`` of the multivariable ones, on the
    analysed rows (``X`` the columns that vary there, ``vary`` which they are)."""
    a = ctx.adj
    if a.method == "multivariable" and a.options.get("selection") in ("forward", "screen"):
        return [], []
    width = int(a.include_treatment) + (len(a.outcome_terms.names)
                                        if a.outcome_terms is not None else 0)
    if width > 1 and len(ctx.rows) * width > MULTI_MAX_CELLS:
        return [], []       # fitted one at a time, where that is no slower
    single, multi, seen = [], [], set()
    for req in ctx.requests:
        key = ("cox", req.endpoint)
        if req.estimate != "hr" or req.term_model is not None or key in seen:
            continue
        seen.add(key)
        try:
            t, d, m, X, names = _design(ctx, req.endpoint, a.outcome_terms,
                                        a.include_treatment)
        except ValueError:          # the estimate meets it again and reports it
            continue
        w = ctx.weights(m)
        fit = fit_data(ctx, t, d, m, X)     # (the model's rows, as cox_model fits it)
        tm, dm, Xm = fit.time, fit.event, fit.Xm
        if not (dm > 0).any() or (w is not None and not (w > 0).all()):
            continue
        w = np.ones(Xm.shape[0]) if w is None else w
        if names == ["treated"]:
            x = Xm[:, 0]
            if x.min() != x.max():
                single.append((key, tm, dm, x, w))
            continue
        vary = fit.vary             # as models._fit: a constant column gets NaN
        if vary.any():
            multi.append((key, names, vary, tm, dm, fit.X, w))
    return single, multi


def prefit_cox(contexts: Iterable) -> int:
    """Fit the outcome Cox models of ``contexts`` together and cache them.

    Parameters
    ----------
    contexts : iterable of Context
        Prepared samples (:class:`.context.Context`) of any analyses and replicates.

    Returns
    -------
    int
        The number of models put in a sample's cache.

    References
    ----------
    Therneau TM, Grambsch PM (2000) Modeling Survival Data, ch. 3 (R ``coxph``).
    """
    single: dict[tuple[str, int], list] = {}
    multi: dict[tuple[str, int, int], list] = {}
    for ctx in contexts:
        one, several = _outcome_models(ctx)
        for key, t, d, x, w in one:
            single.setdefault((ctx.ties, _padded(t.size)), []).append(
                (ctx.cache, key, t, d, x, w))
        for key, names, vary, t, d, X, w in several:
            multi.setdefault((ctx.ties, _padded(t.size), X.shape[1]), []).append(
                (ctx.cache, key, names, vary, t, d, X, w))
    fitted = 0
    for (ties, n, _), jobs in multi.items():
        for start in range(0, len(jobs), MAX_STACK):
            fitted += _fit_multi_stack(jobs[start:start + MAX_STACK], ties, n)
    for (ties, n), jobs in single.items():
        for start in range(0, len(jobs), MAX_STACK):
            fitted += _fit_stack(jobs[start:start + MAX_STACK], ties, n)
    return fitted


def _padded(n: int) -> int:
    return -(-n // PAD_ROWS) * PAD_ROWS


def _stacked(arrays: list, n: int) -> np.ndarray:
    """``arrays`` (of equal trailing shape) stacked, each padded with zeros to ``n`` rows
    (weight 0: padding rows take no part in a fit)."""
    out = np.zeros((len(arrays), n, *arrays[0].shape[1:]))
    for i, a in enumerate(arrays):
        out[i, :a.shape[0]] = a
    return out


def _fit_stack(jobs: list, ties: str, n: int) -> int:
    T, D, x, W = (_stacked([j[k] for j in jobs], n) for k in (2, 3, 4, 5))
    coef, ok = kernels.cox_binary_many(T, D, x, W, ties)
    for (cache, key, *_), b, good in zip(jobs, coef, ok):
        if good:
            cache[key] = (["treated"], np.array([b]))
    return int(ok.sum())


def _fit_multi_stack(jobs: list, ties: str, n: int) -> int:
    T, D, X, W = (_stacked([j[k] for j in jobs], n) for k in (4, 5, 6, 7))
    coef, ok = kernels.cox_multi_many(T, D, X, W, ties)
    for (cache, key, names, vary, *_), b, good in zip(jobs, coef, ok):
        if good:
            full = np.full(vary.size, np.nan)
            full[vary] = b
            cache[key] = (names, full)
    return int(ok.sum())
