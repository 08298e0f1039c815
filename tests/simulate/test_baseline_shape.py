"""The Weibull ``shape`` of a calibrated baseline hazard: two medians leave the hazard's
shape free, the smoothness penalty fixes it (flat at shape 1), and a declared shape gives
a falling or rising hazard that still meets the same medians."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench import simulate
from tacebench.simulate import spec_from_dict
from tacebench.simulate.calibrate import hazard_trend


def _plan(spec, shape=None, endpoint="os"):
    if shape is not None:
        spec["cohorts"]["main"]["outcomes"][endpoint]["shape"] = shape
    return simulate.compile_plan(spec_from_dict(spec))


def test_hazard_trend_is_the_weibull_log_hazard_at_the_piece_midpoints():
    knots = np.array([0.0, 3.0, 6.0, 12.0])
    mid = np.array([1.5, 4.5, 9.0, 15.0])          # the open piece: 12 + 6 / 2
    assert np.allclose(hazard_trend(knots, 0.7), -0.3 * np.diff(np.log(mid)))
    assert not hazard_trend(knots, 1.0).any() and hazard_trend(knots[:1], 0.7).size == 0


def test_shape_one_is_the_default_flat_hazard_to_the_bit(two_arm):
    import copy
    default = _plan(copy.deepcopy(two_arm))
    flat = _plan(two_arm, 1.0)
    assert default.report["os"]["baseline_hazard"] == flat.report["os"]["baseline_hazard"]
    h = np.array(default.report["os"]["baseline_hazard"])
    assert np.allclose(h, h[0], rtol=1e-6)        # two medians, flat between them


@pytest.mark.parametrize("shape", [0.7, 1.4])
def test_a_declared_shape_keeps_the_medians_and_bends_the_hazard(two_arm, shape):
    plan = _plan(two_arm, shape)
    rep = plan.report["os"]
    for t in rep["targets"]:
        assert t["fitted"] == pytest.approx(t["value"], abs=0.05)
    h = np.array(rep["baseline_hazard"])
    knots = np.array(two_arm["cohorts"]["main"]["outcomes"]["os"]["knots"], float)
    assert np.allclose(np.diff(np.log(h)), hazard_trend(knots, shape), atol=1e-4)
    assert (np.diff(h) < 0).all() if shape < 1 else (np.diff(h) > 0).all()


def test_shape_is_refused_with_a_fixed_baseline_and_when_not_positive(two_arm):
    os_ = two_arm["cohorts"]["main"]["outcomes"]["os"]
    with pytest.raises(Exception, match="shape"):
        _plan(two_arm, 0.0)
    os_["baseline_hazard"] = [0.05] * 5
    os_["treatment_hr"] = 0.8
    with pytest.raises(Exception, match="shape"):
        _plan(two_arm, 0.8)
