"""The faster pieces of plan compilation compute the same numbers, bit for bit, as the
direct forms they replace (which are written out here as the references)."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from tacebench.simulate.associations import RiskSets, cox_fit
from tacebench.simulate.cache import PlanCache
from tacebench.simulate.cohort import compile_plan
from tacebench.simulate.families import Family
from tacebench.simulate.survival import (TherapySegments, _seg_integral, _segments, baseline_cumhaz,
                                         marginal_median, tv_cumhaz)
from tacebench.simulate.therapy_draw import TherapyDraw


def _cox_reference(time, event, x, weights):
    """Newton-Raphson of the Breslow partial likelihood with the running sums down the
    first axis of an (n, p, p) array (the direct form)."""
    order = np.argsort(-time, kind="stable")
    d, w = event[order].astype(bool), weights[order]
    z = x[order] - np.average(x[order], axis=0, weights=w)
    beta, step, steps = np.zeros(z.shape[1]), np.inf, 0
    while np.max(np.abs(step)) >= 1e-9 and steps < 30:
        r = w * np.exp(z @ beta)
        s0, s1, s2 = (np.cumsum(a, axis=0)[d] for a in (r, r[:, None] * z,
                                                         r[:, None, None] * (z[:, :, None] * z[:, None, :])))
        mean = s1 / s0[:, None]
        info = np.einsum("i,ijk->jk", w[d], s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :])
        step = np.linalg.solve(info, w[d] @ (z[d] - mean))
        beta, steps = beta + step, steps + 1
    return beta


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(40, 3000), p=st.integers(1, 6))
def test_cox_fit_equals_the_direct_newton_iteration_bit_for_bit(seed, n, p):
    rng = np.random.default_rng(seed)
    time = rng.exponential(size=n)
    event = (rng.random(n) < 0.8).astype(float)
    weights = rng.random(n) + 0.5
    x = np.column_stack([(rng.random(n) < 0.4).astype(float) if j % 2 else rng.standard_normal(n)
                         for j in range(p)])
    if np.any(x.std(axis=0) == 0):
        return  # a constant column: no model to fit
    expected = _cox_reference(time, event, x, weights)
    assert np.array_equal(cox_fit(time, event, x, weights), expected)
    # one sort shared by several models of the same sample
    shared = RiskSets.of(time, event, weights)
    assert np.array_equal(shared.fit(x), expected)
    assert np.array_equal(shared.fit(x[:, :1]), _cox_reference(time, event, x[:, :1], weights))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), b=st.sampled_from([0.0, -0.05, 0.03]))
def test_therapy_segments_give_tv_cumhaz_at_every_time_and_rates(seed, b):
    rng = np.random.default_rng(seed)
    knots = np.array([0.0, 3.0, 6.0, 12.0])
    n = 50
    start = np.where(rng.random(n) < 0.2, np.inf, rng.exponential(4.0, n))
    dur = rng.exponential(6.0, n)
    segments = TherapySegments.build(knots, start, dur)
    for rates in (rng.exponential(0.1, 4), rng.exponential(0.05, 4)):
        for t in (0.0, 2.5, 6.0, 40.0, rng.exponential(10.0)):
            left, right, h, during, after, st_, du = _segments(knots, rates, start, dur)
            tt = np.broadcast_to(np.asarray(t, float), start.shape)[:, None]
            direct = _seg_integral(np.minimum(left, tt), np.minimum(right, tt), h, during, after, st_, du,
                                   b).sum(axis=1)
            assert np.array_equal(segments.cumhaz(t, rates, b), direct)
            assert np.array_equal(tv_cumhaz(t, knots, rates, start, dur, b), direct)


def test_marginal_median_with_therapy_is_that_of_the_survival_it_bisects():
    rng = np.random.default_rng(3)
    knots, rates = np.array([0.0, 6.0, 12.0]), np.array([0.05, 0.08, 0.1])
    n = 400
    mask = rng.random(n) < 0.5
    tv = TherapyDraw(mask, rng.exponential(3.0, n), rng.exponential(8.0, n), np.log(0.9))
    lp = rng.normal(0.0, 0.5, n)
    m = marginal_median(knots, rates, lp, tv)
    risk = np.exp(lp)

    def surv(t):  # the direct form: therapy segments sorted again at each time
        h = np.full(n, float(baseline_cumhaz(t, knots, rates)))
        h[mask] = tv_cumhaz(t, knots, rates, tv.start[mask], tv.dur[mask], tv.b)
        return np.mean(np.exp(-h * risk))
    assert surv(m - 1e-6) > 0.5 > surv(m + 1e-6)


@pytest.mark.parametrize("family, theta, lower, upper", [
    ("normal", (60.0, np.log(10.0)), 18.0, None),
    ("lognormal", (np.log(5.0), np.log(0.8)), None, 400.0),
    ("gamma", (np.log(2.0), np.log(3.0)), 0.5, 50.0),
])
def test_fixed_distribution_gives_the_frozen_distribution_numbers(family, theta, lower, upper):
    fam = Family(family, theta, lower, upper)
    a, b = theta[0], np.exp(theta[1])
    frozen = {"normal": lambda: stats.norm(loc=a, scale=b),
              "lognormal": lambda: stats.lognorm(s=b, scale=np.exp(a)),
              "gamma": lambda: stats.gamma(a=float(np.exp(a)), scale=b)}[family]()
    d = fam.dist()
    x = np.linspace(1.0, 80.0, 17)
    q = np.linspace(0.01, 0.99, 17)
    for name, arg in (("cdf", x), ("sf", x), ("logpdf", x), ("logcdf", x), ("logsf", x), ("ppf", q), ("isf", q)):
        assert np.array_equal(getattr(d, name)(arg), getattr(frozen, name)(arg)), name
    assert d.median() == frozen.median()
    with pytest.raises(AttributeError, match="no method 'rvs'"):
        d.rvs


def _numbers(plan) -> bytes:
    """A plan's covariate and outcome models, pickled (every array and float, bit for bit)."""
    return pickle.dumps((plan.covariates, plan.outcomes))


