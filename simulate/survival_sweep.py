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

from .survival import (TherapySegments, _seg_integral, baseline_cumhaz, cumulative_at_knots,
                       marginal_curve)

__all__ = ["GRID_LATTICES", "LINE_ULPS", "Lattice", "RUN", "SWEEP_MIN_RISKS", "survival_sweep",
           "swept_marginal_curve", "therapy_cumhaz_along"]

#: Steps of a block: the most multiplies before ``exp`` is taken afresh (bounds the
#: rounding they add).
RUN = 32
#: How far (in units in the last place of ``H0``) a time of a block may lie off its line.
LINE_ULPS = 8
#: Distinct risks from which :func:`swept_marginal_curve` sweeps: below it the Python step
#: per grid time costs more than the exps it saves (an exp is ~15 ns, a time's step ~8 us).
SWEEP_MIN_RISKS = 1024


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


def swept_marginal_curve(grid: np.ndarray, knots: np.ndarray, rates: np.ndarray,
                         lin_pred: np.ndarray, *, risk_weighted: bool = False,
                         lattices: Sequence[Lattice] = GRID_LATTICES) -> np.ndarray:
    """:func:`simulate.survival.marginal_curve` (``mean_i exp(-H0(t) exp(lin_pred_i))``,
    or its risk-weighted form) with the exps of :func:`survival_sweep`.

    For a sample of many distinct linear predictors (a continuous covariate with an effect:
    thousands of curves where discrete covariates give a few dozen) on a lattice grid.
    With fewer than :data:`SWEEP_MIN_RISKS` distinct ones it is ``marginal_curve`` itself,
    bit for bit.

    Parameters
    ----------
    grid, knots, rates, lin_pred, risk_weighted
        As for :func:`simulate.survival.marginal_curve`.
    lattices : sequence of Lattice
        As for :func:`survival_sweep`.

    Returns
    -------
    (g,) float array
        Each value equal to ``marginal_curve``'s to the sweep's rounding (module notes:
        every exp within an absolute 1.1e-14, so a mean of them too; times the mean risk
        when risk-weighted), and depending on its own time only.
    """
    lp, mult = np.unique(lin_pred, return_counts=True)
    if lp.size < SWEEP_MIN_RISKS:
        return marginal_curve(grid, knots, rates, lin_pred, risk_weighted=risk_weighted)
    grid = np.asarray(grid, float)
    w, risk = mult / len(lin_pred), np.exp(lp)
    if risk_weighted:
        w = w * risk
    out = np.empty(len(grid))
    for j, alive in enumerate(survival_sweep(grid, knots, rates, cumulative_at_knots(knots, rates),
                                             risk, lattices)):
        out[j] = w @ alive
    return out


def therapy_cumhaz_along(segments: TherapySegments, grid: np.ndarray, rates: np.ndarray,
                         b: float) -> Iterator[np.ndarray]:
    """:meth:`TherapySegments.cumhaz <simulate.survival.TherapySegments.cumhaz>` at each
    time of ``grid`` in turn, number for number.

    ``cumhaz(t)`` integrates every segment of every patient afresh (two exps per segment
    when the therapy changes the hazard), though a segment that ends by ``t`` adds the same
    whole integral at every later time and one that starts after ``t`` adds exactly 0.
    Here the whole integrals are computed once; at each time only the segment ``t`` falls
    in is integrated, by the same expression on the same inputs, and the segments are
    summed as ``cumhaz`` sums them (the same array, so the same doubles; a segment after
    ``t`` is 0.0 where ``cumhaz`` may give -0.0, which no sum tells apart).

    Parameters
    ----------
    segments : TherapySegments
    grid : (g,) float array
        Times (any order).
    rates : (k,) float array
        The baseline's piecewise-constant hazards.
    b : float
        Log-HR per month on therapy.

    Yields
    ------
    (n,) float array
        The patients' cumulative hazard at the next grid time (a new array each time).
    """
    seg = segments
    if seg.entry is not None and b == 0.0:       # the baseline's own H0: no segments
        for t in grid:
            yield seg.cumhaz(t, rates, b)
        return
    h = rates[seg.piece]
    whole = _seg_integral(seg.left, seg.right, h, seg.during, seg.after, seg.start, seg.dur, b)
    # cumhaz counts from the entry: H(max(t, entry)) - H(entry), the second term the same
    # array at every time
    at_entry = None if seg.entry is None else seg._from_zero(seg.entry, rates, b)
    buf = np.empty_like(whole)
    for t in grid:
        tt = (np.full(seg.start.shape, float(t)) if seg.entry is None
              else np.maximum(np.broadcast_to(float(t), seg.start.shape), seg.entry))
        col = tt[:, None]
        done = seg.right <= col
        buf.fill(0.0)
        np.copyto(buf, whole, where=done)
        rows, cols = np.nonzero(~done & (seg.left < col))      # the segment t falls in
        if rows.size:
            lo = np.minimum(seg.left[rows, cols], tt[rows])[:, None]
            hi = np.minimum(seg.right[rows, cols], tt[rows])[:, None]
            buf[rows, cols] = _seg_integral(lo, hi, h[rows, cols][:, None],
                                            seg.during[rows, cols][:, None],
                                            seg.after[rows, cols][:, None], seg.start[rows],
                                            seg.dur[rows], b)[:, 0]
        total = buf.sum(axis=1)
        yield total if at_entry is None else total - at_entry
