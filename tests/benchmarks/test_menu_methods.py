"""The estimator-menu families (balancing, survival_ate, matching's mahalanobis and optimal)
against the estimators' public functions on the same cohort, shared fits against unshared,
the cohort generator's tilted-population truths against simulate's, and the matching family
on the matchers' kernels against the public matchers (same matched sets, same errors)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tacebench.benchmarks.methods import (SHARED_FITS, SharedFits, design, get_fit,
                                          validate_method)
from tacebench.benchmarks.methods._common import propensity
from tacebench.benchmarks.methods.matching import match
from tacebench.estimators import match_mahalanobis, match_nearest, match_optimal


def _cohort(seed=3, n=240, control_share=0.6):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    b = (rng.random(n) < 0.4).astype(float)
    z = (rng.random(n) < (1 - control_share) / (1 + np.exp(-0.5 * x)) * 2).astype(np.int8)
    t = rng.exponential(1 / (0.05 * np.exp(-0.3 * z + 0.5 * x + 0.4 * b)))
    c = rng.uniform(6, 40, n)
    return {"treated": z, "x": x, "b": b, "os_time": np.minimum(t, c),
            "os_event": (t <= c).astype(np.int8)}


def _run(family, options, data):
    cfg = validate_method(family, options)
    return get_fit(family)(data, cfg, np.random.default_rng(0))


@pytest.mark.parametrize("quantity", ["risk_difference", "rmst_difference"])
@pytest.mark.parametrize("estimator", ["gformula", "iptw", "aiptw"])
def test_survival_ate_family_equals_the_public_estimators(quantity, estimator):
    from tacebench.estimators.survival.ate import survival_ate
    from tacebench.estimators.survival.ate_rmst import survival_rmst

    data = _cohort()
    X = np.column_stack([data["x"], data["b"]])
    public = (survival_ate if quantity == "risk_difference" else survival_rmst)(
        data["os_time"], data["os_event"], data["treated"], X, horizons=[6.0, 12.0, 24.0],
        estimators=(estimator,))
    for h, t in enumerate((6.0, 12.0, 24.0)):
        out = _run("survival_ate", {"estimator": estimator, "quantity": quantity, "time": t,
                                    "covariates": ["x", "b"]}, data)
        assert out.estimate == pytest.approx(public.difference[0, h], rel=1e-10, abs=1e-12)
        assert out.se == pytest.approx(public.se_difference[0, h], rel=1e-10)


def test_survival_ate_methods_share_one_fit_and_get_the_same_numbers():
    data = _cohort()
    alone = {(e, t): _run("survival_ate", {"estimator": e, "time": t, "covariates": ["x", "b"]},
                          data) for e in ("gformula", "aiptw") for t in (6.0, 24.0)}
    shared = {**data, SHARED_FITS: SharedFits()}
    for (e, t), out in alone.items():
        again = _run("survival_ate", {"estimator": e, "time": t, "covariates": ["x", "b"]},
                     shared)
        assert (again.estimate, again.se) == (out.estimate, out.se)
    # the rows' one fit, its working models and their covariate design
    assert len(shared[SHARED_FITS]) == 3 and ("covariate_design", ("x", "b")) in shared[SHARED_FITS]


@pytest.mark.parametrize("quantity", ["risk_difference", "rmst_difference"])
def test_survival_ate_row_fails_only_on_its_own_estimators_models(quantity):
    """A separated treatment model fails the IPTW-IPCW and AIPTW rows of a shared fit of
    all three estimators, with its reason; the g-formula rows of that fit get the numbers
    they get alone."""
    data = _cohort()
    data["treated"] = (data["x"] > 0).astype(np.int8)
    shared = {**data, SHARED_FITS: SharedFits()}
    both = {"quantity": quantity, "covariates": ["x", "b"],
            "estimators": ["gformula", "iptw", "aiptw"]}
    for t in (6.0, 24.0):
        alone = _run("survival_ate", {**both, "estimator": "gformula", "time": t,
                                      "estimators": ["gformula"]}, data)
        out = _run("survival_ate", {**both, "estimator": "gformula", "time": t}, shared)
        assert (out.estimate, out.se) == (alone.estimate, alone.se)
        for e in ("iptw", "aiptw"):
            with pytest.raises(ValueError, match=r"not estimable \(separated\)"):
                _run("survival_ate", {**both, "estimator": e, "time": t}, shared)


def test_survival_ate_fits_of_other_estimators_share_the_working_models():
    """One-estimator fits (g-formula; IPTW-IPCW; AIPTW, risk and RMST) read one set of
    working models per replicate and get the numbers they get alone."""
    data = _cohort()
    configs = [{"estimator": e, "estimators": [e], "quantity": q, "covariates": ["x", "b"]}
               for e in ("gformula", "iptw", "aiptw")
               for q in ("risk_difference", "rmst_difference")]
    shared = {**data, SHARED_FITS: SharedFits()}
    for config in configs:
        alone = _run("survival_ate", config, data)
        again = _run("survival_ate", config, shared)
        assert (again.estimate, again.se) == (alone.estimate, alone.se)
    assert len(shared[SHARED_FITS]) == len(configs) + 2  # + working models, covariate design


def test_survival_ate_rejects_a_time_outside_its_horizons():
    with pytest.raises(ValueError, match="time 9.0 is not among horizons"):
        _run("survival_ate", {"time": 9.0, "covariates": ["x", "b"]}, _cohort())
    with pytest.raises(ValueError, match="estimators must be a non-empty list"):
        validate_method("survival_ate", {"estimators": ["tmle"]})


@pytest.mark.parametrize("method, target", [("ebal", "ATT"), ("ebal", "ATE"), ("cbps", "ATE"),
                                            ("matching", "")])
def test_balancing_family_is_a_weighted_cox_fit_on_the_estimators_weights(method, target):
    from tacebench.estimators.balancing_weights import balancing_weights
    from tacebench.estimators.propensity import propensity_score
    from tacebench.estimators.survival.cox import cox_ph

    data = _cohort()
    X = np.column_stack([data["x"], data["b"]])
    z = data["treated"]
    if method == "matching":
        ps = propensity_score({"x": data["x"], "b": data["b"]}, z, ["x", "b"]).ps
        bw = balancing_weights(ps, z, method="matching")
    else:
        bw = balancing_weights(X, z, method=method, estimand=target)
    ref = cox_ph(data["os_time"], data["os_event"], z[:, None].astype(float), bw.weights,
                 robust=True)
    out = _run("balancing", {"method": method, "target": target, "covariates": ["x", "b"]},
               data)
    assert out.converged
    assert out.estimate == pytest.approx(ref.coef[0], rel=1e-7)
    assert out.se == pytest.approx(ref.robust_se[0], rel=1e-7)
    if method != "matching":  # balance achieved: the weighted means agree
        assert out.extra["max_imbalance"] < 1e-6


@pytest.mark.parametrize("method, target, case", [
    ("ebal", "ATT", "separated"), ("ebal", "ATE", "dependent"), ("cbps", "ATE", "separated")])
def test_balancing_family_fails_with_the_public_functions_error(method, target, case):
    """Where the kernel does not converge (arms separated on x) or entropy balancing's
    columns are dependent, the family raises what the public function raises."""
    from tacebench.estimators.balancing_weights import balancing_weights

    data = _cohort()
    z = data["treated"]
    if case == "separated":
        data["x"] = data["x"] + 8.0 * z
    else:
        data["c"] = 2.0 * data["x"] - data["b"]
    covariates = ["x", "b"] + (["c"] if case == "dependent" else [])
    X = np.column_stack([data[c] for c in covariates])
    with pytest.raises(ValueError) as public:
        balancing_weights(X, z, method=method, estimand=target)
    with pytest.raises(ValueError) as family:
        _run("balancing", {"method": method, "target": target, "covariates": covariates},
             data)
    assert str(family.value) == str(public.value)
    cause = {"dependent": "linearly dependent", "separated": "convex hull" if method == "ebal"
             else "not solved"}[case]
    assert cause in str(public.value)


def test_balancing_rejects_an_estimand_its_method_does_not_define():
    with pytest.raises(ValueError, match="estimand 'ATT' is not defined for method 'matching'"):
        _run("balancing", {"method": "matching", "target": "ATT", "covariates": ["x"]}, _cohort())


def test_optimal_matching_keeps_every_treated_patient_and_needs_enough_controls():
    data = _cohort(control_share=0.7)
    n1 = int(data["treated"].sum())
    assert len(data["treated"]) - n1 >= n1
    out = _run("matching", {"method": "optimal", "covariates": ["x", "b"]}, data)
    assert out.extra["dropped_treated"] == 0 and out.extra["matched_sets"] == n1
    few = _cohort(control_share=0.2)
    assert (few["treated"] == 0).sum() < few["treated"].sum()
    with pytest.raises(ValueError, match="at least as many controls as treated"):
        _run("matching", {"method": "optimal", "covariates": ["x", "b"]}, few)


def test_mahalanobis_matching_with_a_covariate_caliper_drops_treated_patients():
    data = _cohort(control_share=0.7)
    loose = _run("matching", {"method": "mahalanobis", "covariates": ["x", "b"]}, data)
    tight = _run("matching", {"method": "mahalanobis", "covariates": ["x", "b"],
                              "covariate_caliper": 0.01}, data)
    assert loose.extra["dropped_treated"] == 0
    assert tight.extra["dropped_treated"] > 0
    assert math.isfinite(tight.estimate)


def test_cohort_generator_truth_of_tilted_populations():
    """ATO / ATM truths are simulate's population estimands; ATE / ATT stay those of
    true_estimands (marginal HRs under the scenario's censoring: the Cox estimand the
    methods target); an unknown population is named in the error."""
    from tacebench.benchmarks.cohort_dgm import prepare, scenario_spec
    from tacebench.benchmarks.study import Estimand, Scenario, _freeze
    from tacebench.simulate import compile_plan, true_estimands
    from tacebench.simulate.truth_populations import population_estimands

    factors = {"imbalance": 1.0, "true_hr": 0.7}
    sc = Scenario(0, "t", "t", "cohort", "tace_sorafenib_ehs@multivariable_column", "main",
                  _freeze(factors), ())
    dgm = prepare(sc)
    plan = compile_plan(scenario_spec(sc.base, sc.cohort, factors), "main")
    seed = np.random.SeedSequence(0)
    ato = population_estimands(plan, "ATO", landmarks=(24.0,), taus=(12.0,), censoring=True)
    assert dgm.truth(Estimand("a", "marginal_log_hr", _freeze({"population": "ATO"})), seed) \
        == pytest.approx(math.log(ato.marginal_hr), rel=1e-12)
    assert dgm.truth(Estimand("r", "risk_difference", _freeze({"population": "ATO",
                                                               "time": 24.0})), seed) \
        == pytest.approx(-ato.survival_difference_at(24.0), rel=1e-12)
    te = true_estimands(plan, rmst_tau=12.0, landmark=12.0, censoring=True)
    assert dgm.truth(Estimand("e", "marginal_log_hr", _freeze({"population": "ATE"})), seed) \
        == math.log(te.marginal_hr_ate)
    with pytest.raises(ValueError, match="estimand 'bad': population must be one of"):
        dgm.truth(Estimand("bad", "marginal_log_hr", _freeze({"population": "ATX"})), seed)


# -- the matching family on the matchers' kernels: same sets as the public matchers, same errors

def _match_only(options, data):
    cfg = validate_method("matching", {"covariates": ["x", "b"], **options})
    return match(data, cfg, np.random.default_rng(0))


def _same_sets(a, b):
    return (np.array_equal(a.rows, b.rows) and np.array_equal(a.pair_id, b.pair_id)
            and np.array_equal(a.weights, b.weights) and a.method == b.method)


@pytest.mark.parametrize("options", [
    {"method": "nearest"}, {"method": "nearest", "caliper": 0.05, "ratio": 2},
    {"method": "nearest", "order": "largest", "replace": True},
    {"method": "optimal"},
    {"method": "mahalanobis"}, {"method": "mahalanobis", "covariate_caliper": 0.3, "ratio": 2},
])
def test_matched_sets_equal_the_public_matchers(options):
    data = _cohort()
    z = data["treated"]
    ps, _ = propensity(data, ["x", "b"])
    method = options["method"]
    if method == "nearest":
        want = match_nearest(ps, z, caliper=options.get("caliper", 0.2),
                             ratio=options.get("ratio", 1), replace=options.get("replace", False),
                             order=options.get("order", "data"))
    elif method == "optimal":
        want = match_optimal(ps, z, distance="logit")
    else:
        want = match_mahalanobis(design(data, ["x", "b"]), z,
                                 caliper=options.get("covariate_caliper"),
                                 ratio=options.get("ratio", 1))
    assert _same_sets(_match_only(options, data), want)


@pytest.mark.parametrize("options, message", [
    ({"method": "nearest", "caliper": 0}, "caliper must be positive"),
    ({"method": "nearest", "caliper": 1e-9}, "is met by no treated unit"),
    ({"method": "nearest", "ratio": 0}, "ratio must be a positive integer"),
    ({"method": "mahalanobis", "covariate_caliper": -1.0}, "caliper must be positive"),
    ({"method": "mahalanobis", "covariate_caliper": 1e-9}, "within the covariate calipers"),
    ({"method": "mahalanobis", "ratio": 0}, "ratio must be a positive integer"),
])
def test_invalid_options_raise_the_public_matchers_errors(options, message):
    with pytest.raises(ValueError, match=message):
        _match_only(options, _cohort())


def test_optimal_matching_with_fewer_controls_raises_the_public_error():
    with pytest.raises(ValueError, match="at least as many controls as treated"):
        _match_only({"method": "optimal"}, _cohort(control_share=0.2))


def test_matching_and_matching_weights_share_one_propensity_model():
    """PSM (two calipers), optimal matching and matching weights on one replicate fit one
    PS model and get the numbers they get alone."""
    data = _cohort(control_share=0.7)
    runs = [("matching", {"covariates": ["x", "b"]}),
            ("matching", {"covariates": ["x", "b"], "caliper": 0.05}),
            ("matching", {"method": "optimal", "covariates": ["x", "b"]}),
            ("balancing", {"method": "matching", "covariates": ["x", "b"]})]
    shared = {**data, SHARED_FITS: SharedFits()}
    for family, options in runs:
        alone = _run(family, options, data)
        again = _run(family, options, shared)
        assert (again.estimate, again.se) == (alone.estimate, alone.se)
    # one PS model (and its covariate design)
    assert len(shared[SHARED_FITS]) == 2 and ("covariate_design", ("x", "b")) in shared[SHARED_FITS]


def test_cohort_generator_truths_at_once_are_the_truths_one_at_a_time():
    """``truths`` computes every horizon's ATE/ATT estimands from one pair of curves: the
    same numbers as ``truth`` computing each horizon afresh; a bad population is still
    named."""
    from tacebench.benchmarks.cohort_dgm import prepare
    from tacebench.benchmarks.study import Estimand, Scenario, _freeze
    from tacebench.simulate.truth import TRUTH_CACHE

    sc = Scenario(0, "t", "t", "cohort", "tace_sorafenib_ehs", "main",
                  _freeze({"true_hr": 0.7}), ())
    dgm = prepare(sc)
    ests = [Estimand("c", "conditional_log_hr", _freeze({})),
            Estimand("m", "marginal_log_hr", _freeze({"population": "ATT"})),
            Estimand("o", "marginal_log_hr", _freeze({"population": "ATO"}))]
    ests += [Estimand(f"{k}{h:g}", kind, _freeze({key: h}))
             for k, kind, key in (("r", "risk_difference", "time"), ("s", "rmst_difference", "tau"))
             for h in (6.0, 12.0, 24.0)]
    seeds = [np.random.SeedSequence(i) for i in range(len(ests))]
    TRUTH_CACHE.clear()
    one_at_a_time = [dgm.truth(e, s) for e, s in zip(ests, seeds)]
    TRUTH_CACHE.clear()
    at_once = dgm.truths(ests, seeds)
    assert at_once == one_at_a_time
    assert len(set(one_at_a_time)) == len(ests)  # distinct numbers: the check can fail
    with pytest.raises(ValueError, match="estimand 'bad': population must be one of"):
        dgm.truths([*ests, Estimand("bad", "risk_difference", _freeze({"population": "ATX"}))],
                   [*seeds, seeds[0]])
