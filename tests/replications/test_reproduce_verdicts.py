"""Verdicts from simulated distributions: constructed draws with known answers."""
import math

import numpy as np
import pytest

from replications.verdicts import judge


@pytest.fixture(scope="module")
def normal():
    # exact normal quantiles: the 2.5% and 97.5% points are -1.96 and +1.96
    from scipy import stats
    return stats.norm.ppf((np.arange(1, 4001) - 0.5) / 4000)


def test_inside_outside_and_z(normal):
    j = judge(normal, 1.0)
    assert j.verdict == "reproduced" and j.z == pytest.approx(1.0, abs=0.01)
    assert j.lo == pytest.approx(-1.96, abs=0.01) and j.hi == pytest.approx(1.96, abs=0.01)
    assert not j.borderline
    j = judge(normal, 2.5)
    assert j.verdict == "not reproduced" and j.z == pytest.approx(2.5, abs=0.01)
    assert not j.borderline            # 0.54 SD beyond the end


@pytest.mark.parametrize("y, border", [(1.55, True), (2.3, True), (1.4, False), (2.5, False)])
def test_borderline_band_is_half_a_robust_sd(normal, y, border):
    assert judge(normal, y).borderline is border


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
    assert judge(np.full(50, 82.0), 82.0).verdict == "reproduced"
    j = judge(np.full(50, 82.0), 80.0)
    assert j.verdict == "not reproduced" and j.z == -math.inf


def test_not_estimable_cases():
    x = np.full(100, np.nan)
    x[:40] = 1.0
    assert "estimable in 40 of 100" in judge(x, 1.0).reason
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
