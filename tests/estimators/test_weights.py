"""IPTW weights, truncation, effective sample size and weighted group sizes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.propensity import propensity_score
from tacebench.estimators.weights import (
    ESTIMANDS,
    effective_sample_size,
    iptw_weights,
    weighted_group_sizes,
)
from tests.reference.cases import load_case

COVS = ["size", "number", "age60", "child_pugh", "afp400"]


@pytest.fixture(scope="module")
def case():
    data, exp = load_case("propensity_weights")
    data["child_pugh"] = pd.Categorical(data["child_pugh"], categories=["A5", "A6", "B7"])
    m = propensity_score(data, "treated", COVS)
    return m.ps, data["treated"].to_numpy(), exp


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(estimand="ATE"), "w_ate"),
        (dict(estimand="ATE", stabilized=True), "w_sate"),
        (dict(estimand="ATT"), "w_att"),
        (dict(estimand="ATO"), "w_ato"),
        (dict(estimand="ATE", truncate=(1, 99)), "w_ate_trunc7"),
        (dict(estimand="ATE", truncate=(1, 99), quantile_type=3), "w_ate_trunc3"),
        (dict(estimand="ATE", stabilized=True, truncate=(1, 99)), "w_sate_trunc7"),
        (dict(estimand="ATT", truncate=(1, 99)), "w_att_trunc7"),
    ],
)
def test_weights_match_r(case, kwargs, key):
    """R (tests/reference/propensity_weights/reference.R): ps <- fitted(glm(...)); e.g.
    w <- ifelse(z == 1, 1/ps, 1/(1-ps)); q <- quantile(w, c(.01, .99), type = 7);
    pmin(pmax(w, q[1]), q[2])."""
    ps, z, exp = case
    np.testing.assert_allclose(iptw_weights(ps, z, **kwargs), exp[key], rtol=1e-7)


def test_truncation_changes_something(case):
    ps, z, _ = case
    w = iptw_weights(ps, z)
    wt = iptw_weights(ps, z, truncate=(1, 99))
    assert (w != wt).sum() >= 8  # 1% of 400 at each end
    assert wt.max() < w.max() and wt.min() > w.min()


def test_group_sizes_and_ess_match_r(case):
    ps, z, exp = case
    g = weighted_group_sizes(iptw_weights(ps, z, stabilized=True), z)
    np.testing.assert_allclose([g.control, g.treated], exp["sum_sate"], rtol=1e-8)
    g = weighted_group_sizes(iptw_weights(ps, z), z)
    np.testing.assert_allclose([g.ess_control, g.ess_treated], exp["ess_ate"], rtol=1e-8)
    np.testing.assert_allclose(effective_sample_size(iptw_weights(ps, z)), exp["ess_all"], rtol=1e-10)
    assert list(g.to_frame()["arm"]) == ["control", "treated"]


def test_capability_table_drives_validation():
    ps, z = np.array([0.2, 0.7, 0.5]), np.array([0, 1, 1])
    for est, cap in ESTIMANDS.items():
        if not cap.stabilize:
            with pytest.raises(ValueError, match=f"stabilized=True is not defined for estimand='{est}'"):
                iptw_weights(ps, z, estimand=est, stabilized=True)
        if not cap.truncate:
            with pytest.raises(ValueError, match=f"truncate is not supported for estimand='{est}'"):
                iptw_weights(ps, z, estimand=est, truncate=(1, 99))


@pytest.mark.parametrize(
    "ps, z, kwargs, match",
    [
        ([0.2, 1.0, 0.5], [0, 1, 1], {}, r"ps must lie in \(0, 1\)"),
        ([0.2, np.nan, 0.5], [0, 1, 1], {}, "ps must be finite"),
        ([0.2, 0.3, 0.5], [0, 2, 1], {}, "treated must be 0/1"),
        ([0.2, 0.3], [0, 1, 1], {}, "mismatched lengths"),
        ([0.2, 0.3, 0.5], [1, 1, 1], {}, "treated must contain both arms"),
        ([0.2, 0.3, 0.5], [0, 1, 1], dict(estimand="ATX"), "estimand must be one of"),
        ([0.2, 0.3, 0.5], [0, 1, 1], dict(truncate=(99, 1)), "0 <= lo < hi <= 100"),
        ([0.2, 0.3, 0.5], [0, 1, 1], dict(truncate=5), r"truncate must be None or \(lo, hi\)"),
        ([0.2, 0.3, 0.5], [0, 1, 1], dict(quantile_type=6), "quantile_type"),
    ],
)
def test_bad_input(ps, z, kwargs, match):
    with pytest.raises(ValueError, match=match):
        iptw_weights(ps, z, **kwargs)


ps_arrays = st.lists(st.floats(0.01, 0.99), min_size=6, max_size=40)


@settings(max_examples=60, deadline=None)
@given(ps_arrays, st.randoms(use_true_random=False))
def test_label_swap_ate(ps, rnd):
    """Swapping the arms (z -> 1 - z, e -> 1 - e) leaves ATE and ATO weights unchanged and
    exchanges ATT with ATC."""
    ps = np.asarray(ps)
    z = np.array([rnd.randint(0, 1) for _ in ps])
    z[0], z[1] = 0, 1
    for est in ("ATE", "ATO"):
        np.testing.assert_allclose(iptw_weights(ps, z, estimand=est),
                                   iptw_weights(1 - ps, 1 - z, estimand=est), rtol=1e-12)
    np.testing.assert_allclose(iptw_weights(ps, z, estimand="ATT"),
                               iptw_weights(1 - ps, 1 - z, estimand="ATC"), rtol=1e-12)
    np.testing.assert_allclose(iptw_weights(ps, z, stabilized=True, truncate=(5, 95)),
                               iptw_weights(1 - ps, 1 - z, stabilized=True, truncate=(5, 95)),
                               rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 100.0), min_size=2, max_size=50), st.floats(0.01, 1000.0))
def test_ess_scale_invariant_and_bounded(w, c):
    w = np.asarray(w)
    e = effective_sample_size(w)
    assert 1.0 - 1e-12 <= e <= len(w) + 1e-9
    np.testing.assert_allclose(effective_sample_size(c * w), e, rtol=1e-10)


@pytest.mark.parametrize("stabilized", ["no", 1, 0, None])
def test_stabilized_must_be_a_bool(stabilized):
    """1 and 0 used to pass as True and False (``1 in (True, False)``); a flag is a bool."""
    with pytest.raises(TypeError, match="stabilized must be True or False"):
        iptw_weights([0.2, 0.5, 0.7], [0, 1, 1], stabilized=stabilized)
    assert iptw_weights([0.2, 0.5, 0.7], [0, 1, 1], stabilized=np.bool_(True)).size == 3
