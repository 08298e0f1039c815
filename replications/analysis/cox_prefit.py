"""Treatment-only Cox models of many analysed samples, fitted together.

The hazard ratio of an unadjusted, weighted (IPTW) or matched analysis is a Cox model of
the treatment alone, one per analysed sample: several per replicate (the analyses, their
readings, the leave-one-covariate-out reruns of a weighting), thousands per study. After
the samples of a batch of replicates are prepared
(:meth:`.compile.CompiledAnalysis.prepare`), :func:`prefit_treatment_cox` fits every such
model of the batch at once (:func:`kernels.cox_binary_many`, rows of weight 0 padding the
smaller samples) and puts each in its sample's cache under the key :func:`.estimates.hr`
looks up, so the estimates then run unchanged. A model the batched path does not take
(no events, the treatment constant, a weight of 0, more than one column, a forward
selection) or leaves (a monotone or singular likelihood, step halving, no convergence:
``ok`` False) is fitted by the estimate itself, which reports why, as before. The batched
fit equals the one-sample fit to rounding. Nothing here draws random numbers.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from . import kernels
from .models import _design

__all__ = ["prefit_treatment_cox", "MAX_STACK"]

#: Largest stack of samples fitted at once (bounds the ``(k, n)`` arrays).
MAX_STACK = 512


def _treatment_only(ctx) -> list[tuple]:
    """The Cox models of ``ctx``'s requests that the batched path takes:
    ``(key, time, event, treated, weights)`` on the analysed rows, one per endpoint."""
    a = ctx.adj
    if a.method == "multivariable" and a.options.get("selection") in ("forward", "screen"):
        return []
    out, seen = [], set()
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
        if names != ["treated"]:
            continue
        x = X[m, 0]
        w = ctx.weights(m)
        if (not (d[m] > 0).any() or x.min() == x.max()
                or (w is not None and not (w > 0).all())):
            continue
        out.append((key, t[m], d[m], x, np.ones(x.size) if w is None else w))
    return out


def prefit_treatment_cox(contexts: Iterable) -> int:
    """Fit the treatment-only Cox models of ``contexts`` together and cache them.

    Parameters
    ----------
    contexts : iterable of Context
        Prepared samples (:class:`.estimates.Context`) of any analyses and replicates.

    Returns
    -------
    int
        The number of models put in a sample's cache.
    """
    groups: dict[str, list] = {}
    for ctx in contexts:
        for key, t, d, x, w in _treatment_only(ctx):
            groups.setdefault(ctx.ties, []).append((ctx.cache, key, t, d, x, w))
    fitted = 0
    for ties, jobs in groups.items():
        for start in range(0, len(jobs), MAX_STACK):
            fitted += _fit_stack(jobs[start:start + MAX_STACK], ties)
    return fitted


def _fit_stack(jobs: list, ties: str) -> int:
    n = max(j[2].size for j in jobs)
    T, D, x, W = (np.zeros((len(jobs), n)) for _ in range(4))   # weight 0: padding
    for i, (_, _, t, d, xi, w) in enumerate(jobs):
        T[i, :t.size], D[i, :t.size], x[i, :t.size], W[i, :t.size] = t, d, xi, w
    coef, ok = kernels.cox_binary_many(T, D, x, W, ties)
    for (cache, key, *_), b, good in zip(jobs, coef, ok):
        if good:
            cache[key] = (["treated"], np.array([b]))
    return int(ok.sum())
