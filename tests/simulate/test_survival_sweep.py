"""survival_sweep: exp(-H0 r) along a grid, by multiplies inside lattice blocks."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.simulate.survival import (TherapySegments, baseline_cumhaz, cumulative_at_knots,
                                        marginal_curve)
from tacebench.simulate.survival_sweep import (GRID_LATTICES, LINE_ULPS, RUN, SWEEP_MIN_RISKS,
                                               Lattice, survival_sweep, swept_marginal_curve,
                                               therapy_cumhaz_along)
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


@pytest.mark.parametrize("risk_weighted", [False, True])
def test_the_swept_marginal_curve_is_the_exact_one_to_the_sweep_s_rounding(risk_weighted):
    """Thousands of distinct linear predictors: the sweep's values, each within its bound of
    marginal_curve's (an average of values each within an absolute 1.1e-14, with weights
    summing to 1, or to the mean risk when risk-weighted); fewer: marginal_curve itself."""
    rng = np.random.default_rng(5)
    grid = np.arange(0.0, 46.025, 0.05)
    lp = rng.normal(scale=0.8, size=3 * SWEEP_MIN_RISKS)
    want = marginal_curve(grid, KNOTS, RATES, lp, risk_weighted=risk_weighted)
    got = swept_marginal_curve(grid, KNOTS, RATES, lp, risk_weighted=risk_weighted)
    scale = np.exp(lp).mean() if risk_weighted else 1.0
    assert np.abs(got - want).max() <= 1.1e-14 * scale
    assert (got != want).any()                  # the sweep is taken
    few = np.round(lp, 1)                       # a few dozen distinct values
    assert np.unique(few).size < SWEEP_MIN_RISKS
    assert np.array_equal(swept_marginal_curve(grid, KNOTS, RATES, few, risk_weighted=risk_weighted),
                          marginal_curve(grid, KNOTS, RATES, few, risk_weighted=risk_weighted))
    # a time's value does not depend on the grid's other times
    keep = np.arange(3, len(grid), 7)
    assert np.array_equal(swept_marginal_curve(grid[keep], KNOTS, RATES, lp,
                                               risk_weighted=risk_weighted), got[keep])


@pytest.mark.parametrize("b", [0.0, -0.05, 0.03])
@pytest.mark.parametrize("with_entry", [False, True])
def test_the_therapy_cumhaz_along_a_grid_is_cumhaz_at_each_time_bit_for_bit(b, with_entry):
    """Seven knots (nine segments a patient, past the eight at which numpy's sums pair their
    terms), starts at 0 and later, courses ending inside and beyond the grid, entries."""
    rng = np.random.default_rng(11)
    knots = np.array([0.0, 2.0, 4.0, 6.0, 9.0, 12.0, 24.0])
    rates = rng.uniform(0.02, 0.12, len(knots))
    n = 400
    start = np.where(rng.random(n) < 0.3, 0.0, rng.exponential(1.0, n))
    dur = rng.gamma(1.2, 9.0, n)
    seg = TherapySegments.build(knots, start, dur, start + 1.0 if with_entry else None)
    grid = np.concatenate([np.arange(0.0, 40.0, 0.05), start[:5] + dur[:5], [13.33]])
    for t, h in zip(grid, therapy_cumhaz_along(seg, grid, rates, b)):
        assert np.array_equal(h, seg.cumhaz(t, rates, b)), t
