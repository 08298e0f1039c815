"""Conditional survival ``exp(-H0(t) r_i)`` of many subjects along a time grid, with an
exp only every few grid points.

The exact true curves (:mod:`simulate.potential_curves`, :mod:`simulate.truth_populations`)
average ``exp(-H0(t) r_i)`` over a covariate sample of 50 000 subjects at each of some
2 000 grid points: 10^8 exps, most of a scenario's true values. Inside one piece of the
piecewise-constant baseline, times ``t_i = origin + i * step`` of a lattice raise ``H0`` by
equal steps ``d``, so ``exp(-H0(t_{i+1}) r) = exp(-H0(t_i) r) exp(-d r)``: one multiply per
subject instead of an exp.

:func:`survival_sweep` splits each :class:`Lattice` into blocks of :data:`RUN` steps; a
block whose ``H0`` lies on a line (within :data:`LINE_ULPS` units in the last place) starts
from the exact ``exp(-H0 r)`` at its first time and multiplies by ``exp(-d r)`` step by step,
through the lattice times between the grid's, to each grid time in it. A grid time on no
lattice, or in a block that crosses a knot, gets ``exp(-H0 r)`` itself. So the value at a
time depends on that time alone, never on the other times of the grid: a truth computed on
a grid equals, number for number, the same truth on a grid with more times (the pairs of
:func:`simulate.truth.true_estimands_at` and their single calls, cached under one key).

Accuracy: the exponent differs from ``H0(t) r`` by at most ``LINE_ULPS * H0 r`` units in
the last place (the rounding of ``H0 * r`` itself is ``H0 r`` units), and the products add
at most ``1.5 RUN + 1`` units of relative rounding: a relative error of
``(8 H0 r + 49) * 2.2e-16``, ~1e-14 wherever the survival is not negligible (a value
below the smallest normal double, 2.2e-308, keeps fewer digits), and an absolute
error of at most ``(8/e + 49) * 2.2e-16 = 1.1e-14`` everywhere (``x e^-x <= 1/e``).
tests/simulate/test_survival_sweep.py checks it against exp at every point. That is far
below the 1e-10 at which a true value is said to be unchanged, and below any Monte Carlo
error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from .survival import baseline_cumhaz

__all__ = ["GRID_LATTICES", "LINE_ULPS", "Lattice", "RUN", "survival_sweep"]

#: Steps of a block: the most multiplies before ``exp`` is taken afresh (bounds the
#: rounding they add).
RUN = 32
#: How far (in units in the last place of ``H0``) a time of a block may lie off its line.
LINE_ULPS = 8


@dataclass(frozen=True)
class Lattice:
    """The times ``origin + i * step`` (``i = 0, 1, ...``, computed by that expression, as
    ``np.arange(origin, stop, step)`` computes them)."""

    origin: float
    step: float

    def index(self, t: float) -> int | None:
        """``i`` with ``origin + i * step == t`` exactly, else None (also for a time that
        is not finite)."""
        if not math.isfinite(t):
            return None
        i = round((t - self.origin) / self.step)
        return i if i >= 0 and self.origin + i * self.step == t else None


#: The lattices of the true curves' grids (:func:`simulate.truth._grid`,
#: :func:`simulate.truth_populations._population_grid`: every 0.05 month to 60 months,
#: then every half month from there; ``np.arange(0, 60.025, 0.05)`` ends at 60.0 exactly).
#: A time is placed on the first lattice it lies on: the half months after 60 lie on the
#: fine lattice as well, where each would cost ten multiplies.
GRID_LATTICES = (Lattice(60.0, 0.5), Lattice(0.0, 0.05))


def _block_line(lattice: Lattice, block: int, knots, rates, cum) -> tuple[float, float] | None:
    """``(H0 at the block's first time, its step d)`` when ``H0`` at the block's
    ``RUN + 1`` times lies on that line, else None."""
    m = np.arange(RUN + 1)
    H = baseline_cumhaz(lattice.origin + (block * RUN + m) * lattice.step, knots, rates, cum)
    d = (H[-1] - H[0]) / RUN
    off = np.abs(H[0] + m * d - H)
    if not np.isfinite(d) or (off > LINE_ULPS * np.finfo(float).eps * np.abs(H)).any():
        return None
    return float(H[0]), float(d)


def survival_sweep(grid: np.ndarray, knots: np.ndarray, rates: np.ndarray, cum: np.ndarray,
                   risk: np.ndarray, lattices: Sequence[Lattice] = GRID_LATTICES
                   ) -> Iterator[np.ndarray]:
    """``exp(-H0(grid[j]) * risk)`` for ``j = 0, 1, ...``, one array per grid time, with
    ``H0 = baseline_cumhaz(., knots, rates, cum)``.

    Parameters
    ----------
    grid : (g,) float array
        Times, ascending (any order is right; ascending is fast).
    knots, rates, cum : float arrays
        The piecewise-constant baseline (:func:`simulate.survival.baseline_cumhaz`).
    risk : (n,) float array
        Relative hazards ``exp(eta_i)`` (positive).
    lattices : sequence of Lattice
        Lattices the grid's times lie on (module notes; default those of the true curves'
        grids), a time placed on the first it lies on; a time on none is computed by exp.

    Yields
    ------
    (n,) float array
        The subjects' survival at the next grid time. The same buffer is yielded each time
        and overwritten by the next step: use it (or copy it) before asking for the next.

    Notes
    -----
    Equal to ``np.exp(-H0(grid[j]) * risk)`` to rounding (module notes), exactly at a time on no
    lattice or at a block's first time. The value at a time depends on that time alone,
    and is computed element for element: the values of equal risks are equal, so spreading
    them back to subjects (``take``) gives the values of every subject.
    """
    H0 = baseline_cumhaz(grid, knots, rates, cum)
    cur = np.empty(len(risk))
    lines: dict = {}
    at = None                           # (lattice, block, i) of ``cur``
    for j, t in enumerate(grid):
        where = next(((k, i) for k, lat in enumerate(lattices)
                      if (i := lat.index(float(t))) is not None), None)
        if where is not None:
            k, i = where
            block = i // RUN
            if (k, block) not in lines:
                lines[(k, block)] = _block_line(lattices[k], block, knots, rates, cum)
            line = lines[(k, block)]
        if where is None or line is None:
            np.exp(-H0[j] * risk, out=cur)
            at = None
            yield cur
            continue
        if at is None or at[:2] != (k, block) or at[2] > i:
            np.exp(-line[0] * risk, out=cur)
            factor = np.exp(-line[1] * risk)
            at = (k, block, block * RUN)
        for _ in range(i - at[2]):
            cur *= factor
        at = (k, block, i)
        yield cur
