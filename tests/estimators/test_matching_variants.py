"""Mahalanobis and optimal matching and the Abadie-Imbens matching estimator, against
Matching::Match, MatchIt and clue::solve_LSAP (tests/reference/matching_variants)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import special

from tacebench.estimators import match_estimate, match_mahalanobis, match_nearest, match_optimal
from tacebench.estimators.matching_optimal import pair_distance_matrix
from tests.reference.cases import load_case

COV = ["x1", "x2", "x3", "x4"]
MATCH = {
    "ps_att_ties": dict(x="ps", estimand="ATT", replace=True, ties=True),
    "ps_att_noties": dict(x="ps", estimand="ATT", replace=True, ties=False),
    "ps_ate_ties": dict(x="ps", estimand="ATE", replace=True, ties=True),
    "ps_att_noreplace": dict(x="ps", estimand="ATT", replace=False, ties=False),
    "ps_att_caliper": dict(x="ps", estimand="ATT", replace=True, ties=True, caliper=0.1),
    "invvar_att": dict(x="cov", estimand="ATT", replace=True, ties=True),
    "mahal_att": dict(x="cov", weight="mahalanobis", estimand="ATT"),
    "mahal_att_m2": dict(x="cov", weight="mahalanobis", estimand="ATT", M=2),
    "mahal_ate": dict(x="cov", weight="mahalanobis", estimand="ATE"),
    "mahal_atc": dict(x="cov", weight="mahalanobis", estimand="ATC"),
    "mahal_att_caliper": dict(x="cov", weight="mahalanobis", caliper=[0.2, 0.2, 0.5, 10]),
    "mahal_att_noreplace": dict(x="cov", weight="mahalanobis", replace=False, ties=False),
    "mahal_att_noreplace_caliper": dict(x="cov", weight="mahalanobis", replace=False,
                                        ties=False, caliper=[0.2, 0.2, 0.5, 10]),
}


@pytest.fixture(scope="module")
def case():
    return load_case("matching_variants")


def _pairs(t, c):
    return sorted(zip(np.asarray(t).tolist(), np.asarray(c).tolist()))


@pytest.mark.parametrize("name", list(MATCH))
def test_match_estimate_equals_matching_match(case, name):
    """R: Match(Y = y, Tr = treated, X = ps or cbind(x1, x2, x3, x4), estimand, M,
    Weight = 1 | 2, replace, ties, caliper, distance.tolerance = 0): est, se, se.cond,
    index.treated / index.control / weights and ndrops. Match computes no SE with
    ties = FALSE or without replacement."""
    data, exp = case
    ref = exp["match"][name]
    kw = dict(MATCH[name])
    X = data["ps"] if kw.pop("x") == "ps" else data[COV]
    res = match_estimate(data["y"], X, data["treated"], **kw)
    np.testing.assert_allclose(res.estimate, ref["est"], rtol=1e-6)
    assert res.n_dropped == ref["ndrops"]
    # Match lists pairs 1-based; compare as sets of (treated, control, weight)
    got = sorted(zip(res.index_treated + 1, res.index_control + 1, res.pair_weights))
    want = sorted(zip(ref["index_treated"], ref["index_control"], ref["weights"]))
    assert [g[:2] for g in got] == [w[:2] for w in want]
    np.testing.assert_allclose([g[2] for g in got], [w[2] for w in want], rtol=1e-12)
    if ref["se"] is not None:
        np.testing.assert_allclose(res.se, ref["se"], rtol=1e-4)
        np.testing.assert_allclose(res.se_conditional, ref["se_cond"], rtol=1e-4, atol=1e-6)
        assert res.se_message == ""
    else:   # Match gives no SE: neither do we, and we say why
        assert np.isnan(res.se) and np.isnan(res.se_conditional)
        assert f"replace={kw.get('replace', True)}, ties={kw.get('ties', True)}" in res.se_message


@pytest.mark.parametrize("name, replace", [("mahal_att", True), ("mahal_att_noreplace", False),
                                           ("mahal_att_caliper", True),
                                           ("mahal_att_noreplace_caliper", False)])
def test_match_mahalanobis_pairs_equal_matching_weight_2(case, name, replace):
    """R: Match(..., Weight = 2, M = 1, replace, caliper = c(0.2, 0.2, 0.5, 10)): the
    matched pairs of ``match_mahalanobis(covariance="overall")``."""
    data, exp = case
    ref = exp["match"][name]
    cal = MATCH[name].get("caliper")
    res = match_mahalanobis(data[COV], data["treated"], caliper=cal, replace=replace)
    ctl = res.control_index[:, 0]
    assert _pairs(res.treated_index + 1, ctl + 1) == _pairs(ref["index_treated"],
                                                            ref["index_control"])
    assert res.n_dropped["treated"] == ref["ndrops"]


def test_matchit_nearest_with_replacement_ratio_2(case):
    """R: matchit(treated ~ x1, d, method = "nearest", distance = <n1 x n0 |ps_i - ps_j|>,
    replace = TRUE, ratio = 2, m.order = "data") (MatchIt 4.5.1's distance-matrix path;
    its numeric-distance path with replacement picks the control below each treated
    score)."""
    data, exp = case
    ref = exp["matchit_replace_ratio2"]
    z = data["treated"].to_numpy()
    res = match_nearest(data["ps"], z, caliper=None, caliper_scale="raw", ratio=2,
                        replace=True)
    want = np.array([np.atleast_1d(r) for r in ref["match_matrix"]])
    got = np.where(res.control_index >= 0, res.control_index + 1, 0)
    # MatchIt lists a treated unit's controls nearest first, as rounds 1 and 2 do here
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(res.weights, ref["weights"], rtol=1e-12)


@pytest.mark.parametrize("ratio", [1, 2])
def test_match_mahalanobis_pooled_equals_matchit_nearest(case, ratio):
    """R: matchit(treated ~ x1 + x2 + x3 + x4, d, method = "nearest",
    distance = "mahalanobis", ratio, m.order = "data"): MatchIt's own Mahalanobis distance
    (its pooled_cov, ((n1 - 1) S1 + (n0 - 1) S0) / (n - 2)) gives the matched sets and
    weights of ``match_mahalanobis(covariance="pooled")``; with ratio 2 the 160 controls
    run out in the second round (MatchIt's NA)."""
    data, exp = case
    ref = exp["matchit_mahalanobis"][f"ratio{ratio}"]
    res = match_mahalanobis(data[COV], data["treated"], covariance="pooled", ratio=ratio)
    want = np.nan_to_num(np.array([np.atleast_1d(r) for r in ref["match_matrix"]],
                                  dtype=float), nan=0.0)   # (R's NA read as NaN)
    got = np.where(res.control_index >= 0, res.control_index + 1, 0)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(res.weights, ref["weights"], rtol=1e-12)


@pytest.mark.parametrize("distance", ["logit", "ps", "mahalanobis"])
def test_optimal_pairs_equal_solve_lsap(case, distance):
    """R: clue::solve_LSAP(D) on the n1 x n0 matrix of |qlogis(ps_i) - qlogis(ps_j)|,
    |ps_i - ps_j| or MatchIt's mahalanobis_dist(treated ~ x1 + x2 + x3 + x4, d) (pooled
    within-arm covariance, MatchIt's pooled_cov).

    The minimum total distance must agree. On a one-dimensional distance the optimal
    assignment is not unique (swapping the controls of two nested pairs keeps the total),
    so the pairs themselves are compared only for the Mahalanobis distance."""
    data, exp = case
    key = "mahalanobis_pooled" if distance == "mahalanobis" else distance
    ref = exp["optimal"][key]
    x = data[COV] if distance == "mahalanobis" else data["ps"]
    res = match_optimal(x, data["treated"], distance=distance)
    np.testing.assert_array_equal(res.treated_index + 1, exp["optimal"]["treated"])
    ctl = res.control_index[:, 0]
    assert np.unique(ctl).size == ctl.size and (data["treated"].to_numpy()[ctl] == 0).all()
    total = float(res.method.rsplit(" ", 1)[1].rstrip(")"))
    np.testing.assert_allclose(total, ref["total"], rtol=1e-10)
    if distance == "mahalanobis":
        np.testing.assert_array_equal(ctl + 1, ref["control"])


def test_optimal_total_is_at_most_greedy(case):
    """The optimum cannot exceed the greedy 1:1 matching's total distance."""
    data, _ = case
    z = data["treated"].to_numpy()
    D = pair_distance_matrix(data["ps"].to_numpy(), z, "logit")
    g = match_nearest(data["ps"], z, caliper=None)
    col = {c: j for j, c in enumerate(np.flatnonzero(z == 0))}
    greedy = sum(D[i, col[c]] for i, c in enumerate(g.control_index[:, 0]))
    opt = match_optimal(data["ps"], z)
    t_pos = {t: i for i, t in enumerate(np.flatnonzero(z == 1))}
    optimal = sum(D[t_pos[t], col[c]] for t, c in zip(opt.treated_index, opt.control_index[:, 0]))
    assert optimal <= greedy + 1e-12 and optimal < greedy


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_optimal_equals_brute_force_on_small_problems(seed):
    """Against all n0!/(n0-n1)! assignments for n1 <= 4, n0 <= 6."""
    from itertools import permutations

    rng = np.random.default_rng(seed)
    n1, n0 = int(rng.integers(1, 5)), int(rng.integers(4, 7))
    ps = rng.uniform(0.05, 0.95, n1 + n0)
    z = np.r_[np.ones(n1, int), np.zeros(n0, int)]
    D = np.abs(special.logit(ps[:n1])[:, None] - special.logit(ps[n1:])[None, :])
    best = min(sum(D[i, p[i]] for i in range(n1)) for p in permutations(range(n0), n1))
    res = match_optimal(ps, z)
    got = sum(D[i, c - n1] for i, c in enumerate(res.control_index[:, 0]))
    assert got == pytest.approx(best, rel=1e-12, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_att_with_replacement_is_mean_of_matched_differences(seed):
    """M = 1, no ties: the estimate is the mean over treated of y_i - y_(nearest control)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 60))
    x, y = rng.normal(size=n), rng.normal(size=n)
    z = np.r_[1, 0, rng.binomial(1, 0.4, n - 2)]
    res = match_estimate(y, x, z)
    t, c = np.flatnonzero(z == 1), np.flatnonzero(z == 0)
    near = c[np.argmin(np.abs(x[t][:, None] - x[c][None, :]), axis=1)]
    assert res.estimate == pytest.approx(np.mean(y[t] - y[near]), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda X, z, y: match_mahalanobis(X, z, caliper=[0.1, 0.1, 0.1]), "one entry per covariate"),
    (lambda X, z, y: match_mahalanobis(X, z, caliper=1e-6), "within the covariate calipers"),
    (lambda X, z, y: match_mahalanobis(X, z, covariance="full"), "covariance must be one of"),
    (lambda X, z, y: match_optimal(X[:, 0], z), r"ps must lie in \(0, 1\)"),
    (lambda X, z, y: match_optimal(np.full(30, 0.5), 1 - z), "at least as many controls"),
    (lambda X, z, y: match_estimate(y, X, z, M=0), "M must be a positive integer"),
    (lambda X, z, y: match_estimate(y, X, z, weight="euclid"), "weight must be one of"),
    (lambda X, z, y: match_estimate(y[:5], X, z), "mismatched lengths"),
])
def test_bad_input_names_the_argument(call, match):
    rng = np.random.default_rng(5)
    z = np.r_[np.ones(10, int), np.zeros(20, int)]
    with pytest.raises(ValueError, match=match):
        call(rng.normal(size=(30, 2)), z, rng.normal(size=30))
