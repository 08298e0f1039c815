"""Per-arm shares and means of an analysed sample: Table 1 cells (proportions, means,
medians of a covariate) and response rates and counts.

A Table 1 sample asks dozens of cells: its proportions and means are computed together on
the first of them, from the sample's requests (:attr:`Context.requests`): each arm's rows,
weights and their sum gathered once, then one product per cell from the same arrays, in
the same order, that the request alone would use, so the same doubles. A cell the batch
leaves out (a term with a missing value in the arm, an arm with no patient) is computed by
its own request, which reports the failure.
"""
from __future__ import annotations

import numpy as np

from tacebench.estimators.quantiles import weighted_median

from . import kernels
from .context import Context

__all__ = ["covariate_median", "mean", "proportion", "response_rate"]


def _arm_column(ctx: Context, req):
    x = ctx.term_matrix(req.term_model)[:, 0]
    m = ~np.isnan(x) & ctx.arm_rows(req.arm)
    if not m.any():
        raise kernels.FitFailure("empty arm")
    w = ctx.weights(m)
    return x[m], (np.ones(m.sum()) if w is None else w)


def proportion(ctx: Context, req) -> float:
    """Share of an arm with a 0/1 characteristic (weighted: a weighted Table 1 cell)."""
    return _arm_mean(ctx, req)


def mean(ctx: Context, req) -> float:
    """(Weighted) mean of a covariate in an arm."""
    return _arm_mean(ctx, req)


def _arm_mean(ctx: Context, req) -> float:
    """``w @ x / w.sum()`` over the arm's rows with a value of the term. The sample's
    proportion and mean requests are computed together on the first (:func:`_arm_means`);
    a term with a missing value in the arm is computed here."""
    if ("arm-mean",) not in ctx.cache:
        ctx.cache[("arm-mean",)] = True
        ctx.cache.update(_arm_means(ctx))
    found = ctx.cache.get(("arm-mean", id(req.term_model), req.arm))
    if found is not None:
        return found
    x, w = _arm_column(ctx, req)
    return float(w @ x / w.sum())


def _arm_means(ctx: Context) -> dict:
    """:func:`_arm_mean` of every (term, arm) the sample's proportion and mean requests ask
    about whose term has no missing value in the arm: the arm's weights and their sum
    gathered once for all its terms (a Table 1 sample asks ~15 cells), each value from the
    same arrays as :func:`_arm_column`'s (those rows, in order), so the same doubles.

    With a replicate cache the terms' cohort columns are stacked once per replicate (the
    matched samples of a study's readings share them), and each arm's rows of all of
    them gathered in one step: row ``k`` of the gathered matrix is the contiguous array
    :func:`_arm_column` gathers for term ``k``, so its dot product is the same."""
    arms: dict = {}
    for r in ctx.requests:
        if r.estimate in ("proportion", "mean") and r.term_model is not None:
            arms.setdefault(r.arm, {})[id(r.term_model)] = r.term_model
    out = {}
    for arm, terms in arms.items():
        m = ctx.arm_rows(arm)
        if not m.any():
            continue                    # left to its requests, which report it
        w = ctx.weights(m)
        w = np.ones(m.sum()) if w is None else w
        total = w.sum()
        stacked = _cohort_columns(ctx, terms)
        if stacked is not None:
            keys, T = stacked
            G = T.take(ctx.rows[m], axis=1)           # (terms, arm rows), rows contiguous
            ok = ~np.isnan(G).any(axis=1)
            out.update((("arm-mean", k, arm), float(w @ g / total))
                       for k, g, good in zip(keys, G, ok.tolist()) if good)
            continue
        rows = ctx.rows[m]
        for k, tm in terms.items():
            try:
                X = ctx.cohort_matrix(tm)
                x = ctx.term_matrix(tm)[:, 0][m] if X is None else X[:, 0][rows]
            except ValueError:          # left to its own request, which reports it
                continue
            if not np.isnan(x).any():
                out[("arm-mean", k, arm)] = float(w @ x / total)
    return out


def _cohort_columns(ctx: Context, terms: dict):
    """``(keys, T)``: the cohort column of each of ``terms`` (``id -> BoundTerms``) as a
    row of ``T``, kept in the replicate's cache under the terms' ids; None without that
    cache or when a term's column cannot be built (its requests report it)."""
    if ctx.replicate_cache is None:
        return None
    keys = tuple(terms)
    owners = tuple(terms.values())

    def build():
        try:
            return keys, np.array([ctx.cohort_matrix(tm)[:, 0] for tm in owners])
        except ValueError:
            return None
    # the entry holds the terms themselves, so their ids name no other objects while kept
    # (owned's rule, for several owners)
    cache, key = ctx.replicate_cache, ("arm-mean-columns", keys)
    found = cache.get(key)
    if found is None or any(a is not b for a, b in zip(found[0], owners)):
        found = cache[key] = (owners, build())
    return found[1]


def covariate_median(ctx: Context, req) -> float:
    """(Weighted) median of a covariate in an arm, :func:`estimators.quantiles.weighted_median`."""
    x, w = _arm_column(ctx, req)
    return weighted_median(x, w)


def response_rate(ctx: Context, req) -> float:
    """Share (``rate``) or number (``count``) of responders among the assessed patients of
    an arm, weighted when the analysis is."""
    key = ("responders", req.endpoint, req.arm)    # a rate and a count share the sums
    if key not in ctx.cache:
        y, assessed = ctx.response(req.endpoint)
        m = assessed & (ctx.arm == req.arm)
        if not m.any():
            raise kernels.FitFailure("no assessed patient in the arm")
        w = ctx.weights(m)
        w = np.ones(m.sum()) if w is None else w
        ctx.cache[key] = (float(w @ y[m]), w.sum())
    count, total = ctx.cache[key]
    return count if req.quantity == "count" else count / total
