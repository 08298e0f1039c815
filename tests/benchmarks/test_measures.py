"""Performance measures vs hand computation and the formulas of Morris et al. (2019), Table 6."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tacebench.benchmarks.measures import (
    MEASURES,
    n_sim_required,
    performance_measures,
    relative_precision,
    wald_interval,
)

# A tiny result table worked by hand: five replicates, truth 0.5.
EST = [0.2, 0.9, 0.4, 0.7, 0.3]
SE = [0.3, 0.2, 0.25, 0.35, 0.3]
TRUTH = 0.5


def test_hand_computed_table():
    r = performance_measures(EST, SE, TRUTH)
    # mean = 2.5 / 5 = 0.5; deviations -0.3, 0.4, -0.1, 0.2, -0.2; sum sq = 0.34
    assert r["bias"].value == pytest.approx(0.0, abs=1e-15)
    assert r["bias"].mcse == pytest.approx(math.sqrt(0.34 / 20))
    assert r["empse"].value == pytest.approx(math.sqrt(0.34 / 4))
    assert r["empse"].mcse == pytest.approx(math.sqrt(0.34 / 4) / math.sqrt(8))
    # MSE = 0.34 / 5 = 0.068 (mean equals truth); squared errors .09 .16 .01 .04 .04
    sq = np.array([0.09, 0.16, 0.01, 0.04, 0.04])
    assert r["mse"].value == pytest.approx(0.068)
    assert r["mse"].mcse == pytest.approx(math.sqrt(((sq - 0.068) ** 2).sum() / 20))
    assert r["rmse"].value == pytest.approx(math.sqrt(0.068))
    assert r["rmse"].mcse == pytest.approx(r["mse"].mcse / (2 * math.sqrt(0.068)))
    # ModSE = sqrt(mean(se^2)); variances .09 .04 .0625 .1225 .09
    v = np.array([0.09, 0.04, 0.0625, 0.1225, 0.09])
    modse = math.sqrt(v.mean())
    assert r["modse"].value == pytest.approx(modse)
    var_v = ((v - v.mean()) ** 2).sum() / 4
    assert r["modse"].mcse == pytest.approx(math.sqrt(var_v / (4 * 5 * modse**2)))
    empse = math.sqrt(0.34 / 4)
    assert r["relerr_modse"].value == pytest.approx(100 * (modse / empse - 1))
    assert r["relerr_modse"].mcse == pytest.approx(
        100 * (modse / empse) * math.sqrt(var_v / (4 * 5 * modse**4) + 1 / 8))
    # Wald 95% intervals: which contain 0.5?  0.2+-0.588 yes; 0.9+-0.392 no (0.508..);
    # 0.4+-0.49 yes; 0.7+-0.686 yes; 0.3+-0.588 yes -> 4/5
    assert r["coverage"].value == pytest.approx(0.8)
    assert r["coverage"].mcse == pytest.approx(math.sqrt(0.8 * 0.2 / 5))
    # mean equals truth here, so bias-eliminated coverage equals coverage
    assert r["becoverage"].value == pytest.approx(0.8)
    # p <= 0.05 when |est/se| >= 1.96: 0.9/0.2 = 4.5 and 0.7/0.35 = 2.0 -> 2/5
    assert r["power"].value == pytest.approx(0.4)
    assert r["convergence"].value == 1.0 and r["convergence"].mcse == 0.0


def test_relative_bias_and_becoverage_differ_from_coverage_when_biased():
    est = np.array([1.0, 1.2, 1.1, 0.9, 1.3, 1.05])
    se = np.full(6, 0.1)
    r = performance_measures(est, se, 0.8)
    mean = est.mean()
    assert r["relative_bias"].value == pytest.approx((mean - 0.8) / 0.8)
    assert r["relative_bias"].mcse == pytest.approx(r["bias"].mcse / 0.8)
    lo, hi = est - stats.norm.ppf(0.975) * se, est + stats.norm.ppf(0.975) * se
    assert r["coverage"].value == pytest.approx(np.mean((lo <= 0.8) & (0.8 <= hi)))
    assert r["becoverage"].value == pytest.approx(np.mean((lo <= mean) & (mean <= hi)))
    assert r["becoverage"].value > r["coverage"].value


def test_relative_bias_undefined_at_zero_truth():
    r = performance_measures(EST, SE, 0.0)
    assert math.isnan(r["relative_bias"].value)


def test_failed_and_nonconverged_replicates_are_excluded_and_counted():
    est = [0.2, np.nan, 0.4, 0.7, 0.3, 0.1]
    se = [0.3, 0.2, np.nan, 0.35, 0.3, 0.2]
    conv = [True, True, True, True, True, False]
    r = performance_measures(est, se, 0.5, converged=conv)
    assert r.n_used == 3 and r.n_attempted == 6
    assert r["convergence"].value == pytest.approx(0.5)
    assert r["convergence"].mcse == pytest.approx(math.sqrt(0.25 / 6))
    ref = performance_measures([0.2, 0.7, 0.3], [0.3, 0.35, 0.3], 0.5)
    assert r["bias"].value == pytest.approx(ref["bias"].value)
    assert r["empse"].value == pytest.approx(ref["empse"].value)


def test_own_confidence_limits_and_p_values_are_used():
    est = np.zeros(4)
    se = np.ones(4)
    r = performance_measures(est, se, 0.5, ci_lower=[-1, 0.6, -1, 0.6], ci_upper=[1, 1, 1, 1],
                             p_value=[0.01, 0.2, 0.04, 0.9])
    assert r["coverage"].value == 0.5
    assert r["power"].value == 0.5


def test_to_frame_lists_every_measure():
    frame = performance_measures(EST, SE, TRUTH).to_frame()
    assert tuple(frame["measure"]) == MEASURES
    assert set(frame.columns) == {"measure", "value", "mcse", "n"}


@pytest.mark.parametrize("kwargs, match", [
    ({"estimate": [1, 2], "se": [1], "truth": 0}, "se must have the length"),
    ({"estimate": [1, 2], "se": [1, 1], "truth": float("nan")}, "truth must be finite"),
    ({"estimate": [[1, 2]], "se": [1, 1], "truth": 0}, "estimate must be 1-dimensional"),
    ({"estimate": [1, 2], "se": [1, 1], "truth": 0, "alpha": 1.5}, "alpha must lie"),
    ({"estimate": [1, 2], "se": [1, 1], "truth": 0, "level": 95}, "level must lie"),
])
def test_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        performance_measures(**kwargs)


def test_relative_precision_formula():
    rng = np.random.default_rng(1)
    a = rng.normal(size=200)
    b = 0.5 * a + rng.normal(scale=0.3, size=200)
    value, mcse = relative_precision(a, b)
    ratio2 = a.var(ddof=1) / b.var(ddof=1)
    rho = np.corrcoef(a, b)[0, 1]
    assert value == pytest.approx(100 * (ratio2 - 1))
    assert mcse == pytest.approx(200 * ratio2 * math.sqrt((1 - rho**2) / 199))


def test_n_sim_required_matches_morris_examples():
    # Morris et al. (2019) section 5.3: expected coverage 95% with MCSE 0.5% needs
    # 95 x 5 / 0.5^2 = 1900 replicates; the worst case 50% with MCSE 1% needs 2500.
    # Bias: n_sim = SD^2 / MCSE^2, e.g. SD 0.4 and MCSE 0.005 -> 6400.
    assert n_sim_required("coverage", 0.005, coverage=0.95) == 1900
    assert n_sim_required("coverage", 0.01) == 2500
    assert n_sim_required("bias", 0.005, sd=0.4) == 6400
    with pytest.raises(ValueError, match="sd must be"):
        n_sim_required("bias", 0.01)
    with pytest.raises(ValueError, match="measure must be"):
        n_sim_required("mse", 0.01)


@settings(max_examples=50, deadline=None)
@given(st.integers(10, 400), st.floats(0.05, 0.5), st.floats(-1, 1))
def test_required_replicates_reach_the_target(n_pilot, sd, truth):
    # The bias MCSE at the prescribed n_sim is at most the target (up to the sample SD).
    target = sd / math.sqrt(n_pilot)
    n = n_sim_required("bias", target, sd=sd)
    assert sd / math.sqrt(n) <= target * (1 + 1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=60), st.floats(0.05, 2), st.floats(-2, 2))
def test_invariants(est, s, truth):
    est = np.array(est)
    r = performance_measures(est, np.full(est.size, s), truth)
    assert r["mse"].value == pytest.approx(r["bias"].value ** 2 + r["empse"].value ** 2
                                           * (est.size - 1) / est.size, abs=1e-9)
    assert 0 <= r["coverage"].value <= 1
    assert r["bias"].mcse == pytest.approx(r["empse"].value / math.sqrt(est.size))
    assert r["modse"].value == pytest.approx(s)


def test_wald_interval_level():
    lo, hi = wald_interval([0.0], [1.0], 0.9)
    assert hi[0] == pytest.approx(stats.norm.ppf(0.95))
    assert lo[0] == -hi[0]


def test_agrees_with_an_independent_r_transcription_of_table_6():
    """Reference: tests/reference/simsum_measures/reference.R, base R, e.g.
    ``bias_mcse = sqrt(sum((x - mean(x))^2) / (n * (n - 1)))``,
    ``modse_mcse = sqrt(var(se^2) / (4 * n * modse^2))`` (rsimsum is not installable here)."""
    from tests.reference.cases import load_case

    data, expected = load_case("simsum_measures")
    for method in ("A", "B"):
        g = data[data["method"] == method]
        r = performance_measures(g["estimate"], g["se"], 0.5, converged=g["converged"] == 1)
        exp = expected[method]
        assert r.n_used == exp["n"]
        for name in MEASURES:
            assert r[name].value == pytest.approx(exp[name], rel=1e-12, abs=1e-14), name
            assert r[name].mcse == pytest.approx(exp[f"{name}_mcse"], rel=1e-12, abs=1e-14), name
    a = data.loc[data["method"] == "A", "estimate"].to_numpy()
    b = data.loc[data["method"] == "B", "estimate"].to_numpy()
    value, mcse = relative_precision(a, b)
    assert value == pytest.approx(expected["relative_precision"]["value"], rel=1e-12)
    assert mcse == pytest.approx(expected["relative_precision"]["mcse"], rel=1e-12)


def test_rejection_by_each_replicates_own_test_and_nonpositive_se_excluded():
    est, se = np.zeros(4), np.array([1.0, 1.0, -1.0, 0.0])
    r = performance_measures(est, se, 0.0, rejected=[True, False, True, True])
    assert r["power"].value == 0.5 and r["power"].n == 2  # the two positive SEs only
    assert r["convergence"].value == 0.5


def test_relative_precision_uses_the_replicates_where_both_converged():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 200), rng.normal(0, 0.8, 200)
    conv_a = np.arange(200) % 5 != 0  # a fifth of A's replicates failed but kept an estimate
    a_wild = np.where(conv_a, a, 10 * a)
    both = relative_precision(a[conv_a], b[conv_a])
    assert relative_precision(a_wild, b, converged_a=conv_a) == both
    assert relative_precision(a_wild, b) != both
