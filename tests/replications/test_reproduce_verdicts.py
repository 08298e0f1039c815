"""Verdicts from simulated distributions: constructed draws with known answers.

The rule under test (replications.verdicts): z = Phi^-1(F(y)) with F the mid-rank
empirical CDF of the estimable draws; reproduced <=> 0.025 <= F(y) <= 0.975 <=> |z| <= 1.96
<=> y in the displayed interval; borderline <=> | |z| - 1.96 | < 0.5; not estimable when
fewer than 80% of the replicates give a draw.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tacebench.replications.verdicts import (BORDERLINE_Z, MIN_ESTIMABLE, Z_CRIT, judge, midrank_cdf,
                                   midrank_interval)


@pytest.fixture(scope="module")
def normal():
    # exact normal quantiles: the 2.5% and 97.5% points are -1.96 and +1.96
    return stats.norm.ppf((np.arange(1, 4001) - 0.5) / 4000)


def old_z(draws, y):
    """The previous rule's z: (y - median) / (1.4826 MAD)."""
    m = np.median(draws)
    return (y - m) / (1.4826 * np.median(np.abs(draws - m)))


def test_inside_outside_and_z(normal):
    j = judge(normal, 1.0)
    assert j.verdict == "reproduced" and j.z == pytest.approx(1.0, abs=0.01)
    assert j.lo == pytest.approx(-1.96, abs=0.01) and j.hi == pytest.approx(1.96, abs=0.01)
    assert not j.borderline and not j.z_extrapolated
    assert j.position == pytest.approx(stats.norm.cdf(1.0), abs=1e-3)
    j = judge(normal, 2.5)
    assert j.verdict == "not reproduced" and j.z == pytest.approx(2.5, abs=0.01)
    assert not j.borderline            # 0.54 beyond 1.96 on the z scale


@pytest.mark.parametrize("y, border", [(1.55, True), (2.3, True), (1.4, False), (2.5, False),
                                       (-1.5, True), (-2.45, True), (-2.47, False)])
def test_borderline_band_is_half_a_z_around_the_critical_value(normal, y, border):
    j = judge(normal, y)
    assert j.borderline is border
    assert j.borderline == (abs(abs(j.z) - Z_CRIT) < BORDERLINE_Z)


def test_log_scale_for_ratios(normal):
    draws = np.exp(0.7 * normal - 0.2)         # log HR ~ N(-0.2, 0.7^2)
    j = judge(draws, math.exp(-0.2 + 0.7), "log")
    assert j.z == pytest.approx(1.0, abs=0.01)
    assert j.median == pytest.approx(math.exp(-0.2), rel=1e-3)
    assert j.robust_sd == pytest.approx(0.7, rel=0.01)


def test_inverse_scale_keeps_interval_ordered():
    draws = 1.0 / np.linspace(0.05, 0.15, 201)     # NNT from ARR in [0.05, 0.15]
    j = judge(draws, 10.0, "inverse")
    assert j.lo < j.median < j.hi and j.verdict == "reproduced"


def test_degenerate_distribution():
    j = judge(np.full(50, 82.0), 82.0)
    assert j.verdict == "reproduced" and j.z == 0.0 and j.lo == j.hi == 82.0
    j = judge(np.full(50, 82.0), 80.0)
    assert j.verdict == "not reproduced" and j.z == -math.inf and j.z_extrapolated


# --- skewed distributions: where the robust-SD z and the percentile rule disagreed ------

@pytest.fixture(scope="module")
def skewed():
    # a right-skewed quantity (|SMD|-like, lognormal): long upper tail, short lower one
    return np.exp(stats.norm.ppf((np.arange(1, 201) - 0.5) / 200))


def test_long_tail_inside_the_interval_is_reproduced_with_z_below_1_96(skewed):
    y = float(np.exp(1.7))              # between the 95th and 96th percentiles
    assert old_z(skewed, y) > 2.1       # the old z said "far out" ...
    j = judge(skewed, y)
    assert j.verdict == "reproduced"    # ... for a value inside the central 95%
    assert 1.6 < j.z < Z_CRIT and j.z == pytest.approx(1.7, abs=0.03)


