"""The rows of a Monte Carlo run: cells (scenario, world, reading, study) x replicates.

A :class:`Design` is a tuple of :class:`Cell`; a cell has a seed path (its place in the seed
scheme, :mod:`tacebench.engine.seeds`) and a number of replicates. Work is sent to workers as
:class:`Chunk` - contiguous replicates of one cell - planned round-robin over cells so every
cell progresses evenly, skipping replicates already done (resume).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from .seeds import PathPart, stream_seed

__all__ = ["MAX_REPS", "Cell", "Chunk", "Design", "default_chunk_size", "plan_chunks"]

#: The most replicates a cell may ask for. A default replication takes 200 per study; a
#: million of one study is hours of CPU and gigabytes of draws, and a count far beyond it
#: (``--reps 99999999999999999999``) only failed inside numpy (an array too large to
#: allocate), with a traceback instead of the argument's name.
MAX_REPS = 1_000_000


@dataclass(frozen=True)
class Cell:
    """One cell of the design: ``reps`` replicates whose seeds hang under ``path``.

    ``index`` is the cell's position in the design (stable: results are keyed by it).
    """

    index: int
    name: str
    path: tuple[PathPart, ...]
    reps: int

    def seed(self, root: int, r: int, *stream: PathPart) -> "np.random.SeedSequence":
        """The seed of replicate ``r`` (and of a named sub-stream of it)."""
        return stream_seed(root, *self.path, r, *stream)


@dataclass(frozen=True)
class Chunk:
    """Replicates ``[start, stop)`` of one cell: the unit of work sent to a worker."""

    cell: int
    start: int
    stop: int

    @property
    def reps(self) -> range:
        return range(self.start, self.stop)

    def __len__(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Design:
    """A run's cells and root seed."""

    cells: tuple[Cell, ...]
    seed: int

    @property
    def total(self) -> int:
        return sum(c.reps for c in self.cells)

    def seeds(self, cell: int = 0) -> list["np.random.SeedSequence"]:
        """The replicate seeds of one cell, in order."""
        c = self.cells[cell]
        return [c.seed(self.seed, r) for r in range(c.reps)]

    @classmethod
    def of(cls, paths: Mapping[str, tuple[PathPart, ...]], reps: int, seed: int) -> "Design":
        """Cells named as ``paths``' keys, in order, each with ``reps`` replicates."""
        if isinstance(reps, bool) or not isinstance(reps, int) or not 1 <= reps <= MAX_REPS:
            raise ValueError(f"reps: must be an integer from 1 to {MAX_REPS}; got {reps!r}")
        return cls(tuple(Cell(i, name, tuple(p), reps) for i, (name, p) in
                         enumerate(paths.items())), int(seed))


def default_chunk_size(reps: int, workers: int, lo: int = 5, hi: int = 200) -> int:
    """About four chunks per worker and cell, between ``lo`` and ``hi`` replicates."""
    return int(np.clip(math.ceil(reps / (4 * max(1, workers))), lo, hi))


def plan_chunks(design: Design, chunk_size: int,
                done: Mapping[int, np.ndarray] | None = None) -> list[Chunk]:
    """Contiguous ranges of missing replicates, at most ``chunk_size`` long, round-robin
    over cells. ``done`` maps a cell index to a boolean mask of replicates already done."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size: must be a positive integer; got {chunk_size!r}")
    done = done or {}
    per_cell = []
    for c in design.cells:
        mask = np.zeros(c.reps, dtype=bool)
        have = done.get(c.index)
        if have is not None:
            m = min(c.reps, have.size)
            mask[:m] = have[:m]
        ranges = []
        r = 0
        while r < c.reps:
            if mask[r]:
                r += 1
                continue
            stop = r
            while stop < c.reps and not mask[stop] and stop - r < chunk_size:
                stop += 1
            ranges.append(Chunk(c.index, r, stop))
            r = stop
        per_cell.append(ranges)
    out: list[Chunk] = []
    for i in range(max((len(p) for p in per_cell), default=0)):
        out.extend(p[i] for p in per_cell if i < len(p))
    return out
