"""The Kaplan-Meier medians of many analysed samples, computed together.

Nearly every analysed sample is asked for the Kaplan-Meier median of each arm on each
endpoint: ~20,000 curves in a replicate command, each a dozen small array operations
(:meth:`.context.Context.km`). After the samples of a batch of replicates are prepared,
:func:`prefit_km_medians` computes the medians that the sample reads from no other
estimate's curve (no rate, RMST, ARR or NNT on that endpoint) for all of the batch's
samples at once, both arms from one sort of each sample
(:func:`kernels.km_medians_many`), and puts each in its sample's cache under the key
:func:`.estimates.km_median` looks up. An arm with no patient is left to the estimate,
which reports it. Nothing here draws random numbers.

The curve is the product over the same tie groups of ``(at risk - events) / at risk``,
with the rows outside the arm (or before a landmark) at weight 0, which leaves every sum
and factor as it is; the median is found by the same rule (R's ``print.survfit``).
Unweighted counts are exact, so those medians are the one-sample fit's to the bit;
weighted sums are added in another order, which moves a median (a time of the sample)
only if the curve lands within rounding of 0.5 + 1.5e-8.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from . import kernels

__all__ = ["prefit_km_medians", "CURVE_ESTIMATES", "PAD_ROWS"]

#: Estimates that read an arm's whole curve (:meth:`.context.Context.km`): where one is
#: asked on an endpoint, that endpoint's medians come from the same curves.
CURVE_ESTIMATES = frozenset({"km_rate", "rmst", "arr", "nnt"})
#: Samples are padded (weight 0) to a multiple of this many rows and stacked with samples
#: of that padded size.
PAD_ROWS = 32


def _wanted(requests: tuple) -> dict[str, list[int]]:
    """Endpoint -> the arms whose median ``requests`` ask and no curve gives."""
    curves = {r.endpoint for r in requests if r.estimate in CURVE_ESTIMATES}
    out: dict[str, list[int]] = {}
    for r in requests:
        if r.estimate == "km_median" and r.endpoint not in curves:
            arms = out.setdefault(r.endpoint, [])
            if r.arm not in arms:
                arms.append(r.arm)
    return out


def prefit_km_medians(contexts: Iterable) -> int:
    """Compute the Kaplan-Meier medians of ``contexts`` together and cache them.

    Parameters
    ----------
    contexts : iterable of Context
        Prepared samples (:class:`.context.Context`) of any analyses and replicates.

    Returns
    -------
    int
        The number of medians put in a sample's cache.

    References
    ----------
    Kaplan EL, Meier P (1958) Nonparametric estimation from incomplete observations.
    J Am Stat Assoc 53:457-481.
    """
    groups: dict[int, list] = {}
    wanted: dict[int, dict] = {}     # per requests tuple (an analysis's, shared by samples)
    for ctx in contexts:
        key = id(ctx.requests)
        if key not in wanted:
            wanted[key] = _wanted(ctx.requests)
        for ep, arms in wanted[key].items():
            try:
                t, d, keep = ctx.survival(ep)
            except (KeyError, ValueError):      # the estimate meets it again and reports it
                continue
            n = -(-t.size // PAD_ROWS) * PAD_ROWS
            groups.setdefault(n, []).append((ctx, ep, arms, t, d, keep))
    return sum(_medians(jobs, n) for n, jobs in groups.items())


def _medians(jobs: list, n: int) -> int:
    """The medians of one stack of samples padded to ``n`` rows (padding rows last, at
    weight 0)."""
    R = len(jobs)
    T = np.zeros((R, n))
    D = np.zeros((R, n))
    arms = sorted({a for j in jobs for a in j[2]})
    member = np.zeros((len(arms), R, n), dtype=bool)    # in the arm, after any landmark
    W = np.zeros((R, n))
    for i, (ctx, ep, wanted, t, d, keep) in enumerate(jobs):
        m = t.size
        T[i, :m], T[i, m:] = t, t.max()         # padding: after every row of the sample
        D[i, :m] = d
        W[i, :m] = 1.0 if ctx.w is None else ctx.w
        for g, a in enumerate(arms):
            if a in wanted:
                np.equal(ctx.arm, a, out=member[g, i, :m])
                member[g, i, :m] &= keep
    med = kernels.km_medians_many(T, D, W * member)
    present = member.any(axis=2)        # an empty arm is left to the estimate
    done = 0
    for i, (ctx, ep, wanted, *_) in enumerate(jobs):
        for a in wanted:
            g = arms.index(a)
            if present[g, i]:
                ctx.cache[("km-median", ep, a)] = float(med[g, i])
                done += 1
    return done