@pytest.mark.slow
def test_plans_sharing_fitted_marginals_through_a_plan_cache_equal_fresh_plans():
    import dataclasses

    from tacebench.simulate.io import load_spec

    study = load_spec("tace_regorafenib")
    c = study.cohort(None)
    # the same variables, another outcome model: the marginals are shared, not refitted
    other = dataclasses.replace(c, os=dataclasses.replace(c.os, smoothness=c.os.smoothness * 2))
    cache = PlanCache()
    compile_plan(dataclasses.replace(study, cohorts={c.name: other}), cache=cache)
    fitted = cache.parts.misses
    shared = compile_plan(study, cache=cache)
    assert cache.parts.hits >= fitted > 0
    assert _numbers(shared) == _numbers(compile_plan(study, cache=None))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pfs=st.booleans())
def test_target_means_with_one_baseline_per_time_equal_the_patients_by_times_matrix(seed, pfs):
    from tacebench.simulate.target_means import target_means

    rng = np.random.default_rng(seed)
    n, times = 300, np.array([3.0, 6.0, 12.5])
    h_t = baseline_cumhaz(times, np.array([0.0, 4.0, 10.0]), rng.uniform(0.01, 0.2, 3))
    risk = np.exp(rng.normal(size=n))
    arm = rng.integers(0, 2, n)
    rows_of = {a: np.flatnonzero(arm == a) for a in (0, 1)}
    arms, cols = [0, 1, 1, 0, 1], [0, 0, 2, 1, 0]  # a repeated (arm, time) pair too
    joint = ((rng.random((n, len(times))) < 0.7).astype(float), rng.normal(size=n), 0.4) if pfs else None
    matrix = np.broadcast_to(h_t, (n, len(times))).copy()
    assert np.array_equal(target_means(h_t, risk, arms, cols, rows_of, joint),
                          target_means(matrix, risk, arms, cols, rows_of, joint))


