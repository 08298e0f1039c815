"""The methods of one chunk of replicates, batched across replicates where a family can.

A chunk's replicates of one scenario share their size, so a method family with a batched
entry point (``fit_batch``, :func:`benchmarks.methods.get_fit_batch`) fits them as one
stack; a replicate it hands back (``None``: separation, a zero or infinite weight, a fit
the batch kernel refitted alone), every replicate of a family without one, and every
replicate of a batch that raised or warned, is fitted by the one-replicate ``fit``, which
gives its error and warning strings. The numbers are those of the one-replicate path (the
batched kernels are checked against it), whatever the batch size: batching changes no
stream of randomness (methods that draw random numbers are always fitted alone).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from tacebench.engine import batches, record_warnings

from .methods import get_fit_batch


def generate_chunk(dgm, seeds: dict[int, np.random.SeedSequence]) -> tuple[dict, dict]:
    """``(datas, errors)``: each replicate's cohort columns (replicate -> columns) or its
    generation error (replicate -> message).

    Drawn as one stack where the generator offers it (``dgm.generate_batch``; the cohort
    generator's replicates are those of ``generate`` on the same seeds, so the numbers do
    not depend on the chunk); if the stack raises, each replicate is drawn alone, which
    says which one failed and why.
    """
    reps = list(seeds)
    if dgm.generate_batch is not None and len(reps) > 1:
        try:
            return dict(zip(reps, dgm.generate_batch(
                [np.random.default_rng(seeds[rep]) for rep in reps]))), {}
        except Exception:  # noqa: BLE001 -- drawn again one by one, which reports it
            pass
    datas, errors = {}, {}
    for rep in reps:
        try:
            datas[rep] = dgm.generate(np.random.default_rng(seeds[rep]))
        except Exception as exc:
            errors[rep] = f"data generation failed: {type(exc).__name__}: {exc}"[:500]
    return datas, errors


def _batched(fit_batch, datas: list, config: dict, shared: dict) -> list:
    """``fit_batch``'s outputs, or all ``None`` if it raised or warned (the one-replicate
    fits then say what happened, replicate by replicate)."""
    with record_warnings() as caught:  # this thread's warnings only
        try:
            outs = fit_batch(datas, config, shared)
        except Exception:  # noqa: BLE001 -- the one-replicate path reports it per replicate
            return [None] * len(datas)
    if caught or len(outs) != len(datas):
        return [None] * len(datas)
    return outs


def fit_chunk(methods: list, datas: dict[int, dict], batch_size: int | None,
              call_one: Callable) -> dict[tuple[int, int], tuple]:
    """``(output, error, warning)`` of every (replicate, method) of a chunk.

    Parameters
    ----------
    methods : list of ``(k, method, fit, config, uses_rng)``
        As :func:`benchmarks.runner.run_chunk` prepares them.
    datas : dict
        Replicate -> its cohort columns (replicates whose generation failed left out).
    batch_size : int or None
        Replicates per batch (None: the whole chunk).
    call_one : callable
        ``call_one(rep, j) -> (output, error, warning)``: the one-replicate fit of the
        ``j``-th entry of ``methods``.

    Returns
    -------
    dict
        ``(rep, j) -> (MethodOutput or None, error, warning)``.
    """
    out: dict[tuple[int, int], tuple] = {}
    for reps in batches(sorted(datas), batch_size):
        by_size: dict[int, list[int]] = {}
        for rep in reps:
            by_size.setdefault(len(datas[rep]["treated"]), []).append(rep)
        for group in by_size.values():
            shared: dict = {}
            batch = [datas[rep] for rep in group]
            for j, (_, m, _, config, uses_rng) in enumerate(methods):
                fit_batch = None if uses_rng else get_fit_batch(m.family)
                outs = (_batched(fit_batch, batch, config, shared) if fit_batch is not None
                        else [None] * len(group))
                for rep, o in zip(group, outs):
                    out[(rep, j)] = (o, "", "") if o is not None else call_one(rep, j)
    return out

