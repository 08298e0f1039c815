"""Every method family on the stand-in mechanism: the ADEMP checks on a small grid.

Under the null without confounding each consistent estimator's bias lies within 2 MCSE of 0
and its nominal 95% Wald interval covers within 2 MCSE of 95% (MCSE at the nominal rate,
sqrt(0.95 x 0.05 / n_sim)); the crude Cox under confounding (treated patients have higher
x, and x raises the hazard) is biased upwards; the naive "duration of therapy" Cox shows
the immortal-time artefact (a spurious protective effect per month) and the time-varying
fit does not.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tacebench.benchmarks.methods import validate_method
from tacebench.benchmarks.methods.immortal import split_at_event_times, split_exposure
from tacebench.benchmarks.runner import load_results, run_study
from tacebench.benchmarks.study import load_study
from tacebench.benchmarks.summary import performance_table

STUDY = Path(__file__).with_name("data") / "methods.toml"


@pytest.fixture(scope="module")
def perf(tmp_path_factory):
    study = load_study(STUDY)
    out = tmp_path_factory.mktemp("methods")
    run_study(study, out, n_jobs=1, progress=False)
    results, truths = load_results(out)
    table = performance_table(results, truths)
    return {(r.scenario, r.method, r.measure): r for r in table.itertuples(index=False)}, results


NULL_METHODS = ["crude_cox", "mv_cox", "iptw_ate", "iptw_att_stab", "iptw_trunc", "overlap",
                "psm", "exact", "tv_duration", "tv_ever", "landmark_ever", "ebal", "cbps",
                "matchw", "mahalanobis", "aiptw_risk12", "gformula_rmst12", "iptw_rmst12"]


@pytest.mark.parametrize("method", NULL_METHODS)
def test_null_without_confounding_unbiased_with_nominal_coverage(perf, method):
    table, _ = perf
    bias = table[("null", method, "bias")]
    assert bias.n >= 55  # nearly every replicate usable
    assert abs(bias.value) <= 2 * bias.mcse, (bias.value, bias.mcse)
    cover = table[("null", method, "coverage")]
    nominal_mcse = math.sqrt(0.95 * 0.05 / cover.n)
    assert abs(cover.value - 0.95) <= 2 * nominal_mcse, cover.value


def test_crude_cox_is_biased_upwards_under_confounding(perf):
    table, _ = perf
    crude = table[("confounded", "crude_cox", "bias")]
    adjusted = table[("confounded", "mv_cox", "bias")]
    assert crude.value > 0.3 and crude.value > 10 * crude.mcse
    assert abs(adjusted.value) <= 2 * adjusted.mcse


def test_naive_duration_shows_immortal_time_bias_and_time_varying_fit_does_not(perf):
    table, _ = perf
    naive = table[("confounded", "naive_duration", "bias")]
    tv = table[("confounded", "tv_duration", "bias")]
    assert naive.value < -0.05 and naive.value < -10 * naive.mcse  # spurious protection
    assert abs(tv.value) <= 2 * tv.mcse
    assert table[("confounded", "naive_duration", "coverage")].value < 0.2


def test_diagnostics_are_recorded(perf):
    _, results = perf
    psm = results[results["method"] == "psm"]
    assert (psm["x_matched_sets"] > 0).all()
    assert (psm["x_dropped_treated"] >= 0).all()
    ate = results[results["method"] == "iptw_ate"]
    assert ((ate["x_ess"] > 0) & (ate["x_ess"] <= 300)).all()
    # balance after weighting/matching is better than before (crude records the raw SMD)
    crude = results[(results["method"] == "crude_cox") & (results["scenario"] == "null")]
    assert ate["x_smd_x"].mean() < crude["x_smd_x"].mean()


def test_split_at_event_times_is_exact():
    time = np.array([2.0, 5.0, 3.0, 7.0, 5.0])
    event = np.array([1, 0, 1, 1, 1])
    subj, start, stop, ev = split_at_event_times(time, event)
    # event times 2, 3, 5, 7; subject 1 (censored at 5) has rows (0,2], (2,3], (3,5]
    rows1 = [(a, b, e) for s, a, b, e in zip(subj, start, stop, ev) if s == 1]
    assert rows1 == [(0.0, 2.0, 0), (2.0, 3.0, 0), (3.0, 5.0, 0)]
    assert ev.sum() == event.sum()
    for i in range(time.size):  # rows tile (0, time_i]
        r = subj == i
        assert start[r][0] == 0 and stop[r][-1] == time[i]
        assert np.all(start[r][1:] == stop[r][:-1])


@pytest.mark.parametrize("family, options, match", [
    ("weighting", {"weights": "ATX"}, "weights must be one of"),
    ("weighting", {"truncate": [99, 1]}, "truncate must be"),
    ("matching", {"caliper": "wide"}, "caliper must be a number"),
    ("cox", {"covariate": ["x"]}, "unknown option"),
    ("balancing", {"method": "kernel"}, "method must be one of"),
    ("matching", {"covariate_caliper": "tight"}, "covariate_caliper must be a number"),
    ("survival_ate", {"horizons": [12.0, 6.0]}, "horizons must be an increasing list"),
    ("nonsense", {}, "family must be one of"),
    ("tests.benchmarks.toy:nothing", {}, "cannot be imported"),
])
def test_bad_method_options_fail_at_load_time(family, options, match):
    with pytest.raises(ValueError, match=match):
        validate_method(family, options)


def test_windowed_exposure_split_gives_the_same_cox_fit_as_splitting_everywhere():
    from tacebench.estimators.survival.cox import cox_ph

    rng = np.random.default_rng(3)
    n = 120
    t, c = rng.exponential(20, n), rng.exponential(40, n)
    time, event = np.minimum(t, c), (t <= c).astype(np.int8)
    start = np.where(rng.random(n) < 0.8, rng.exponential(1, n), np.inf)
    start[:5] = 0.0
    stop = np.minimum(start + rng.gamma(1.4, 7, n), time)
    s, lo, hi, ev, z = split_exposure(time, event, start, stop)
    S, LO, HI, EV = split_at_event_times(time, event)
    Z = np.where(np.isfinite(start[S]), np.clip(HI - start[S], 0, np.maximum(stop[S] - start[S], 0)), 0)
    assert len(hi) < len(HI)
    a = cox_ph(hi, ev, z, entry=lo, cluster=s)
    b = cox_ph(HI, EV, Z, entry=LO, cluster=S)
    np.testing.assert_allclose([a.coef[0], a.se[0], a.robust_se[0]],
                               [b.coef[0], b.se[0], b.robust_se[0]], rtol=1e-10)


def test_star_with_exclusions():
    from tacebench.benchmarks.methods import covariate_names

    data = {"treated": np.zeros(3), "_covariates": np.array(["age", "sites", "male"])}
    assert covariate_names(data, ["*"]) == ["age", "sites", "male"]
    assert covariate_names(data, ["*", "-sites"]) == ["age", "male"]
    assert covariate_names(data, ["*", "-absent"]) == ["age", "sites", "male"]  # other bases
    for bad in (["age", "-sites"], ["*", "-"], ["*", 3]):
        with pytest.raises(ValueError, match="covariates"):
            validate_method("weighting", {"covariates": bad})


def test_ps_design_pools_a_level_seen_in_one_arm_only():
    """ALBI grade 3 in two treated patients and no control separates a PS model on
    indicators; pooled with grade 2 it does not (and the outcome design is unchanged)."""
    from tacebench.benchmarks.methods import design
    from tacebench.benchmarks.methods._common import propensity_fit

    rng = np.random.default_rng(0)
    n = 200
    z = (rng.random(n) < 0.5).astype(np.int8)
    albi = np.where(rng.random(n) < 0.5, 0.0, 1.0)
    albi[np.flatnonzero(z == 1)[:2]] = 2.0
    data = {"treated": z, "albi": albi, "age": rng.normal(60, 8, n),
            "_levels": {"albi": ("1", "2", "3")}}
    assert design(data, ["albi", "age"]).shape == (n, 3)
    pooled = design(data, ["albi", "age"], pool_by=z)
    assert pooled.shape == (n, 2)
    np.testing.assert_array_equal(pooled[:, 0], albi >= 1.0)
    _, ps, converged = propensity_fit(data, ["albi", "age"])
    assert converged and 0 < ps.min() and ps.max() < 1
    # lowest level in one arm only: pooled upwards
    albi2 = np.where(albi == 2.0, 1.0, albi)
    albi2[np.flatnonzero(z == 0)[:3]] = -1.0
    data2 = {**data, "albi": albi2}
    np.testing.assert_array_equal(design(data2, ["albi"], pool_by=z)[:, 0],
                                  np.where(albi2 == -1.0, 0.0, albi2))
