"""Whole-cohort calibrations weight the calibration sample's equal arms to the cohort's.

The fixture's arms are 150 and 100; the calibration sample has ``CAL_PER_ARM`` of each.
A quantity of the whole cohort is therefore ``sum_a (n_a / N) E_a[...]``, each arm's
expectation taken over its own sample rows: the checks below compute it so, from the
per-arm means, independently of :func:`cohort_weights`, and ask it to equal the declared
value to the precision of the calibration's root finding.
"""
from __future__ import annotations

import tomllib

import numpy as np
from scipy import special

from tacebench import simulate
from tacebench.simulate.survival import cox_binary_hr
from tacebench.simulate.calibration_cohort import calibration_sample, cohort_weights
from tacebench.simulate.outcomes import response_latent


def _sample(plan) -> dict:
    return calibration_sample(plan.covariates, plan.spec, plan.outcomes.tv)


def _whole_cohort_mean(plan, sample: dict, values: np.ndarray) -> float:
    """``sum_a (n_a / N) mean_a(values)`` over the sample's arm rows."""
    share = plan.covariates.arm_n / plan.covariates.arm_n.sum()
    return float(sum(p * values[sample["arm"] == a].mean() for a, p in enumerate(share)))


def test_cohort_weights_are_the_arm_shares_over_the_samples():
    arm = np.repeat([0, 1, 2], [4, 4, 4])
    w = cohort_weights({"arm": arm, "n": 12}, [50, 30, 20])
    assert np.allclose(w, np.repeat([1.5, 0.9, 0.6], 4)) and np.isclose(w.mean(), 1.0)
    assert np.array_equal(cohort_weights({"arm": arm, "n": 12}, [7, 7, 7]), np.ones(12))   # exactly 1


def test_a_mar_rule_gives_its_declared_share_of_the_whole_cohort(small_plan):
    """albumin's MAR rule (rate 0.2, on pvtt, whose prevalence differs between the arms):
    its expected share over the cohort's arm proportions is 0.2 (equal-arm calibration
    gave 0.1947), and pvtt is standardised by the cohort's mean."""
    sample = _sample(small_plan)
    col, icpt, slope, dep, ctr, scl = next(r for r in small_plan.outcomes.missing if r[0] == "albumin")
    x = sample["cols"][dep]
    p = special.expit(icpt + slope * (x - ctr) / scl)
    assert abs(_whole_cohort_mean(small_plan, sample, p) - 0.2) < 1e-10
    assert abs(ctr - _whole_cohort_mean(small_plan, sample, x)) < 1e-12
    assert abs(scl ** 2 - _whole_cohort_mean(small_plan, sample, (x - ctr) ** 2)) < 1e-12


def test_the_response_latent_is_standardised_over_the_whole_cohort(small_spec_path):
    """With response effects, the centre and scale the columns built on the response see
    are the whole cohort's mean and SD of its latent."""
    raw = tomllib.loads(small_spec_path.read_text())
    raw["cohorts"]["main"]["response"]["effects"] = [
        {"variable": "pvtt", "odds_ratio": 0.3, "rationale": "test"},
        {"variable": "tumor_size", "odds_ratio": 0.8, "rationale": "test"}]
    plan = simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)
    sample = _sample(plan)
    ap = plan.outcomes.responses[0]
    z = ap.rho * sample["w_d"] + np.sqrt(1 - ap.rho ** 2) * sample["w_r"]
    lat = response_latent(z, ap.covariate_lp(sample["cols"], sample["n"]))
    assert abs(ap.center - _whole_cohort_mean(plan, sample, lat)) < 1e-12
    assert abs(ap.scale ** 2 - _whole_cohort_mean(plan, sample, (lat - ap.center) ** 2)) < 1e-12


