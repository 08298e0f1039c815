"""Fits that the analyses of a batch of replicates share, fitted across the batch at once.

An analysis runs on one replicate at a time (:meth:`CompiledAnalysis.run`), and the
propensity models it fits go into that replicate's cache (keyed by
:func:`.adjustments.ps_cache_key`), where its readings and its leave-one-covariate-out
(LOCO) reruns find them. A LOCO decomposition fits one propensity model per covariate left
out, on every decomposed replicate: hundreds of ``glm`` fits of one shape per batch. Before
the replicates' analyses run, :func:`prefit_propensity` fits every ``glm`` propensity model
those analyses will ask for, across all the replicates and LOCO variants of the batch
together (:func:`estimators.kernels.fit_glm_binomial_rows`, which returns replicate by
replicate the numbers of the one-fit kernel), and puts each fit in its replicate's cache
under the key the analysis looks up. The analyses then run unchanged; a model the prefit
leaves out (a Firth model, an empty arm, a population that cannot be built) is fitted by
the analysis itself, as before. Nothing here draws random numbers, so the replicates'
streams are untouched.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from tacebench.estimators.kernels import BinomialFit, fit_glm_binomial_rows

from . import kernels
from .adjustments import ps_cache_key, ps_inputs, ps_result

__all__ = ["PS_FIT_METHODS", "batch_entries", "prefit_propensity"]

#: Adjustments whose runner fits the propensity model through the replicate cache.
PS_FIT_METHODS = frozenset({"iptw", "psm", "matching_weights", "optimal"})
#: Largest stack fitted at once, in design cells (``B * n * p``, 3 MB of designs): each
#: IRLS step passes over the ``(B, n, p)`` designs several times, and a stack that stays
#: in cache pays more than the fewer steps of a larger one. Measured on the LOCO stacks of
#: three studies (CPU, one BLAS thread, a shared machine): 0.77-0.81x the time of
#: 256-design stacks at 167 x 29 and 423 x 19, the same at 229 x 14; 2^17 and 2^20 cells
#: slower than this. A fit does not depend on the stack it shares.
MAX_STACK_CELLS = 3 * 2 ** 17


def prefit_propensity(entries: Sequence[Iterable[tuple]], cohorts: Sequence[Mapping],
                      caches: Sequence[Mapping[str, dict]]) -> int:
    """Fit the ``glm`` propensity models of a batch together and cache them.

    Parameters
    ----------
    entries : sequence of iterables of (CompiledAnalysis, CompiledAdjustment)
        Per replicate of the batch, the analyses (with the adjustment each will run:
        its own, a reading's or a LOCO variant's) whose propensity models to prefit.
    cohorts : sequence of mappings
        Per replicate, cohort name -> its columns.
    caches : sequence of mappings
        Per replicate, cohort name -> the cache dict its analyses share.

    Returns
    -------
    int
        The number of models fitted (each put in its replicate's cache).
    """
    groups: dict[tuple[int, int], list] = {}
    seen: set = set()
    for k, todo in enumerate(entries):
        blocks: dict = {}        # this replicate's design columns, term by term
        for ca, adj in todo:
            if (adj.method not in PS_FIT_METHODS or adj.ps_terms is None
                    or adj.options.get("ps_model", "glm") != "glm"):
                continue
            cols = cohorts[k][ca.analysis.cohort]
            cache = caches[k][ca.analysis.cohort]
            try:
                base = (np.arange(len(cols["treated"])) if adj.options.get("fit_on") ==
                        "cohort" else ca.subset(cols, cache).index)
                key = ps_cache_key(adj, base)
                if key in cache or (id(cache), key) in seen:
                    continue
                design = _design(adj.ps_terms, cols, base, blocks)
                rows, X, z = ps_inputs(adj, cols, base, design)
            except (kernels.FitFailure, ValueError, np.linalg.LinAlgError):
                continue            # the analysis meets it again and reports it
            seen.add((id(cache), key))
            groups.setdefault(X.shape, []).append((cache, key, adj, rows, X, z))
    fitted = 0
    for (n, p), jobs in groups.items():
        # equal parts under the budget (the intercept column included)
        size = -(-len(jobs) // -(-len(jobs) * n * (p + 1) // MAX_STACK_CELLS))
        for start in range(0, len(jobs), size):
            fitted += _fit_stack(jobs[start:start + size])
    return fitted


def batch_entries(plan, indices: Sequence[int]) -> list[list[tuple]]:
    """Per replicate of ``indices``, the (analysis, adjustment) pairs a reproduction
    ``plan`` (:class:`replications.reproduce.Plan`) runs on it: its analyses, the analysis
    variants of its readings and, on the decomposed replicates, the LOCO reruns."""
    common = ([(ca, ca.adjustment) for ca, _ in plan.runs]
              + [(ca, ca.adjustment) for ca, _, _ in plan.variants])
    loco = [(ca, adj) for ca, _, adj, _, _ in plan.loco]
    return [common + (loco if r < plan.decompose_reps else []) for r in indices]


def _design(terms, cols, base: np.ndarray, blocks: dict) -> np.ndarray:
    """``terms.matrix(cols, base)``, its columns taken from a matrix ``blocks`` holds (a
    replicate's LOCO variants leave one term each out of the same model: the model's
    matrix is built once, with every term's place in it, and each variant gathers its
    columns from it in one indexing)."""
    if not terms.parts:
        return terms.matrix(cols, base)
    where = (id(cols), base.tobytes())
    have = [blocks.get((where, id(part))) for part in terms.parts]
    if None in have:
        full = terms.matrix(cols, base)
        j = 0
        for part in terms.parts:
            blocks[(where, id(part))] = (full, j, j + len(part.names))
            j += len(part.names)
        return full
    source = have[0][0]
    if all(h[0] is source for h in have):
        return source[:, [c for _, a, b in have for c in range(a, b)]]
    return np.column_stack([m[:, a:b] for m, a, b in have])


def _fit_stack(jobs: list) -> int:
    """Fit one stack of designs of one shape and cache each fit."""
    z = np.stack([j[5] for j in jobs])
    Xa = np.empty(z.shape + (jobs[0][4].shape[1] + 1,))    # [1 | X] of each job
    Xa[:, :, 0] = 1.0
    for i, job in enumerate(jobs):
        Xa[i, :, 1:] = job[4]
    w = np.ones_like(z)
    coef, mu, eta, n_iter, converged, aliased, _ = fit_glm_binomial_rows(Xa, z, w)
    for i, (cache, key, adj, rows, X, zi) in enumerate(jobs):
        fit = BinomialFit(coef[i], mu[i], eta[i], int(n_iter[i]), bool(converged[i]),
                          aliased[i], "glm", Xa[i], zi, w[i])
        cache[key] = ps_result(adj, rows, X, zi, fit)
    return len(jobs)