def test_solved_effects_come_with_the_os_fit_of_those_effects():
    import dataclasses

    from tacebench.simulate import load_spec
    from tacebench.simulate.associations import solve_effects
    from tacebench.simulate.calibrate import column_types, fit_endpoint
    from tacebench.simulate.calibration_cohort import calibration_sample
    from tacebench.simulate.plan import compile_covariates

    from .test_associations import _spec

    assoc = [{"variable": "x", "univariable": {"hr": 1.5, "ci": [1.2, 1.9]},
              "multivariable": {"hr": 1.4, "ci": [1.1, 1.8]}},
             {"variable": "b", "univariable": {"hr": 1.6, "ci": [1.1, 2.3]},
              "multivariable": {"hr": 1.5, "ci": [1.0, 2.2]}},
             {"variable": "z", "univariable": {"hr": 0.8, "ci": [0.6, 1.1]}}]
    c = load_spec(_spec(150, {"associations": assoc})).cohort(None)
    cp = compile_covariates(c)
    sample = calibration_sample(cp, c, None)
    effects, _report, (os_plan, os_report) = solve_effects(c, cp, sample, column_types(cp, c))
    again, again_report = fit_endpoint(dataclasses.replace(c.os, effects=effects, associations=()), "os",
                                       sample, cp, c, tv=sample["tv"])
    assert pickle.dumps((os_plan, os_report)) == pickle.dumps((again, again_report))


def test_checks_computed_on_request_are_those_of_the_compilations_own_sample(small_spec_path, monkeypatch):
    from tacebench.simulate import calibration_cohort, cohort
    from tacebench.simulate.calibration_quality import calibration_checks, endpoint_checks

    drawn = []

    def spy(*args):
        drawn.append(calibration_cohort.calibration_sample(*args))
        return drawn[-1]

    monkeypatch.setattr(cohort, "calibration_sample", spy)
    plan = compile_plan(small_spec_path, cache=None)
    monkeypatch.undo()
    sample, c, op = drawn[0], plan.spec, plan.outcomes
    assert "checks" not in plan.report["os"] and "checks" not in plan.report["pfs"]
    censoring = (op.accrual, op.follow_up, op.admin_max, op.loss_rate)
    arm_n = {a.label: a.n for a in c.arms}
    direct = (endpoint_checks("os", c.os, op.os, sample, plan.arm_labels, arm_n, censoring, tv=sample["tv"])
              + endpoint_checks("pfs", c.pfs, op.pfs, sample, plan.arm_labels, arm_n, censoring,
                                os_plan=op.os, r_pd=op.r_pd))
    assert len(direct) == len(c.os.calibrate) + len(c.pfs.calibrate)
    assert calibration_checks(plan) == direct
    assert calibration_checks(pickle.loads(pickle.dumps(plan))) == direct


def _direct_os_curves(plan, population, n, grid):
    """The potential-outcome OS curves as the mean over every sampled subject (the direct
    form of ``potential_curves.potential_curves`` without therapy)."""
    from tacebench.simulate.plan import _CAL_SEED, add_derived, draw_covariates

    cp, ep = plan.covariates, plan.outcomes.os
    rng = np.random.default_rng(_CAL_SEED + 7)
    counts = np.maximum(np.round(cp.pi * n).astype(int), 1) if population == "ate" else \
        np.where(np.arange(len(cp.arm_n)) == cp.treated_arm, n, 0)
    arm, x, _, u = draw_covariates(cp, rng, counts, with_ps=False)
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    base = ep.covariate_lp(cols, len(arm)) + (ep.beta_u * u if u is not None else 0.0)
    out = []
    for a in (cp.treated_arm, 1 - cp.treated_arm):
        rates, cum = ep.arm_rates(a == cp.treated_arm)
        risk = np.exp(base + ep.beta_treat * (a == cp.treated_arm))
        out.append(np.array([np.mean(np.exp(-h * risk)) for h in baseline_cumhaz(grid, ep.knots, rates, cum)]))
    return out


@pytest.mark.parametrize("study", ["tace_mtt_pd1_lung",  # 8 distinct linear predictors
                                   pytest.param("tace_sorafenib_ehs", marks=pytest.mark.slow)])  # all distinct
def test_true_curves_over_distinct_linear_predictors_equal_the_mean_over_subjects(study):
    from tacebench.simulate.potential_curves import potential_curves

    plan = compile_plan(study)
    grid = np.arange(0.0, 60.0, 0.25)
    for population in ("ate", "att"):
        got = potential_curves(plan, population, 20_000, grid)
        for s, ref in zip(got, _direct_os_curves(plan, population, 20_000, grid)):
            np.testing.assert_allclose(s, ref, rtol=1e-12, atol=0)