def test_short_tail_outside_the_interval_is_not_reproduced_with_z_beyond_1_96(skewed):
    y = float(np.exp(-2.2))             # below the 2.5th percentile, close to the median
    assert abs(old_z(skewed, y)) < 1.1  # the old z said "close" ...
    j = judge(skewed, y)
    assert j.verdict == "not reproduced" and j.z < -Z_CRIT      # ... for a value outside
    assert j.z == pytest.approx(-2.2, abs=0.03) and not j.z_extrapolated


def test_skewed_rate_near_zero_with_ties():
    # a rate near 0: 60 of 200 replicates give exactly 0
    draws = np.r_[np.zeros(60), np.linspace(0.005, 0.08, 140)]
    j = judge(draws, 0.0)
    assert j.position == pytest.approx(30 / 200)               # mid-rank of the tie block
    assert j.z == pytest.approx(stats.norm.ppf(0.15)) and j.verdict == "reproduced"
    assert j.lo == 0.0


def test_tie_block_straddling_the_bound_is_judged_by_its_mid_rank():
    # 6 of 200 draws at 0: the value 0 sits at mid-rank 3/200 = 1.5% < 2.5%
    draws = np.r_[np.zeros(6), np.linspace(0.01, 0.2, 194)]
    j = judge(draws, 0.0)
    assert j.position == pytest.approx(0.015) and j.verdict == "not reproduced"
    assert j.z < -Z_CRIT and j.lo > 0.0                         # the interval excludes 0


# --- the rule's coherence, on arbitrary draws ------------------------------------------

draw_values = st.one_of(st.integers(-5, 5).map(float),      # ties
                        st.floats(-50, 50, allow_nan=False), st.just(math.inf))


@settings(max_examples=300, deadline=None)
@given(st.lists(draw_values, min_size=5, max_size=60), st.floats(-60, 60, allow_nan=False))
def test_verdict_interval_and_z_agree(draws, y):
    draws = np.array(draws)
    j = judge(draws, y)
    if j.verdict == "not estimable":            # a majority of infinite draws
        assert np.isinf(np.median(draws))
        return
    inside = j.lo <= y <= j.hi
    near_end = any(math.isfinite(e) and abs(y - e) <= 1e-9 * (1 + abs(e)) for e in (j.lo, j.hi))
    if not near_end:                            # rounding of the interpolated ends
        assert inside == (j.verdict == "reproduced"), (j, y)
    assert (j.verdict == "reproduced") == (abs(j.z) <= Z_CRIT), j
    assert j.borderline == (abs(abs(j.z) - Z_CRIT) < BORDERLINE_Z)
    assert j.z_extrapolated == (y < draws.min() or y > draws.max())
    if j.z_extrapolated:
        assert j.verdict == "not reproduced" and abs(j.z) >= Z_CRIT


@settings(max_examples=200, deadline=None)
@given(st.lists(draw_values, min_size=5, max_size=60),
       st.floats(-60, 60, allow_nan=False), st.floats(0, 30, allow_nan=False))
def test_z_is_monotone_in_the_reported_value(draws, y, step):
    draws = np.array(draws)
    a, b = judge(draws, y), judge(draws, y + step)
    if a.verdict != "not estimable":
        assert b.z >= a.z - 1e-12
        assert midrank_cdf(draws, y + step) >= midrank_cdf(draws, y)


def test_interval_without_ties_is_hazens_percentile():
    v = np.sort(np.random.default_rng(1).normal(size=200))
    lo, hi = midrank_interval(v)
    assert lo == pytest.approx(np.quantile(v, 0.025, method="hazen"))
    assert hi == pytest.approx(np.quantile(v, 0.975, method="hazen"))


def test_extrapolated_z_is_at_least_the_most_extreme_draws(normal):
    sub = normal[::20]                                          # 200 draws
    edge = stats.norm.ppf(0.5 / 200)                            # -2.81
    inner = judge(sub, sub.min())                               # the extreme draw itself
    assert not inner.z_extrapolated and inner.z == pytest.approx(edge)
    j = judge(sub, sub.min() - 1e-6)                            # just beyond: robust SD
    assert j.z_extrapolated and j.z == pytest.approx(min(old_z(sub, sub.min()), edge))
    far = judge(sub, -10.0)
    assert far.z == pytest.approx(old_z(sub, -10.0)) and far.z < j.z <= edge



