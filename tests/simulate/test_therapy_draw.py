"""An inclusion on months of therapy (``time_varying.inclusion``): the duration's and the
death's conditional laws, the calibration that sees them, and the spec's refusals."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import stats

from tacebench import simulate
from tacebench.estimators import kaplan_meier
from tacebench.simulate.therapy_draw import draw_dist_above
from tacebench.simulate.spec_outcomes import Dist
from tacebench.simulate.survival import (TherapySegments, cumulative_at_knots, draw_times, marginal_survival,
                                         tv_cumhaz)
from tacebench.simulate.therapy_draw import TherapyDraw

from .conftest import TWO_ARM, scale_arms

KNOTS, RATES = np.array([0.0, 2.0, 6.0, 12.0]), np.array([0.09, 0.05, 0.07, 0.04])


@pytest.mark.parametrize("dist", [Dist("exponential", 3.0), Dist("gamma", 6.0, 6.0), Dist("gamma", 10.8, 10.51),
                                  Dist("gamma", 2.0, 0.5, p_zero=0.3)], ids=["exp", "gamma1", "seed002", "peaked"])
def test_a_duration_above_its_bound_has_the_conditional_law(dist):
    """Kolmogorov-Smirnov against ``(F(x) - F(low)) / (1 - F(low))``; four laws at a
    family-wise 0.001 (fixed seed: the test is deterministic)."""
    low = 1.0
    x = draw_dist_above(dist, low, 20_000, np.random.default_rng(11))
    assert np.all(x > low)
    if dist.distribution == "exponential":
        law = stats.expon(scale=dist.mean)
    else:
        k = (dist.mean / dist.sd) ** 2
        law = stats.gamma(k, scale=dist.mean / k)
    f_low = law.cdf(low)
    p = stats.kstest(x, lambda v: (law.cdf(v) - f_low) / (1 - f_low)).pvalue
    assert p > 0.001 / 4, p


def _draw(b: float, min_months: float, n: int = 3000, seed: int = 2):
    rng = np.random.default_rng(seed)
    mask = rng.random(n) < 0.6
    start = np.where(mask, np.where(rng.random(n) < 0.3, 0.0, rng.exponential(1.0, n)), np.inf)
    dur = np.where(mask, rng.gamma(1.5, 4.0, n), 0.0)
    return TherapyDraw(mask, start, dur, b, min_months), rng.normal(0.0, 0.4, n), rng.exponential(1.0, n)


@pytest.mark.parametrize("b", [0.0, np.log(0.9)])
def test_a_death_drawn_after_its_entry_spends_exactly_its_draw_of_hazard_there(b):
    """Left truncation by inversion: a row of the arm dies after ``start + min_months``,
    and its cumulative hazard from there to its death is its unit-exponential draw over
    ``exp(eta)`` (to rounding); rows outside the arm are drawn as without the inclusion."""
    tv, lp, e = _draw(b, 1.0)
    t = draw_times(e, lp, KNOTS, RATES, cumulative_at_knots(KNOTS, RATES), tv)
    m = tv.mask
    entry = tv.start[m] + 1.0
    assert np.all(t[m] > entry)
    spent = (tv_cumhaz(t[m], KNOTS, RATES, tv.start[m], tv.dur[m], b)
             - tv_cumhaz(entry, KNOTS, RATES, tv.start[m], tv.dur[m], b))
    np.testing.assert_allclose(spent, e[m] * np.exp(-lp[m]), rtol=1e-9, atol=1e-12)
    plain = draw_times(e, lp, KNOTS, RATES, cumulative_at_knots(KNOTS, RATES), TherapyDraw(m, tv.start, tv.dur, b))
    assert np.array_equal(t[~m], plain[~m])


def test_the_curve_of_an_included_arm_is_the_survival_given_alive_at_entry():
    """Segments with an entry count the hazard from it (0 before), and the marginal curve
    of the arm is the mean over rows of ``S(t) / S(entry)`` computed directly."""
    tv, lp, _ = _draw(np.log(0.9), 1.5)
    m = tv.mask
    seg = TherapySegments.build(KNOTS, tv.start[m], tv.dur[m], tv.start[m] + 1.5)
    for t in (0.0, 1.0, 2.5, 7.0, 30.0):
        full = tv_cumhaz(np.maximum(t, tv.start[m] + 1.5), KNOTS, RATES, tv.start[m], tv.dur[m], tv.b)
        at_entry = tv_cumhaz(tv.start[m] + 1.5, KNOTS, RATES, tv.start[m], tv.dur[m], tv.b)
        got = seg.cumhaz(t, RATES, tv.b)
        np.testing.assert_allclose(got, full - at_entry, rtol=1e-12, atol=1e-14)
        assert np.all(got[tv.start[m] + 1.5 >= t] == 0.0)
    arm = tv.rows(m)
    direct = [np.mean(np.exp(-(tv_cumhaz(np.maximum(t, arm.start + 1.5), KNOTS, RATES, arm.start, arm.dur, arm.b)
                               - tv_cumhaz(arm.start + 1.5, KNOTS, RATES, arm.start, arm.dur, arm.b))
                             * np.exp(lp[m]))) for t in (1.0, 5.0, 20.0)]
    np.testing.assert_allclose(marginal_survival(np.array([1.0, 5.0, 20.0]), KNOTS, RATES, lp[m], arm), direct,
                               rtol=1e-12)


def _included(min_months: float) -> dict:
    raw = copy.deepcopy(TWO_ARM)
    main = raw["cohorts"]["main"]
    main["censoring"] = {"accrual": 24, "follow_up": 60, "loss_rate": 0.0}
    main["time_varying"] = {"arm": "TACEX", "start": {"distribution": "exponential", "mean": 1.0, "p_zero": 0.3},
                            "duration": {"distribution": "gamma", "mean": 6.0, "sd": 6.0},
                            "inclusion": {"min_months": min_months, "source": "therapy for >1 month"}}
    scale_arms(main, 10)
    return raw


@pytest.mark.parametrize("min_months", [1.0, 3.0])
def test_the_calibration_sees_the_guaranteed_months(min_months):
    """The arms' pooled Kaplan-Meier medians (10 cohorts of 2,000) hold the calibrated OS
    (10 and 14 months) and PFS medians (5 and 7; PFS = min(progression, death), its fit
    joint with the truncated death) within their 99.9% intervals; a calibration blind to
    the inclusion gave the included arm an OS median of 15.4 (1 month) and 17.4 months (3
    months). The enrolled patients of the arm were on therapy for more than
    ``min_months`` unless follow-up ended first, and none died before ``start +
    min_months``."""
    plan = simulate.compile_plan(simulate.spec_from_dict(_included(min_months)))
    batch = simulate.generate_cohort_batch(plan, np.random.SeedSequence(5).spawn(10))
    col = batch.columns
    for ep, a, target in (("os", 0, 10.0), ("os", 1, 14.0), ("pfs", 0, 5.0), ("pfs", 1, 7.0)):
        m = col["arm"][0] == a
        q = kaplan_meier(col[f"{ep}_time"][:, m].ravel(), col[f"{ep}_event"][:, m].ravel(),
                         conf_level=0.999).median()
        assert q.lower <= target <= q.upper, (ep, a, q)
    m = col["arm"][0] == 1
    start, on, time = col["systemic_start"][:, m], col["systemic_duration"][:, m], col["os_time"][:, m]
    assert np.all(np.isfinite(start))  # everyone enrolled started
    assert np.all((on > min_months) | (time < start + min_months))
    died = col["os_event"][:, m] == 1
    assert np.all(time[died] > start[died] + min_months)


def test_an_inclusion_needs_positive_months_and_proportional_os_without_hr_targets():
    raw = _included(1.0)
    tv = raw["cohorts"]["main"]["time_varying"]
    tv["inclusion"]["min_months"] = 0
    with pytest.raises(simulate.SpecError, match=r"time_varying\.inclusion\.min_months.*0"):
        simulate.spec_from_dict(raw)
    raw = _included(1.0)
    raw["cohorts"]["main"]["outcomes"]["os"]["calibrate"].append({"arm": "TACEX", "kind": "hr", "value": 0.7})
    with pytest.raises(ValueError, match=r"outcomes\.os\.calibrate\[2\]\.kind.*inclusion\.min_months = 1\.0"):
        simulate.spec_from_dict(raw)
    raw = _included(1.0)
    raw["cohorts"]["main"]["outcomes"]["os"]["hazards"] = "arm_specific"
    with pytest.raises(ValueError, match=r"outcomes\.os\.hazards.*inclusion\.min_months = 1\.0"):
        simulate.spec_from_dict(raw)


def test_the_inclusion_enters_the_spec_hash_and_its_quote_does_not():
    def digest(raw):
        return simulate.spec_hash(simulate.spec_from_dict(raw).cohort())
    raw = _included(1.0)
    quoted = digest(raw)
    raw["cohorts"]["main"]["time_varying"]["inclusion"]["source"] = "another quote"
    assert digest(raw) == quoted
    raw["cohorts"]["main"]["time_varying"]["inclusion"]["min_months"] = 2.0
    assert digest(raw) != quoted
    del raw["cohorts"]["main"]["time_varying"]["inclusion"]
    assert digest(raw) != quoted


def test_an_hr_per_month_beyond_the_ratio_range_over_follow_up_is_named():
    """An HR of 1000 per month (per day or week read as per month) failed the build with
    'Residuals are not finite' and numpy's overflow warnings; it is named at its key, with
    the months it is compounded over (here the 99.5th percentile of the planned courses,
    shorter than the 84-month follow-up). 0.9 per month, seed 002's printed estimate,
    builds."""
    raw = _included(1.0)
    raw["cohorts"]["main"]["time_varying"]["hr_per_month"] = 1000.0
    with pytest.raises(simulate.SpecError) as err:
        simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)
    msg = str(err.value)
    assert "time_varying.hr_per_month: 1000 per month on therapy is a hazard ratio of" in msg, msg
    assert "99.5th percentile of the planned durations" in msg and "per week or day" in msg
    raw["cohorts"]["main"]["time_varying"]["hr_per_month"] = 0.9
    simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)
