"""The weighting family's two SEs: robust (Lin-Wei, weights treated as known) and
M-estimation (stacked PS + weighted Cox estimating equations; Shu et al. 2021).

The Monte Carlo check runs ``data/variance.toml``: one confounded scenario (x confounds and
is strongly prognostic), 1000 replicates, IPTW ATE untruncated, truncated at the 1st/99th
percentiles and stabilized, each with both SEs. Morris et al. (2019) MCSEs: empirical SE
``E`` has ``E / sqrt(2 (n - 1))``, average model SE ``M`` has ``sqrt(var(se^2) / (4 n M^2))``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tacebench.benchmarks.methods import SHARED_FITS, SharedFits, validate_method, weighting
from tacebench.benchmarks.runner import load_results, run_study
from tacebench.benchmarks.study import load_study
from tacebench.benchmarks.summary import performance_table

STUDY = Path(__file__).with_name("data") / "variance.toml"
PAIRS = [("ate", "ate_m"), ("trunc", "trunc_m"), ("stab", "stab_m")]
Z = 3.0  # margin in MCSEs


@pytest.fixture(scope="module")
def perf(tmp_path_factory):
    out = tmp_path_factory.mktemp("variance")
    run_study(load_study(STUDY), out, n_jobs=1, progress=False)
    results, truths = load_results(out)
    table = performance_table(results, truths)
    return {(r.method, r.measure): r for r in table.itertuples(index=False)}, results


@pytest.mark.parametrize("robust, m_est", PAIRS)
def test_m_estimation_model_se_is_closer_to_the_empirical_se_than_robust(perf, robust, m_est):
    """``|M_m - E| < |M_r - E|`` by more than 3 MCSEs of ``|M_r - E| - |M_m - E|``.

    That difference's MCSE is bounded by ``mcse(M_r) + mcse(M_m) + 2 mcse(E)`` (the
    triangle inequality for SDs of correlated terms), so the bound holds whatever the
    correlations. Measured margin 7.4-11 such units on six root seeds (4.3-6.2 at 300
    replicates), so the check does not hinge on the seed; dropping the PS-estimation
    correction from the M-estimation variance (i.e. the robust sandwich again) fails it.
    """
    table, _ = perf
    emp, mod_r, mod_m = (table[(robust, "empse")], table[(robust, "modse")],
                         table[(m_est, "modse")])
    # the two methods share the fit: same estimates, hence the same empirical SE
    assert table[(m_est, "empse")].value == emp.value
    assert emp.n == mod_r.n == mod_m.n >= 990
    gap = abs(mod_r.value - emp.value) - abs(mod_m.value - emp.value)
    mcse = mod_r.mcse + mod_m.mcse + 2 * emp.mcse
    assert gap > Z * mcse, dict(empse=emp.value, robust=mod_r.value, m_est=mod_m.value,
                                gap_in_mcse=gap / mcse)


@pytest.mark.parametrize("robust", [p[0] for p in PAIRS])
def test_robust_se_is_conservative_under_confounding(perf, robust):
    """Austin (2016): the sandwich that treats weights as known overstates the ATE's SE."""
    table, _ = perf
    emp, mod = table[(robust, "empse")], table[(robust, "modse")]
    assert mod.value - emp.value > Z * (mod.mcse + emp.mcse), (mod.value, emp.value)


def test_m_estimation_rows_record_the_robust_se_of_the_same_fit(perf):
    _, results = perf
    r = results[results["method"] == "ate"].set_index("rep")
    m = results[results["method"] == "ate_m"].set_index("rep")
    np.testing.assert_array_equal(r["estimate"], m["estimate"])
    np.testing.assert_array_equal(r["se"], m["x_se_robust"])
    assert (m["se"] < m["x_se_robust"]).mean() > 0.95


def _cohort(seed, n=250):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    b = (rng.random(n) < 0.4).astype(np.float64)
    z = (rng.random(n) < 1 / (1 + np.exp(-(0.8 * x + 0.5 * b - 0.3)))).astype(np.int8)
    t = rng.exponential(1 / (0.05 * np.exp(-0.4 * z + 0.8 * x + 0.5 * b)))
    c = rng.exponential(30.0, n)
    return {"treated": z, "x": x, "b": b, "os_time": np.minimum(t, c),
            "os_event": (t <= c).astype(np.int8)}


@pytest.mark.parametrize("options", [
    {}, {"stabilized": True}, {"truncate": [1, 99]}, {"stabilized": True, "truncate": [5, 95]},
    {"weights": "ATT"}, {"weights": "ATT", "truncate": [0, 95]}, {"weights": "ATO"},
    {"ties": "breslow"},
])
@pytest.mark.parametrize("seed", [1, 2])
def test_m_estimation_se_equals_estimators_iptw_cox(options, seed):
    from tacebench.estimators.iptw_cox import iptw_cox

    data = _cohort(seed)
    config = validate_method("weighting", {"covariates": ["x", "b"],
                                           "variance": "m_estimation", **options})
    out = weighting.fit(data, config, None)
    ref = iptw_cox(data["os_time"], data["os_event"], data["treated"],
                   np.column_stack([data["x"], data["b"]]), estimand=config["weights"],
                   stabilized=config["stabilized"], truncate=tuple(config["truncate"]) or None,
                   ties=config["ties"], variance="m_estimation")
    assert out.converged
    np.testing.assert_allclose(out.estimate, ref.coef, rtol=0, atol=1e-10)
    np.testing.assert_allclose(out.se, ref.se_m_estimation, rtol=0, atol=1e-10)
    np.testing.assert_allclose(out.extra["se_robust"], ref.se_robust, rtol=0, atol=1e-10)
    robust = weighting.fit(data, {**config, "variance": "robust"}, None)
    assert robust.se == out.extra["se_robust"] and robust.estimate == out.estimate


