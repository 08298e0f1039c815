"""Censoring calibrated to a printed median follow-up (reverse Kaplan-Meier, observed or
censored patients' times), alone or with an event count: the solved design reaches the
target in the large-sample formulas, and simulated cohorts hit it within Monte Carlo
error."""
from __future__ import annotations

import copy
import tomllib

import numpy as np
import pytest

from tacebench import simulate
from tacebench.estimators import kaplan_meier
from tacebench.simulate.calibration_cohort import CAL_PER_ARM
from tacebench.simulate.censoring_cal import CensoringDesign, median_followup
from tacebench.simulate.io import spec_from_dict
from tacebench.simulate.spec import SpecError

from .conftest import SPECS

REPS = 160          # simulated cohorts pooled per check (40,000 patients)


def small_dict(**censoring) -> dict:
    with open(SPECS / "small.toml", "rb") as fh:
        d = tomllib.load(fh)
    main = d["cohorts"]["main"]
    for part in ("response", "missing", "time_varying", "unmeasured"):   # not needed: faster
        main.pop(part)
    main["censoring"] = {"accrual": 36, "follow_up": 12, **censoring}
    return d


def pooled(plan, reps=REPS):
    batch = simulate.generate_cohort_batch(plan, range(reps))
    return batch.columns["os_time"].ravel(), batch.columns["os_event"].ravel()   # (reps, n) -> pooled


def test_reverse_km_median_without_loss_is_follow_up_plus_half_the_accrual():
    # G(t) = (accrual + follow_up - t) / accrual after follow_up: 1/2 at follow_up + accrual/2
    assert median_followup(CensoringDesign(36.0, 12.0), "reverse_km") == pytest.approx(30.0, abs=1e-9)
    assert median_followup(CensoringDesign(0.0, 20.0), "reverse_km") == pytest.approx(20.0, abs=1e-9)
    with_loss = median_followup(CensoringDesign(36.0, 12.0, loss_rate=0.03), "reverse_km")
    assert 12.0 < with_loss < 30.0


def test_observed_median_is_below_the_reverse_km_median():
    times = np.random.default_rng(1).exponential(12.0, 5000)
    design = CensoringDesign(36.0, 12.0)
    assert median_followup(design, "observed", times) < median_followup(design, "reverse_km")


@pytest.fixture(scope="module")
def loss_plan():
    return simulate.compile_plan(spec_from_dict(small_dict(
        loss_rate="calibrate", median_followup={"value": 20.0})))


def test_loss_rate_solved_to_reverse_km_median(loss_plan):
    rep = loss_plan.report["censoring"]
    assert rep["median_followup"]["achieved"] == pytest.approx(20.0, abs=1e-6)
    assert loss_plan.outcomes.loss_rate > 0 and loss_plan.outcomes.follow_up == 12.0
    # the printed median sits where the simulated reverse KM crosses 1/2, within 4 SE
    time, event = pooled(loss_plan)
    s = kaplan_meier(time, 1 - event).survival_at([20.0])
    assert abs(s.survival[0] - 0.5) <= 4 * s.se[0]
    # and the replicates' reverse-KM medians centre on it
    medians = [kaplan_meier(*cohort_os(loss_plan, seed)).median().estimate for seed in range(40)]
    assert abs(np.mean(medians) - 20.0) <= 4 * np.std(medians) / np.sqrt(len(medians)) + 0.1


def cohort_os(plan, seed):
    c = simulate.generate_cohort(plan, seed=seed).columns
    return c["os_time"], 1 - c["os_event"]


def test_follow_up_and_loss_solved_to_events_and_median_together():
    plan = simulate.compile_plan(spec_from_dict(small_dict(
        follow_up="calibrate", loss_rate="calibrate", events={"value": 150},
        median_followup={"value": 18.0})))
    rep = plan.report["censoring"]
    assert rep["events"]["achieved"] == pytest.approx(150, abs=1e-6)
    # the event count is a step function of follow_up on the finite calibration sample, so
    # the outer root is exact only to a jump (well below the printed rounding of 0.05)
    assert rep["median_followup"]["achieved"] == pytest.approx(18.0, abs=1e-3)
    time, event = pooled(plan)
    n = plan.spec.n
    # deaths per cohort of the study's size: mean within 4 SE of the printed count
    deaths = event.reshape(REPS, n).sum(axis=1)
    assert abs(deaths.mean() - 150) <= 4 * deaths.std() / np.sqrt(REPS)
    s = kaplan_meier(time, 1 - event).survival_at([18.0])
    assert abs(s.survival[0] - 0.5) <= 4 * s.se[0]


