"""Landmark restriction: convention at the landmark, equivalence with delayed entry."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.estimators.survival import cox_ph, kaplan_meier, landmark
from tests.reference.cases import load_case


def test_convention_and_shift():
    time = np.array([1.0, 3.0, 3.0, 4.5, 6.0])
    event = np.array([1, 1, 0, 1, 0])
    x = np.array([10, 20, 30, 40, 50])
    t, e, mask, xs = landmark(time, event, 3, x)
    # time == at is dropped whether event or censoring: no follow-up after the landmark
    np.testing.assert_array_equal(mask, [False, False, False, True, True])
    np.testing.assert_array_equal(t, [1.5, 3.0])
    np.testing.assert_array_equal(e, [1, 0])
    np.testing.assert_array_equal(xs, [40, 50])
    lm = landmark(time, event, 3, x)
    assert lm.n_dropped == 3 and lm.at == 3.0


def test_landmark_cox_equals_delayed_entry_cox():
    """Shifting time by the landmark or entering everyone at the landmark gives the same
    Cox fit (only the order of times matters), including robust SEs."""
    data, _ = load_case("surv_iptw_ties")
    t, e, mask, z, w = landmark(data.time, data.event, 6, data.treated, data.w)
    shifted = cox_ph(t, e, z, w, robust=True)
    kept = data[mask]
    entry = cox_ph(kept.time, kept.event, kept.treated, kept.w, robust=True,
                   entry=np.full(len(kept), 6.0))
    np.testing.assert_allclose(shifted.coef, entry.coef, rtol=1e-12)
    np.testing.assert_allclose(shifted.var, entry.var, rtol=1e-10)
    np.testing.assert_allclose(shifted.loglik, entry.loglik, rtol=1e-12)


def test_landmark_km_is_conditional_survival():
    """KM of the landmark population at s equals S(at + s) / S(at) from the full curve."""
    data, _ = load_case("surv_iptw_ties")
    t, e, _ = landmark(data.time, data.event, 6)
    full = kaplan_meier(data.time, data.event)
    cond = kaplan_meier(t, e)
    s_at = full.survival_at([6.0]).survival[0]
    for s in (2.0, 5.0, 10.0):
        np.testing.assert_allclose(cond.survival_at([s]).survival[0],
                                   full.survival_at([6.0 + s]).survival[0] / s_at, rtol=1e-12)


@pytest.mark.parametrize("args, match", [
    (([1, 2], [1, 0], -1), "at must be"),
    (([1, 2], [1, 0], np.nan), "at must be"),
    (([1, 2], [1, 0, 1], 1), "mismatched lengths"),
    (([1, 2], [1, 0], 1, [1, 2, 3]), "mismatched lengths"),
    (([1, -2], [1, 0], 1), "time must be non-negative"),
    (([1, 2], [1, 5], 1), "event must be 0/1"),
])
def test_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        landmark(*args)


@pytest.mark.parametrize("args, match", [
    (([1.0, 2, 3], [1, 0, 1], 1.5, None), r"others\[0\] must be an array with one entry per row; got None"),
    (([1.0, 2, 3, 4], [1, 0, 1, 1], "3"), r"at must be a number \(int or float\); got '3'"),
    ((["1", "2"], [1, 0], 1), r"time must be numeric \(real numbers\); got strings"),
])
def test_arguments_of_the_wrong_type_are_named(args, match):
    with pytest.raises(TypeError, match=match):
        landmark(*args)