def _counting_pipeline(monkeypatch) -> list:
    calls = []
    real = weighting._fit_pipeline

    def counted(data, config):
        calls.append(weighting._fit_key(config))
        return real(data, config)
    monkeypatch.setattr(weighting, "_fit_pipeline", counted)
    return calls


def test_the_shared_fit_is_passed_with_the_replicate_and_keyed_on_the_fit_options(monkeypatch):
    assert not hasattr(weighting, "_LAST")  # no module-level memo
    calls = _counting_pipeline(monkeypatch)
    a = _cohort(1)
    cfg = validate_method("weighting", {"covariates": ["x", "b"]})
    m_cfg = {**cfg, "variance": "m_estimation"}
    alone = [weighting.fit(a, c, None) for c in (cfg, m_cfg)]   # no store: each fits
    assert len(calls) == 2
    shared = {**a, SHARED_FITS: SharedFits()}
    together = [weighting.fit(shared, c, None) for c in (m_cfg, cfg, {**cfg, "balance": True})]
    # one fit for the three (and its PS model, its covariate design and the balance
    # columns, which any family may share)
    store = shared[SHARED_FITS]
    assert len(calls) == 3 and len(store) == 4
    assert ("covariate_design", ("x", "b")) in store and ("balance", ("x", "b")) in store
    assert together[:2] == alone[::-1]                          # same numbers either way
    trunc = weighting.fit(shared, {**cfg, "truncate": [1, 99]}, None)
    # truncated weights: a fit of their own, from the same PS model
    assert len(calls) == 4 and len(store) == 5 and trunc.estimate != alone[0].estimate
    other = {**_cohort(2), SHARED_FITS: SharedFits()}           # another replicate, its own store
    assert weighting.fit(other, cfg, None).estimate != alone[0].estimate and len(calls) == 5


def test_prepared_gives_every_replicate_a_fresh_store_and_the_twins_fit_once(monkeypatch):
    from tacebench.benchmarks.dgm import prepared
    from tacebench.simulate import LRUCache

    study = load_study(STUDY)
    scenario = study.scenarios[0]
    cache = LRUCache(max_size=1)
    dgm = prepared(study.fingerprint, scenario, cache=cache)
    assert prepared(study.fingerprint, scenario, cache=cache) is dgm and cache.hits == 1
    a, b = dgm.generate(np.random.default_rng(1)), dgm.generate(np.random.default_rng(1))
    assert isinstance(a[SHARED_FITS], SharedFits) and a[SHARED_FITS] is not b[SHARED_FITS]
    calls = _counting_pipeline(monkeypatch)
    for m in study.methods:
        weighting.fit(a, validate_method(m.family, m.config), None)
    assert len(study.methods) == 6 and len(calls) == 3


def test_a_failing_fit_fails_again_for_the_next_method_on_the_same_cohort():
    data = {**_cohort(3), SHARED_FITS: SharedFits()}
    data["x"] = np.where(data["treated"] == 1, 1.0, -1.0) + 1e-3 * data["x"]  # separates
    for variance in ("robust", "m_estimation"):
        cfg = validate_method("weighting", {"covariates": ["x"], "variance": variance})
        with pytest.raises(ValueError, match="propensity model separated"):
            weighting.fit(data, cfg, None)


def test_variance_option_is_validated():
    with pytest.raises(ValueError, match="variance must be one of"):
        validate_method("weighting", {"covariates": ["x"], "variance": "bootstrap"})
    assert validate_method("weighting", {"covariates": ["x"]})["variance"] == "robust"


def test_a_covariate_without_variation_is_left_out_of_the_propensity_model():
    """A rare level absent from a replicate gives an all-zero PS column: the fit (and the
    M-estimation SE, whose PS Jacobian would otherwise be singular) is that without it."""
    data = _cohort(4)
    data["rare"] = np.zeros(data["x"].size, dtype=np.int8)
    for variance in ("robust", "m_estimation"):
        with_rare = weighting.fit(data, validate_method(
            "weighting", {"covariates": ["x", "rare", "b"], "variance": variance}), None)
        without = weighting.fit(data, validate_method(
            "weighting", {"covariates": ["x", "b"], "variance": variance}), None)
        assert with_rare.converged
        assert (with_rare.estimate, with_rare.se) == (without.estimate, without.se)


def test_shipped_iptw_variance_study_loads_and_builds():
    from tacebench.benchmarks.cohort_dgm import scenario_spec
    from tacebench.benchmarks.study import builtin_studies

    assert "iptw_variance" in builtin_studies()
    study = load_study("iptw_variance")
    assert [s.config["n"] for s in study.scenarios] == [423, 846, 1692]
    names = [m.name for m in study.methods]
    for robust in ("iptw_ate", "iptw_ate_truncated", "iptw_ate_stabilized"):
        # each robust method has its M-estimation twin (the two share one fit per replicate)
        assert f"{robust}_mest" in names
    for s in study.scenarios:
        scenario_spec(s.base, s.cohort, s.config)


@pytest.mark.parametrize("name", ["default", "iptw_variance"])
def test_each_m_estimation_method_has_a_robust_twin(name):
    """Each M-estimation method has a robust method with the same fit options (they share
    the replicate's fit, whatever their order)."""
    methods = load_study(name).methods
    strip = lambda c: {k: v for k, v in dict(c).items() if k not in ("variance", "balance")}
    robust = [strip(m.config) for m in methods
              if m.family == "weighting" and dict(m.config).get("variance", "robust") == "robust"]
    twins = 0
    for m in methods:
        if m.family == "weighting" and dict(m.config).get("variance") == "m_estimation":
            assert strip(m.config) in robust, m.name
            twins += 1
    assert twins == 3