@pytest.mark.slow
@pytest.mark.parametrize("definition", ["observed", "censored"])
def test_other_definitions_hit_their_median(definition):
    plan = simulate.compile_plan(spec_from_dict(small_dict(
        loss_rate="calibrate", median_followup={"value": 9.0, "definition": definition})))
    assert plan.report["censoring"]["median_followup"]["achieved"] == pytest.approx(9.0, abs=1e-3)
    time, event = pooled(plan)
    keep = np.ones(len(time), bool) if definition == "observed" else event == 0
    share = np.mean(time[keep] <= 9.0)
    # the fit's calibration sample (CAL_PER_ARM per arm) is noisy too
    n_cal = 2 * CAL_PER_ARM * keep.mean()
    assert abs(share - 0.5) <= 4 * np.sqrt(0.25 / keep.sum() + 0.25 / n_cal)


def test_unreachable_median_keeps_the_closest_design_with_a_note():
    plan = simulate.compile_plan(spec_from_dict(small_dict(
        loss_rate="calibrate", median_followup={"value": 40.0})))    # no loss already gives 30
    rep = plan.report["censoring"]
    assert plan.outcomes.loss_rate == 0.0 and "at most the reported 40" in rep["notes"][0]


@pytest.mark.parametrize("endpoint", ["os", "pfs"])
def test_an_event_count_no_loss_reaches_keeps_the_closest_with_a_note(two_arm, endpoint):
    """0 events: every loss rate leaves some events before any loss (scipy's brentq used
    to fail with 'f(a) and f(b) must have different signs')."""
    two_arm["cohorts"]["main"]["censoring"].update(loss_rate="calibrate", events={"endpoint": endpoint, "value": 0})
    plan = simulate.compile_plan(spec_from_dict(two_arm), cache=None)
    rep = plan.report["censoring"]
    assert plan.outcomes.loss_rate == 50.0 and 0 < rep["events"]["achieved"] < 1
    assert rep["notes"] == [f"no loss_rate in [0, 50] per month brings events down to 0 (some events come "
                            f"before any loss); kept 50, the closest (events {rep['events']['achieved']:.4g})"]


@pytest.mark.parametrize("censoring, key, words", [
    ({"loss_rate": "calibrate"}, "loss_rate", "no events or median_followup target"),
    ({"follow_up": "calibrate", "loss_rate": "calibrate", "median_followup": {"value": 10}},
     "follow_up", "give both an events and a median_followup target"),
    ({"loss_rate": "calibrate", "events": {"value": 100}, "median_followup": {"value": 10}},
     "loss_rate", "one unknown for two targets"),
    ({"median_followup": {"value": 10, "definition": "median_of_survivors"}},
     "median_followup.definition", "must be one of"),
    ({"median_followup": {"value": -1}}, "median_followup.value", "must be > 0"),
])
def test_bad_censoring_names_key_and_value(censoring, key, words):
    with pytest.raises(SpecError) as exc:
        spec_from_dict(small_dict(**censoring), source="cohort.toml")
    msg = str(exc.value)
    assert f"censoring.{key}" in msg and words in msg, msg


def test_median_followup_arm_must_exist():
    d = small_dict(median_followup={"value": 10, "arm": "Placebo"})
    with pytest.raises(SpecError) as exc:
        spec_from_dict(copy.deepcopy(d), source="cohort.toml")
    assert "censoring.median_followup.arm" in str(exc.value) and "Placebo" in str(exc.value)


def test_median_not_reached_is_refused_as_a_calibration_input():
    d = small_dict()
    d["cohorts"]["main"]["outcomes"]["os"]["calibrate"][2]["value"] = "NR"
    with pytest.raises(SpecError) as exc:
        spec_from_dict(d, source="cohort.toml")
    msg = str(exc.value)
    assert "outcomes.os.calibrate[2].value" in msg and "not reached" in msg and "landmark rates" in msg


@pytest.mark.slow
def test_reverse_km_followup_is_solved_before_a_crude_hr_target():
    """A reverse-KM median follow-up does not depend on the deaths, so the censoring is
    solved first and a crude-HR calibration target (which needs the follow-up) is allowed;
    an event count is not (it depends on the deaths)."""
    d = small_dict(loss_rate="calibrate", median_followup={"value": 20.0})
    main = d["cohorts"]["main"]
    main["outcomes"]["os"]["calibrate"] = [
        {"arm": "Control", "kind": "median", "value": 10.0},
        {"arm": "Combo", "kind": "median", "value": 14.0},
        {"arm": "Combo", "kind": "hr", "value": 0.7}]
    main["outcomes"]["os"]["hazards"] = "arm_specific"
    plan = simulate.compile_plan(spec_from_dict(d))
    assert plan.report["censoring"]["median_followup"]["achieved"] == pytest.approx(20.0, abs=1e-6)
    assert plan.outcomes.loss_rate > 0 and plan.spec.censoring.loss_rate == "calibrate"
    hr = [t for t in plan.report["os"]["targets"] if t["kind"] == "hr"][0]
    assert hr["fitted"] == pytest.approx(0.7, rel=0.02)
    d2 = small_dict(loss_rate="calibrate", events={"value": 150})
    d2["cohorts"]["main"]["outcomes"] = main["outcomes"]
    with pytest.raises(SpecError) as exc:
        spec_from_dict(d2, source="cohort.toml")
    assert "needs a numeric censoring.loss_rate" in str(exc.value)
