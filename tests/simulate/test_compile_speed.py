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
    tv = (mask, rng.exponential(3.0, n), rng.exponential(8.0, n), np.log(0.9))
    lp = rng.normal(0.0, 0.5, n)
    m = marginal_median(knots, rates, lp, tv)
    risk = np.exp(lp)

    def surv(t):  # the direct form: therapy segments sorted again at each time
        h = np.full(n, float(baseline_cumhaz(t, knots, rates)))
        h[mask] = tv_cumhaz(t, knots, rates, tv[1][mask], tv[2][mask], tv[3])
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
