"""Covariate effects restricted to one arm (``effects[].arm``): a treatment-by-covariate
interaction in the hazard, the calibration and the true estimands."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from tacebench import simulate
from tacebench.estimators.survival.cox import cox_ph
from tacebench.simulate import SpecError, spec_from_dict
from tacebench.simulate.outcomes import EndpointPlan
from tacebench.simulate.potential_curves import potential_curves

#: the interaction of these tests: patients aged >= 60 of the treated arm TACEX die at
#: 1.8 times the hazard of the younger ones; in the control arm age does nothing
OLD = {"variable": "age", "hr": 1.8, "above": 60, "arm": "TACEX"}


def _effects(d):
    return d["cohorts"]["main"]["outcomes"]["os"]["effects"]


def _big(two_arm, n: int = 6000) -> dict:
    """The two-arm fixture with ``n`` patients per arm and the interaction."""
    d = copy.deepcopy(two_arm)
    d["cohorts"]["main"]["arms"] = [{"label": "TACE", "n": n, "treated": False},
                                    {"label": "TACEX", "n": n, "treated": True}]
    d["cohorts"]["main"]["variables"][1]["arms"] = {"TACE": {"p": 0.8}, "TACEX": {"p": 0.8}}
    _effects(d).append(dict(OLD))
    return d


def test_an_unknown_arm_is_a_problem_naming_key_value_and_arms_with_the_others(two_arm):
    _effects(two_arm).append({"variable": "age", "hr": 1.5, "arm": "Nope"})
    _effects(two_arm).append({"variable": "weight", "hr": 1.1})
    with pytest.raises(SpecError) as err:
        spec_from_dict(two_arm, source="cohort.toml")
    msg = str(err.value)
    assert ("cohort.toml: cohorts.main.outcomes.os.effects[1].arm: unknown arm 'Nope'; "
            "arms are ['TACE', 'TACEX']") in msg, msg
    assert "effects[2].variable: unknown variable 'weight'" in msg, msg   # collected at once


def test_an_arm_that_is_not_a_label_is_refused(two_arm):
    _effects(two_arm).append({"variable": "age", "hr": 1.5, "arm": 3})
    with pytest.raises(SpecError, match=r"effects\[1\]\.arm: must be a string .*got 3"):
        spec_from_dict(two_arm, source="cohort.toml")


def test_one_variable_in_each_arm_is_two_effects(two_arm):
    _effects(two_arm)[:] = [{"variable": "male", "hr": 1.2, "arm": "TACE"},
                            {"variable": "male", "hr": 1.5, "arm": "TACEX"}]
    assert [e.arm for e in spec_from_dict(two_arm).cohort().os.effects] == ["TACE", "TACEX"]


@pytest.mark.parametrize("second,words", [
    ({"variable": "male", "hr": 1.5, "arm": "TACEX"},
     "effects[1]: repeats outcomes.os.effects[0] ('male', every arm) in arm 'TACEX': hr = 1.2 and "
     "hr = 1.5 would both apply there"),
    ({"variable": "male", "hr": 1.5, "arm": "TACEX"}, None),
], ids=["every arm and one arm", "twice in one arm"])
def test_an_effect_of_every_arm_and_of_one_arm_or_twice_in_one_arm_is_refused(two_arm, second, words):
    if words is None:   # the same arm twice
        _effects(two_arm)[0]["arm"] = "TACEX"
        words = ("effects[1]: repeats outcomes.os.effects[0] ('male', arm 'TACEX'): hr = 1.2 and "
                 "hr = 1.5 would both apply")
    _effects(two_arm).append(second)
    with pytest.raises(SpecError) as err:
        spec_from_dict(two_arm, source="cohort.toml")
    assert words in str(err.value), str(err.value)


def _lp_plan(effects) -> EndpointPlan:
    return EndpointPlan(np.array([0.0, 6.0]), np.array([0.05, 0.04]), tuple(effects), 0.0, 0.0)


def test_the_other_arms_linear_predictor_is_bit_identical_to_no_effect():
    rng = np.random.default_rng(5)
    cols = {"age": rng.normal(60, 10, 1000), "male": (rng.random(1000) < 0.7).astype(float)}
    treated = (rng.random(1000) < 0.4).astype(np.int8)
    male = ("male", "per", float(np.log(1.2)), 1.0, None)
    old = ("age", "above", float(np.log(1.8)), 60.0, 1)
    with_it = _lp_plan((old, male)).covariate_lp(cols, 1000, treated)   # listed first: order is no matter
    without = _lp_plan((male,)).covariate_lp(cols, 1000, treated)
    control = treated == 0
    assert with_it[control].tobytes() == without[control].tobytes()
    assert np.allclose(with_it[~control] - without[~control], np.log(1.8) * (cols["age"][~control] >= 60))
    with pytest.raises(ValueError, match="'age' acts in one arm"):
        _lp_plan((old,)).covariate_lp(cols, 1000)


def test_a_cox_fit_within_each_arm_recovers_the_arm_specific_hr(two_arm):
    """6000 patients per arm, a third (treated) to 42% (control) aged >= 60, two thirds
    dying within follow-up: the fit's own SE of the within-arm log-HR is about 0.034
    (z = 2.3 treated, 0.9 control with this seed; over seeds 1-8 the treated z averages
    0.3), so 4 SEs bound it."""
    plan = simulate.compile_plan(spec_from_dict(_big(two_arm)), cache=None)
    cols = simulate.generate_cohort(plan, seed=20260601, with_ps=False).columns
    for arm, hr in ((1, 1.8), (0, 1.0)):
        m = cols["treated"] == arm
        x = np.column_stack([(cols["age"][m] >= 60).astype(float), cols["male"][m].astype(float)])
        fit = cox_ph(cols["os_time"][m], cols["os_event"][m], x)
        assert abs(fit.coef[0] - np.log(hr)) < 4 * fit.se[0], (arm, fit.hr[0], fit.se[0])
        assert abs(fit.coef[1] - np.log(1.2)) < 4 * fit.se[1], (arm, fit.hr[1], fit.se[1])


def test_calibration_and_the_true_curves_see_the_effect_in_its_arm_only(two_arm):
    """The treated arm's calibrated median is 14 months with the older patients at 1.8
    times the hazard; its curve in the treated population (ATT) is that arm's marginal
    survival, whose median is then 14 again; without the interaction in the treated
    potential outcome (the effect ignored by the truth) it would be about 17."""
    plan = simulate.compile_plan(spec_from_dict(_big(two_arm)), cache=None)
    fitted = {t["arm"]: t["fitted"] for t in plan.report["os"]["targets"]}
    assert fitted["TACEX"] == pytest.approx(14.0, abs=0.05) and fitted["TACE"] == pytest.approx(10.0, abs=0.05)
    grid = np.arange(0.0, 30.01, 0.05)
    s1, _ = potential_curves(plan, "att", 50_000, grid)
    median = grid[np.flatnonzero(s1 <= 0.5)[0]]
    assert median == pytest.approx(14.0, abs=0.3)


def test_a_batch_of_cohorts_with_the_interaction_is_each_cohort_bit_for_bit(two_arm):
    plan = simulate.compile_plan(spec_from_dict(_big(two_arm, n=300)), cache=None)
    batch = simulate.generate_cohort_batch(plan, [11, 12])
    for r, seed in enumerate((11, 12)):
        one = simulate.generate_cohort(plan, seed=seed, with_ps=False).columns
        for name in ("os_time", "pfs_time", "os_event"):
            assert batch.columns[name][r].tobytes() == one[name].tobytes(), name


def test_both_truth_paths_agree_with_the_interaction(two_arm):
    """The population estimands (one covariate sample, each potential arm its own linear
    predictor) and true_estimands (the curves) give the same ATE; population_tilt asks
    which arm's linear predictor it should return."""
    from tacebench.simulate.truth import true_estimands
    from tacebench.simulate.truth_populations import population_estimands, population_tilt
    plan = simulate.compile_plan(spec_from_dict(_big(two_arm, n=300)), cache=None)
    te = true_estimands(plan, rmst_tau=12.0, landmark=12.0, n_subjects=20_000, cache=None)
    ate = population_estimands(plan, "ATE", landmarks=(12.0,), taus=(12.0,), n_subjects=20_000)
    assert ate.marginal_hr == pytest.approx(te.marginal_hr_ate, rel=1e-9)
    assert ate.survival_difference[0] == pytest.approx(te.survival_difference_ate, abs=1e-12)
    with pytest.raises(ValueError, match="give treated = True or False"):
        population_tilt(plan, "ATE", 1000)
    _, eta1, _ = population_tilt(plan, "ATE", 1000, treated=True)
    _, eta0, _ = population_tilt(plan, "ATE", 1000, treated=False)
    assert np.all((eta1 - eta0 == 0) | np.isclose(eta1 - eta0, np.log(1.8)))
