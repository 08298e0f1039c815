"""Input that nearest-neighbour matching refuses by name: a pooled-SD caliper without two
units per arm (its SD is NaN, which switched the caliper off), empty input, and a
caliper that is not one number."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators import match_nearest

PS = [0.99, 0.01, 0.02, 0.03, 0.04]


@pytest.mark.parametrize("scale", ["logit_sd", "ps_sd"])
@pytest.mark.parametrize("z, arm", [([1, 0, 0, 0, 0], "1 treated unit"),
                                    ([0, 1, 1, 1, 1], "1 control unit")])
def test_pooled_sd_caliper_needs_two_units_per_arm(scale, z, arm):
    # was: caliper NaN, status OK, and PS 0.99 matched to 0.04 through a 0.01 SD caliper
    with pytest.raises(ValueError, match=rf"caliper_sd='pooled' with caliper_scale='{scale}'"
                                         rf".*fewer than 2 units has none; got {arm}.*"
                                         r"caliper_sd='overall'"):
        match_nearest(PS, z, caliper=0.01, caliper_scale=scale)


def test_single_unit_arm_is_matched_without_a_pooled_sd():
    z = [1, 0, 0, 0, 0]
    with pytest.raises(ValueError, match="is met by no treated unit"):  # the caliper holds
        match_nearest(PS, z, caliper=0.01, caliper_sd="overall")
    assert match_nearest(PS, z, caliper=None).rows.tolist() == [0, 4]
    assert match_nearest(PS, z, caliper=1.0, caliper_scale="raw").rows.tolist() == [0, 4]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 0.99), min_size=3, max_size=30), st.integers(0, 29),
       st.sampled_from(["logit_sd", "ps_sd"]))
def test_a_caliper_is_finite_whenever_matching_proceeds(ps, lone, scale):
    """With one treated unit the pooled caliper is refused; otherwise (or over all units)
    the caliper used is a finite number."""
    z = np.zeros(len(ps), int)
    z[lone % len(ps)] = 1
    with pytest.raises(ValueError, match="fewer than 2 units"):
        match_nearest(ps, z, caliper=0.2, caliper_scale=scale)
    try:
        m = match_nearest(ps, z, caliper=0.2, caliper_scale=scale, caliper_sd="overall")
    except ValueError as err:
        assert "is met by no treated unit" in str(err)
    else:
        assert np.isfinite(m.caliper)


def test_empty_input_names_the_arms():
    with pytest.raises(ValueError, match="treated must contain both arms; got no rows"):
        match_nearest([], [])


@pytest.mark.parametrize("caliper", ["0.2", [0.2], np.array([0.2]), True, np.nan, 0.0])
def test_caliper_must_be_one_positive_number(caliper):
    with pytest.raises(ValueError, match=r"caliper must be positive \(a finite number, or "
                                         r"None\); got "):
        match_nearest([0.2, 0.4, 0.6, 0.5], [0, 1, 0, 1], caliper=caliper)


def test_numpy_scalar_caliper_is_the_float():
    ps, z = [0.2, 0.4, 0.6, 0.5, 0.3, 0.35], [0, 1, 0, 1, 0, 0]
    a = match_nearest(ps, z, caliper=0.5)
    for c in (np.float64(0.5), np.array(0.5), np.float32(0.5)):
        b = match_nearest(ps, z, caliper=c)
        assert b.rows.tolist() == a.rows.tolist()
    assert match_nearest(ps, z, caliper=np.float64(0.5)).caliper == a.caliper
