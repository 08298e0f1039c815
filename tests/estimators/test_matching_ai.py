"""The matching estimator names its malformed options (a tolerance that is not a number,
a covariate caliper of the wrong length) and empty input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators import match_estimate


def _data():
    rng = np.random.default_rng(3)
    return rng.normal(size=20), rng.normal(size=(20, 2)), np.r_[np.ones(8), np.zeros(12)]


@pytest.mark.parametrize("tolerance", ["0", [0.0], np.nan, -1.0, True])
def test_tolerance_must_be_one_non_negative_number(tolerance):
    y, X, z = _data()
    with pytest.raises(ValueError, match=r"tolerance must be non-negative \(a finite number\)"):
        match_estimate(y, X, z, tolerance=tolerance)


@pytest.mark.parametrize("caliper", [[0.2], "a", [0.2, 0.2, 0.2], [0.2, 0.0]])
def test_caliper_is_one_number_or_one_per_covariate(caliper):
    y, X, z = _data()
    with pytest.raises(ValueError, match="caliper must be"):   # was: broadcast, or raw errors
        match_estimate(y, X, z, caliper=caliper)


def test_valid_tolerance_and_caliper_forms_give_the_same_estimate():
    y, X, z = _data()
    a = match_estimate(y, X, z, caliper=2.0, tolerance=0)
    for kw in (dict(caliper=[2.0, 2.0], tolerance=0.0), dict(caliper=np.float64(2.0),
                                                              tolerance=np.int64(0))):
        assert match_estimate(y, X, z, **kw).estimate == a.estimate


def test_empty_input_names_the_arms():
    with pytest.raises(ValueError, match="treated must contain both arms; got no rows"):
        match_estimate([], np.empty((0, 1)), [])


@settings(max_examples=60, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10, 10))
def test_tolerance_accepts_exactly_the_finite_non_negative_numbers(tolerance):
    y, X, z = _data()
    if np.isfinite(tolerance) and tolerance >= 0:
        for form in (tolerance, np.float64(tolerance), np.array(float(tolerance))):
            assert match_estimate(y, X, z, tolerance=form).n_matched == 8
    else:
        with pytest.raises(ValueError, match=r"^tolerance must be non-negative"):
            match_estimate(y, X, z, tolerance=tolerance)