def _os_hr_pd_fits(small_spec_path, monkeypatch) -> tuple:
    """The plan of the fixture with ``os_hr_pd = 3`` and the arguments of every Cox fit
    its calibration made."""
    from tacebench.simulate import response_cal
    raw = tomllib.loads(small_spec_path.read_text())
    raw["cohorts"]["main"]["response"]["os_hr_pd"] = 3.0
    spec = simulate.spec_from_dict(raw)
    seen = []

    def spy(time, event, x, weights=None):
        seen.append((time, weights))
        return cox_binary_hr(time, event, x, weights)
    monkeypatch.setattr(response_cal, "cox_binary_hr", spy)
    plan = simulate.compile_plan(spec, cache=None)
    assert seen and abs(plan.report["response"]["response"]["os_hr_pd"]["fitted"] - 3.0) < 1e-3
    return plan, seen


def test_the_response_hr_of_pd_is_fitted_over_the_whole_cohort(small_spec_path, monkeypatch):
    """``os_hr_pd`` is the whole cohort's HR: every Cox fit of the calibration weights the
    sample's arms to the cohort's proportions (150 : 100) once the chance of assessment
    is taken out."""
    plan, seen = _os_hr_pd_fits(small_spec_path, monkeypatch)
    arm = _sample(plan)["arm"]
    p_assessed = _assessed(plan, arm, seen[0][0])
    for _, w in seen:
        assert w is not None and len(w) == len(arm)
        assert np.isclose((w / p_assessed)[arm == 0].sum() / (w / p_assessed).sum(), 0.6)


def _assessed(plan, arm: np.ndarray, os_time: np.ndarray) -> np.ndarray:
    """Each sampled patient's probability of a response assessment: ``1 - q_early`` for an
    observed OS before the assessment, ``1 - q_late`` after, per arm."""
    ap = plan.outcomes.responses[0]
    early = os_time < ap.assessment_time
    qe, ql = (np.array(q)[arm] for q in zip(*ap.miss))
    return 1.0 - np.where(early, qe, ql)


def test_the_response_hr_of_pd_is_among_the_assessed(small_spec_path, monkeypatch):
    """The paper's HR of PD vs non-PD is among the assessed patients: with early-death
    missingness (the fixture's Control arm leaves 10 of 150 unassessed, the early deaths
    first) each sampled patient weighs its probability of assessment, so a Cox fit is
    weighted by the cohort's arm share times it. (Unweighted, the population HR among the
    assessed over 4000 pooled cohorts was 2.89 for a declared 3.)"""
    plan, seen = _os_hr_pd_fits(small_spec_path, monkeypatch)
    arm = _sample(plan)["arm"]
    share = np.where(arm == 0, 0.6, 0.4) / 0.5
    for time, w in seen:
        p_assessed = _assessed(plan, arm, time)
        assert (p_assessed < 1).any() and (p_assessed > 0).all()   # every row kept: aligned with arm
        assert np.allclose(w, share * p_assessed, rtol=1e-12, atol=0)


def test_weighted_cox_solves_the_weighted_score_equation():
    """The weighted Breslow fit zeroes ``sum_i d_i w_i (z_i - S1(t_i) / S0(t_i))`` (risk
    sets by brute force), and weights of 1 give the unweighted fit to the bit."""
    gen = np.random.default_rng(3)
    n = 300
    z = (gen.random(n) < 0.4).astype(float)
    t = gen.exponential(1.0, n) * np.exp(-0.7 * z)
    e = (gen.random(n) < 0.8).astype(float)
    w = np.where(z == 1, 0.5, 1.7) * gen.uniform(0.5, 1.5, n)
    beta = np.log(cox_binary_hr(t, e, z, w))
    r = w * np.exp(beta * z)
    at_risk = t[None, :] >= t[:, None]
    score = sum(w[i] * (z[i] - (at_risk[i] * r * z).sum() / (at_risk[i] * r).sum()) for i in np.flatnonzero(e))
    assert abs(score) < 1e-8
    assert cox_binary_hr(t, e, z, np.ones(n)) == cox_binary_hr(t, e, z)
