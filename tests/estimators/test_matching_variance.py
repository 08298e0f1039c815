"""The public matched Cox model (:func:`estimators.matching.matched_cox`) against R
(tests/reference/matched_cox_variance), through the public matchers: with replacement,
the SE clustered on both the matched set and the patient (Austin & Cafri 2020, MatchIt's
"Estimating Effects" vignette); 1:2 sets of unequal size weighted by MatchIt's weights."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.estimators.matching import matched_cox
from tacebench.estimators.matching_nearest import match_nearest
from tacebench.estimators.matching_variance import twoway_variance
from tacebench.estimators.propensity import propensity_score
from tests.reference.cases import load_case


@pytest.fixture(scope="module")
def case():
    d, expected = load_case("matched_cox_variance")
    ps = propensity_score(d, "treated", ["x1", "x2"]).ps  # R: glm(treated ~ x1 + x2)
    return d, ps, expected


@pytest.mark.parametrize("name, ratio, adjust", [
    ("replace_1to1", 1, False),
    ("replace_1to1_adjusted", 1, True),
    ("replace_1to2", 2, False),
])
def test_replacement_se_on_set_and_patient_as_R(case, name, ratio, adjust):
    d, ps, expected = case
    want = expected[name]
    m = match_nearest(ps, d["treated"], ratio=ratio, replace=True)
    fit = matched_cox(d["os_time"], d["os_event"], m, d[["x1"]] if adjust else None)
    assert m.n_sets == want["sets"] and fit.n == want["rows"]
    assert np.unique(m.rows).size == want["patients"]
    np.testing.assert_allclose(fit.coef[0], want["coef"], rtol=1e-10)
    np.testing.assert_allclose(fit.robust_se[0], want["se"], rtol=1e-9)
    assert fit.variance == "set_and_patient" and fit.robust
    # the Wald statistics use that SE
    np.testing.assert_allclose(fit.var[0, 0], want["se"] ** 2, rtol=1e-9)
    np.testing.assert_allclose(fit.z[0], want["coef"] / want["se"], rtol=1e-9)
    half = 1.959963984540054 * want["se"]
    np.testing.assert_allclose(np.log(fit.ci[0]), want["coef"] + np.array([-half, half]),
                               rtol=1e-9)
    # the set-only SE (each reused control's rows independent) is far smaller
    assert want["se_set"] < 0.8 * want["se"]


def test_unequal_sets_weighted_as_R(case):
    # 1:2 matching without replacement whose caliper leaves sets with one control: the Cox
    # model weighted by the matching weights (MatchIt's match.data() weights)
    d, ps, expected = case
    want = expected["ratio2_weighted"]
    assert want["incomplete_sets"] > 0
    m = match_nearest(ps, d["treated"], ratio=2)
    fit = matched_cox(d["os_time"], d["os_event"], m)
    assert m.n_sets == want["sets"] and fit.n == want["rows"]
    np.testing.assert_allclose(fit.coef[0], want["coef"], rtol=1e-10)
    np.testing.assert_allclose(fit.robust_se[0], want["se"], rtol=1e-9)
    assert fit.weighted and fit.variance == "set"
    assert abs(expected["ratio2_unweighted"]["coef"] - want["coef"]) > 0.05


def test_pairs_without_replacement_as_before(case):
    # 1:1 pairs, no patient in two sets: the plain set-clustered fit, unweighted
    d, ps, _ = case
    m = match_nearest(ps, d["treated"])
    fit = matched_cox(d["os_time"], d["os_event"], m)
    assert fit.variance == "set" and not fit.weighted
    assert (fit.weights == 1).all()


def test_twoway_variance_without_reuse_is_the_set_variance_rescaled():
    # each patient in one set: V_patient = V_row, so V = ks/(ks-1) V_set
    rng = np.random.default_rng(1)
    d = rng.normal(size=(12, 2))
    pair_id = np.repeat(np.arange(6), 2)
    v = twoway_variance(d, pair_id, np.arange(12))
    sums = d[0::2] + d[1::2]
    np.testing.assert_allclose(v, 6 / 5 * sums.T @ sums, rtol=1e-12)



def test_mahalanobis_with_replacement_is_the_three_fit_formula(case):
    # the vignette's recipe from three robust fits (cluster = set, cluster = patient, each
    # row its own), on Mahalanobis matching with replacement
    from tacebench.estimators.matching import match_mahalanobis
    from tacebench.estimators.survival import cox_ph

    d, _, _ = case
    m = match_mahalanobis(d[["x1", "x2"]].to_numpy(), d["treated"], replace=True)
    assert np.bincount(m.rows).max() > 1  # a control reused
    fit = matched_cox(d["os_time"], d["os_event"], m)
    t, e = d["os_time"].to_numpy()[m.rows], d["os_event"].to_numpy()[m.rows]
    z = np.r_[1.0, (m.pair_id[1:] != m.pair_id[:-1]).astype(float)]
    w = fit.weights
    parts = [(cox_ph(t, e, z, w, cluster=c).var[0, 0], np.unique(c).size)
             for c in (m.pair_id, m.rows, np.arange(m.rows.size))]
    v = sum(s * k / (k - 1) * v for s, (v, k) in zip((1, 1, -1), parts))
    assert fit.variance == "set_and_patient"
    np.testing.assert_allclose(fit.robust_se[0], np.sqrt(v), rtol=1e-10)
