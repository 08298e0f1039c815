"""The matching family's Cox model against R (tests/reference/matched_cox_variance): with
replacement, the SE clustered on both the matched set and the patient (MatchIt's
"Estimating Effects" vignette, Austin & Cafri 2020)::

    V = ks/(ks-1) V(coxph(..., cluster = set)) + ki/(ki-1) V(coxph(..., cluster = id))
        - kc/(kc-1) V(coxph(..., robust = TRUE))

on one row per patient per matched set."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.benchmarks.methods import validate_method
from tacebench.benchmarks.methods.matching import fit
from tests.reference.cases import load_case


@pytest.fixture(scope="module")
def case():
    d, expected = load_case("matched_cox_variance")
    return {k: d[k].to_numpy() for k in d.columns}, expected


def _fit(data, **options):
    config = validate_method("matching", {"covariates": ["x1", "x2"], **options})
    return fit(data, config, np.random.default_rng(0))


@pytest.mark.parametrize("name, options", [
    ("replace_1to1", {"replace": True}),
    ("replace_1to1_adjusted", {"replace": True, "adjust": ["x1"]}),
    ("replace_1to2", {"replace": True, "ratio": 2}),
])
def test_replacement_se_on_set_and_patient_as_R(case, name, options):
    data, expected = case
    want = expected[name]
    assert want["reused_controls"] > 0
    got = _fit(data, **options)
    assert got.extra["matched_sets"] == want["sets"]
    np.testing.assert_allclose(got.estimate, want["coef"], rtol=1e-10)
    np.testing.assert_allclose(got.se, want["se"], rtol=1e-9)
    # the set-only SE (each reused control's rows independent) is far smaller
    assert want["se_set"] < 0.8 * want["se"]


def test_unequal_sets_weighted_as_R(case):
    # 1:2 matching without replacement whose caliper leaves sets with one control: the Cox
    # model weighted by the matching weights (MatchIt's match.data() weights), not unweighted
    data, expected = case
    want = expected["ratio2_weighted"]
    assert want["incomplete_sets"] > 0
    got = _fit(data, ratio=2)
    assert got.extra["matched_sets"] == want["sets"]
    np.testing.assert_allclose(got.estimate, want["coef"], rtol=1e-10)
    np.testing.assert_allclose(got.se, want["se"], rtol=1e-9)
    assert abs(expected["ratio2_unweighted"]["coef"] - want["coef"]) > 0.05


def test_sets_of_one_size_unweighted():
    from tacebench.benchmarks.methods.matching import set_weights

    pair_id = np.repeat(np.arange(4, dtype=np.intp), 3)
    assert set_weights(pair_id, np.tile([1.0, 0.0, 0.0], 4)) is None
    pair_id = np.array([0, 0, 0, 1, 1], dtype=np.intp)
    w = set_weights(pair_id, np.array([1.0, 0.0, 0.0, 1.0, 0.0]))
    np.testing.assert_allclose(w, [1.0, 0.5 * 3 / 2, 0.5 * 3 / 2, 1.0, 3 / 2])
