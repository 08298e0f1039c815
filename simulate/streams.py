"""Several replicates' generators drawn in lockstep, so one kernel serves one cohort or R.

The per-cohort kernel (:func:`simulate.cohort.cohort_columns`) draws its randomness
through a handful of :class:`numpy.random.Generator` methods, each with a size fixed
by the plan. :class:`LockstepDraws` offers the same methods over R generators: a call
draws that size from every replicate's generator in turn and returns the draws
stacked on a leading axis, shape ``(R, *size)``. Every generator therefore sees the
same calls, in the same order and with the same arguments, as in a one-cohort run, so
replicate ``r`` of a stacked run has the exact numbers of ``generate_cohort(seed=r's
seed)``; the transforms between the draws are elementwise or row-wise and run once on
the stacked rows.

A draw whose size depends on the data (the rejection loop of the logistic assignment
route) cannot be stacked: :func:`each` runs such a step per replicate.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


class LockstepDraws:
    """``Generator``-like source whose draws are stacked over replicates (axis 0).

    Parameters
    ----------
    rngs : sequence of numpy.random.Generator
        One generator per replicate, distinct objects (a generator listed twice would
        interleave two replicates' streams).
    """

    __slots__ = ("rngs",)

    def __init__(self, rngs: Sequence[np.random.Generator]) -> None:
        self.rngs = tuple(rngs)

    def __len__(self) -> int:
        return len(self.rngs)

    def _shape(self, size) -> tuple[int, ...]:
        return (len(self.rngs),) + ((int(size),) if np.ndim(size) == 0 else tuple(int(s) for s in size))

    def standard_normal(self, size) -> np.ndarray:
        out = np.empty(self._shape(size))
        for g, o in zip(self.rngs, out):
            g.standard_normal(out=o)  # the same stream as standard_normal(size)
        return out

    def random(self, size) -> np.ndarray:
        out = np.empty(self._shape(size))
        for g, o in zip(self.rngs, out):
            g.random(out=o)
        return out

    def exponential(self, scale: float, size) -> np.ndarray:
        out = np.empty(self._shape(size))
        for r, g in enumerate(self.rngs):
            out[r] = g.exponential(scale, size)
        return out

    def gamma(self, shape: float, scale: float, size) -> np.ndarray:
        out = np.empty(self._shape(size))
        for r, g in enumerate(self.rngs):
            out[r] = g.gamma(shape, scale, size)
        return out


def each(rng: "np.random.Generator | LockstepDraws", step: Callable[[np.random.Generator], tuple]) -> tuple:
    """``step(rng)`` for one generator; per replicate for :class:`LockstepDraws`.

    ``step`` returns a tuple of arrays (or ``None``); per replicate the results are
    stacked on a new leading axis (``None`` stays ``None``).
    """
    if not isinstance(rng, LockstepDraws):
        return step(rng)
    results = [step(g) for g in rng.rngs]
    return tuple(None if parts[0] is None else np.stack(parts) for parts in zip(*results))


__all__ = ["LockstepDraws", "each"]
