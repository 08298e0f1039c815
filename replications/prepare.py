"""One replicate's analysed samples, prepared before any estimate is computed.

:func:`replications.reproduce.run_replicates` first runs every adjustment of every
replicate of a batch (the only step that draws random numbers or fills the replicate's
shared propensity and matching caches), in the order the runs used to take, so every
replicate's streams and matched samples are what running its analyses one by one gives;
fits that many samples share (:mod:`.analysis.cox_prefit`) are then made across the
batch, and the estimates, which draw nothing, last.
"""
from __future__ import annotations

import numpy as np

from .shown import prepare_shown

__all__ = ["prepare_replicate"]


def prepare_replicate(plan, children, cohorts, caches, decompose: bool) -> tuple[list, ...]:
    """One replicate's analysed samples (:meth:`CompiledAnalysis.prepare`) in the order
    of its runs: the analyses, the readings' variants, the shown runs and, when
    ``decompose``, the LOCO reruns.

    Parameters
    ----------
    plan : replications.reproduce.Plan
    children : list of numpy.random.SeedSequence
        The replicate's streams; the last one is its analyses' (the analyses and the
        LOCO reruns draw from it in turn, each reading's variant and shown run from a
        stream of its own spawned from it, so no reading changes another's draws).
    cohorts, caches : mapping
        Cohort name -> the replicate's columns, and -> the cache its analyses share.
    decompose : bool
        Whether the replicate runs the leave-one-covariate-out reruns.

    Returns
    -------
    tuple of lists
        ``(runs, variants, shown, loco)`` of :class:`Prepared`, aligned with
        ``plan.runs``, ``plan.variants``, ``plan.shown`` and ``plan.loco`` (empty unless
        ``decompose``; None for the reruns of an analysis whose adjustment is not
        estimable on the replicate: the paired contribution needs both ends).
    """
    rng = np.random.default_rng(children[-1])
    runs = [ca.prepare(cohorts[ca.analysis.cohort], rng, cache=caches[ca.analysis.cohort])
            for ca, _ in plan.runs]
    failed = {ca.analysis.name for (ca, _), p in zip(plan.runs, runs) if p.ctx is None}
    variants = []
    for v, (ca, _, _) in enumerate(plan.variants):
        vrng = np.random.default_rng(np.random.SeedSequence(
            children[-1].entropy, spawn_key=children[-1].spawn_key + (1 + v,)))
        variants.append(ca.prepare(cohorts[ca.analysis.cohort], vrng,
                                   cache=caches[ca.analysis.cohort]))
    shown = prepare_shown(plan.shown, cohorts, caches, children[-1])
    loco = [None if ca.analysis.name in failed else
            ca.prepare(cohorts[ca.analysis.cohort], rng, adjustment=adj, requests=reqs,
                       cache=caches[ca.analysis.cohort])
            for ca, _, adj, reqs, _ in (plan.loco if decompose else ())]
    return runs, variants, shown, loco