def test_extrapolated_z_is_floored_where_the_robust_sd_says_close(skewed):
    y = 0.9 * skewed.min()              # below every draw of a short lower tail
    assert abs(old_z(skewed, y)) < 1.3
    j = judge(skewed, y)
    assert j.z_extrapolated and j.verdict == "not reproduced"
    assert j.z == pytest.approx(stats.norm.ppf(0.5 / 200))     # the extreme draw's z


# --- estimability ----------------------------------------------------------------------

def test_not_estimable_below_the_share():
    x = np.full(100, np.nan)
    x[:79] = np.linspace(0, 1, 79)
    j = judge(x, 0.5, failures={"propensity model separated": 21})
    assert j.verdict == "not estimable" and MIN_ESTIMABLE == 0.8
    assert j.reason.startswith("estimable 79/100: propensity model separated in 21")
    assert j.n_estimable == 79 and j.estimable_share == pytest.approx(0.79)


def test_verdict_on_the_estimable_replicates_at_or_above_the_share():
    vals = np.linspace(0, 1, 80)
    x = np.r_[vals, np.full(20, np.nan)]
    j = judge(x, 0.9, failures={"Cox likelihood monotone (a coefficient diverges)": 20})
    ref = judge(vals, 0.9)
    assert j.verdict == ref.verdict == "reproduced"
    assert (j.z, j.lo, j.hi, j.median) == (ref.z, ref.lo, ref.hi, ref.median)
    assert j.reason == "estimable 80/100: Cox likelihood monotone (a coefficient diverges) in 20"
    assert ref.reason == ""                         # nothing to say when all are estimable


def test_other_not_estimable_cases():
    j = judge(np.r_[np.full(60, np.inf), np.ones(40)], 14.3)
    assert j.verdict == "not estimable" and "infinite" in j.reason
    assert judge(np.ones(10), None).reason == "no reported value"
    assert judge(np.ones(10), -1.0, "log").verdict == "not estimable"


def test_median_not_reached_in_a_minority_still_judged():
    x = np.r_[np.linspace(5, 20, 90), np.full(10, np.inf)]
    j = judge(x, 14.3)
    assert j.verdict == "reproduced" and j.hi == math.inf and math.isfinite(j.z)


def test_calibration_residual_is_reported_minus_median(normal):
    assert judge(normal + 3, 3.5).residual == pytest.approx(0.5, abs=1e-3)


def test_interval_end_beyond_every_finite_draw_is_not_reached():
    x = np.r_[np.linspace(5, 20, 96), np.full(4, np.inf)]     # 4% not reached
    j = judge(x, 14.3)
    assert j.hi == math.inf and j.lo == pytest.approx(5.2, abs=0.2)
    # 2% not reached: the 97.5% point is a finite draw, and a value above it is out
    x = np.r_[np.linspace(5, 20, 98), np.full(2, np.inf)]
    j = judge(x, 20.5)                      # above every finite draw, below the 2 NR
    assert j.hi == 20.0 and j.verdict == "not reproduced" and not j.z_extrapolated
    assert j.position == pytest.approx(0.98) and j.z == pytest.approx(stats.norm.ppf(0.98))


def test_a_number_printed_as_1_00_is_judged_at_its_printed_precision():
    """AST's HR printed "1.00" stands for [0.995, 1.005]: draws around 1.0025 per U/L
    reproduce it; without the printed precision they did not (z about -8)."""
    rng = np.random.default_rng(0)
    draws = np.exp(rng.normal(np.log(1.0025), 0.0003, 200))
    exact = judge(draws, 1.00, "log")
    printed = judge(draws, 1.00, "log", half_unit=0.005)
    assert exact.verdict == "not reproduced" and exact.z < -5
    assert printed.verdict == "reproduced" and abs(printed.z) < 0.5
    assert printed.residual == pytest.approx(exact.residual)
    # a number whose whole printed interval lies outside stays not reproduced, with the
    # z of the interval's nearest end
    far = judge(draws, 1.02, "log", half_unit=0.005)
    assert far.verdict == "not reproduced"
    assert abs(far.z) < abs(judge(draws, 1.02, "log").z)
