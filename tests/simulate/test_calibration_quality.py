"""The calibration checks: printed rounding, asymptotic MCSEs, the within flag."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.simulate.calibration_quality import (check_rows, greenwood_se, median_se,
                                                     printed_half_width)
from tacebench.simulate.spec_outcomes import CalibrationTarget

QUOTE = "The 6-, 12-, and 24-month OS rates were 92.9%, 58.9% and 5.6%; median 13.0 ± 0.6 months (HR, 0.62)"


@pytest.mark.parametrize("value,kind,half", [
    (0.929, "rate", 0.0005), (0.056, "rate", 0.0005), (13.0, "median", 0.05), (0.62, "hr", 0.005),
    (0.6, "rate", 0.05),          # not in the quote: the digits as written (60%)
    (14.25, "median", 0.005),     # not in the quote
])
def test_printed_half_width(value, kind, half):
    assert printed_half_width(value, kind, QUOTE) == pytest.approx(half)


def test_a_number_inside_another_is_not_its_print():
    # "13" occurs only as part of "13.0": one decimal printed
    assert printed_half_width(13.0, "median", "13.0 months") == pytest.approx(0.05)
    assert printed_half_width(0.3, "hr", "HR 10.30") == pytest.approx(0.05)


def test_greenwood_without_censoring_is_binomial():
    """No censoring: var S(t) = S(1 - S) / n exactly; the median's SE is 1 / (lambda sqrt n)."""
    grid = np.arange(0.0, 60.0, 0.01)
    lam, n = 0.1, 150
    s, g = np.exp(-lam * grid), np.ones(len(grid))
    st = np.exp(-lam * 12.0)
    assert greenwood_se(grid, s, g, n, 12.0) == pytest.approx(np.sqrt(st * (1 - st) / n), rel=1e-3)
    m = np.log(2) / lam
    assert median_se(grid, s, g, n, m) == pytest.approx(1 / (lam * np.sqrt(n)), rel=1e-3)


def test_censoring_inflates_the_se():
    grid = np.arange(0.0, 60.0, 0.01)
    s = np.exp(-0.1 * grid)
    g = np.clip((36 - grid) / 24, 0, 1)
    assert greenwood_se(grid, s, g, 100, 24.0) > greenwood_se(grid, s, np.ones(len(grid)), 100, 24.0)


def test_within_is_rounding_plus_one_mcse():
    grid = np.arange(0.0, 60.0, 0.01)
    curves = {"A": np.exp(-0.1 * grid), "B": np.exp(-0.05 * grid)}
    g = np.ones(len(grid))
    s12 = float(np.exp(-1.2))
    se = np.sqrt(s12 * (1 - s12) / 100)
    near = CalibrationTarget("A", "rate", round(s12 + 0.9 * se, 3), time=12.0, target="a")
    far = CalibrationTarget("A", "rate", round(s12 + 1.5 * se, 3), time=12.0, target="b")
    hr = CalibrationTarget("B", "hr", 0.5, target="c", source="HR 0.50")
    rows = check_rows("os", [near, far, hr], grid, curves, g, {"A": 100, "B": 100})
    assert [r.within for r in rows] == [True, False, True]
    assert rows[0].residual == pytest.approx(near.value - s12) and rows[0].rounding == pytest.approx(0.0005)
    assert rows[2].achieved == pytest.approx(0.5, abs=1e-4) and rows[2].rounding == pytest.approx(0.005)
