"""survival_sweep: exp(-H0 r) along a grid, by multiplies inside lattice blocks."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.simulate.survival import baseline_cumhaz, cumulative_at_knots
from tacebench.simulate.survival_sweep import (GRID_LATTICES, LINE_ULPS, RUN, Lattice,
                                               survival_sweep)
from tacebench.simulate.truth import _grid

KNOTS = np.array([0.0, 3.0, 12.0, 24.0, 48.0])
RATES = np.array([0.05, 0.08, 0.06, 0.04, 0.03])
CUM = cumulative_at_knots(KNOTS, RATES)
EPS = np.finfo(float).eps


def cumhaz(t):
    return baseline_cumhaz(t, KNOTS, RATES, CUM)


def sweep(grid, risk, lattices=GRID_LATTICES) -> np.ndarray:
    grid = np.asarray(grid, dtype=float)
    return np.array([s.copy() for s in survival_sweep(grid, KNOTS, RATES, CUM, risk,
                                                       lattices)])


@pytest.fixture(scope="module")
def risk():
    return np.exp(np.random.default_rng(3).normal(scale=1.2, size=2000))


def test_every_value_is_exp_within_the_documented_bound(risk):
    grid = _grid(600.0, 13.33, 12.0, "os")
    got = sweep(grid, risk)
    H = cumhaz(grid)[:, None] * risk[None, :]
    want = np.exp(-H)
    bound = (LINE_ULPS * H + 1.5 * RUN + 1) * EPS * want
    normal = want >= np.finfo(float).tiny       # (subnormals keep fewer digits)
    assert normal.mean() > 0.9
    assert (np.abs(got - want)[normal] <= bound[normal]).all()
    assert np.abs(got - want).max() <= 1.1e-14
    # the multiplies are taken (the bound is not met by exp itself alone)
    assert (got != want).any()


def test_off_lattice_times_and_block_starts_are_exp_itself(risk):
    grid = _grid(600.0, 13.33, 12.0, "os")
    got = sweep(grid, risk)
    want = np.exp(-cumhaz(grid)[:, None] * risk[None, :])
    off = grid == 13.33     # on no lattice
    assert off.any() and np.array_equal(got[off], want[off])
    # a block's first time: on a lattice (the first it lies on) at an index divisible by RUN
    first = [next((i for lat in GRID_LATTICES if (i := lat.index(float(t))) is not None),
                  None) for t in grid]
    start = np.array([i is not None and i % RUN == 0 for i in first])
    assert start.sum() > 10
    assert np.array_equal(got[start], want[start])
    # with no lattice every value is exp's
    assert np.array_equal(sweep(grid, risk, ()), want)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_a_time_s_value_does_not_depend_on_the_other_times_of_the_grid(data):
    """The property that lets a pair's truth equal its single call: the value at a time is
    the same on any grid holding it."""
    risk = np.exp(np.random.default_rng(data.draw(st.integers(0, 99))).normal(size=50))
    grid = _grid(600.0, 24.0, 6.0, "os")
    keep = np.sort(data.draw(st.lists(st.integers(0, len(grid) - 1), min_size=1,
                                      max_size=60, unique=True)))
    full = sweep(grid, risk)
    assert np.array_equal(sweep(grid[keep], risk), full[keep])


def test_a_block_across_a_knot_is_computed_by_exp(risk):
    """The block holding the knot at 3 months leaves its line: every value there is exp's;
    the block after it (3.2 to 4.8 months) is on one piece again and is multiplied."""
    grid = np.arange(0.0, 6.0, 0.05)
    got = sweep(grid, risk)
    want = np.exp(-cumhaz(grid)[:, None] * risk[None, :])
    across = (grid >= 1.6) & (grid < 3.2)
    assert np.array_equal(got[across], want[across])
    assert (got[(grid > 3.2) & (grid < 4.8)] != want[(grid > 3.2) & (grid < 4.8)]).any()


def test_lattice_index_is_exact():
    lat = Lattice(60.0, 0.5)
    assert lat.index(60.0) == 0 and lat.index(60.0 + 7 * 0.5) == 7
    assert lat.index(59.5) is None and lat.index(60.25) is None
    fine = Lattice(0.0, 0.05)
    assert fine.index(3 * 0.05) == 3 and fine.index(0.15) is None  # 3 * 0.05 is not 0.15
    assert fine.index(13.33) is None
    assert fine.index(float("inf")) is None and fine.index(float("nan")) is None
