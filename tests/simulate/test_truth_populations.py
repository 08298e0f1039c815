"""True estimands of PS-tilted populations (ATE, ATT, ATO, ATM) against independent routes:
simulated potential outcomes of a fresh covariate sample, and true_estimands' own ATT."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tacebench.simulate.plan import add_derived, draw_covariates
from tacebench.simulate.survival import baseline_cumhaz, draw_times
from tacebench.simulate.truth import true_estimands
from tacebench.simulate.truth_populations import (POPULATIONS, population_estimands,
                                                  population_estimands_many, population_tilt,
                                                  tilt_refusal)


@pytest.fixture(scope="module")
def plan():
    """Seed 000's cohort with confounding and a treatment effect (HR 0.7), where the
    overlap population differs from the whole one."""
    from tacebench.simulate import compile_plan
    from tacebench.simulate.io import spec_from_dict
    from tacebench.simulate.overrides import load_cohort_raw

    raw = load_cohort_raw("tace_sorafenib_ehs")
    main = raw["cohorts"]["main"]
    main["outcomes"]["os"]["treatment_hr"] = 0.7
    raw["cohorts"] = {"main": main}
    return compile_plan(spec_from_dict(raw, source="seed 000, HR 0.7"), "main")


def _potential_outcomes(plan, n, seed):
    """A fresh covariate sample (its own seed) with its true PS and both potential OS
    times of each subject, drawn by the generator's exact inversion."""
    cp, ep = plan.covariates, plan.outcomes.os
    rng = np.random.default_rng(seed)
    arm, x, ps, u = draw_covariates(cp, rng, np.maximum(np.round(cp.pi * n).astype(int), 1))
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    eta = ep.covariate_lp(cols, len(arm)) + (ep.beta_u * u if u is not None else 0.0)
    e = rng.exponential(size=len(arm))  # common random numbers for the two arms
    times = []
    for a in (True, False):
        rates, cum = ep.arm_rates(a)
        times.append(draw_times(e, eta + ep.beta_treat * a, ep.knots, rates, cum))
    return ps, times[0], times[1]


@pytest.mark.slow
@pytest.mark.parametrize("population", ["ATO", "ATM", "ATT"])
def test_tilted_truth_matches_weighted_potential_outcomes(plan, population):
    """Weighted Cox fit to both potential outcomes of 60 000 fresh subjects (weights h(e)),
    and weighted survival / RMST differences, within 4 Monte Carlo SEs of the exact values."""
    from tacebench.estimators.survival.cox import cox_ph

    true = population_estimands(plan, population, landmarks=(12.0,), taus=(12.0,))
    ps, t1, t0 = _potential_outcomes(plan, 60_000, seed=20261205)
    h = POPULATIONS[population](ps)
    h = h / h.sum()
    n = len(h)
    time = np.concatenate([t1, t0])
    z = np.concatenate([np.ones(n), np.zeros(n)])
    fit = cox_ph(time, np.ones(2 * n), z[:, None], np.concatenate([h, h]) * n, robust=True,
                 cluster=np.concatenate([np.arange(n), np.arange(n)]))
    assert abs(fit.coef[0] - math.log(true.marginal_hr)) < 4 * fit.robust_se[0], \
        (fit.coef[0], math.log(true.marginal_hr), fit.robust_se[0])
    for values, exact in (((t1 > 12.0).astype(float) - (t0 > 12.0), true.survival_difference[0]),
                          (np.minimum(t1, 12.0) - np.minimum(t0, 12.0), true.rmst_difference[0])):
        est = h @ values
        mcse = math.sqrt(np.sum(h**2 * (values - est) ** 2))
        assert abs(est - exact) < 4 * mcse, (est, exact, mcse)


@pytest.mark.slow
def test_ate_tilt_is_true_estimands_ate_and_att_tilt_agrees_with_its_treated_arm_draw(plan):
    te = true_estimands(plan, rmst_tau=12.0, landmark=12.0, cache=None)
    ate = population_estimands(plan, "ATE", landmarks=(12.0,), taus=(12.0,))
    # the same covariate sample and curves: equal up to the grid's rounding
    assert ate.marginal_hr == pytest.approx(te.marginal_hr_ate, rel=1e-9)
    assert ate.survival_difference[0] == pytest.approx(te.survival_difference_ate, abs=1e-12)
    assert ate.rmst_difference[0] == pytest.approx(te.rmst_difference_ate, abs=1e-9)
    # ATT: the mixture tilted by e against a draw of the treated arm itself; they differ by
    # covariate sampling alone, whose SE the tilted sample's spread gives
    att = population_estimands(plan, "ATT", landmarks=(12.0,), taus=(12.0,))
    _, eta, h = population_tilt(plan, "ATT", 50_000)
    ep = plan.outcomes.os
    d = np.zeros_like(eta)
    for a, sign in ((True, 1.0), (False, -1.0)):
        rates, cum = ep.arm_rates(a)
        H = baseline_cumhaz(12.0, ep.knots, rates, cum)
        d += sign * np.exp(-H * np.exp(eta + ep.beta_treat * a))
    se_tilt = math.sqrt(np.sum(h**2 * (d - h @ d) ** 2))
    se_draw = float(np.std(d)) / math.sqrt(50_000)  # about that of the arm's own draw
    assert abs(att.survival_difference[0] - te.survival_difference_att) \
        < 4 * math.hypot(se_tilt, se_draw)


def test_unknown_population_is_an_error_naming_it():
    with pytest.raises(ValueError, match="population must be one of .*; got 'ATX'"):
        population_tilt(None, "ATX", 10)


def test_the_refusal_is_one_test_and_its_words_are_the_error(plan):
    """A plan without a treated arm, or with a time-varying therapy, has no tilted curves;
    the functions raise with the words of the predicate a caller chooses its path by."""
    import dataclasses

    from tacebench.simulate import Dist, compile_plan, load_spec
    from tacebench.simulate.therapy_draw import TherapyPlan

    assert tilt_refusal(plan) is None
    one_arm = compile_plan(load_spec("tace_regorafenib"), "main")
    therapy = dataclasses.replace(plan, outcomes=dataclasses.replace(
        plan.outcomes, tv=TherapyPlan(0, Dist(), Dist(), math.log(0.95))))
    # no effect, but an inclusion on months of therapy: the arm's survival is left-truncated
    included = dataclasses.replace(plan, outcomes=dataclasses.replace(
        plan.outcomes, tv=TherapyPlan(0, Dist(), Dist(), 0.0, min_months=1.0)))
    for bad, words in ((one_arm, "need two arms and an OS model"),
                       (therapy, "has a time-varying therapy"), (included, "has a time-varying therapy")):
        problem = tilt_refusal(bad)
        assert words in problem
        with pytest.raises(ValueError) as err:
            population_tilt(bad, "ATO", 100, treated=True)
        assert str(err.value) == problem


def test_several_populations_at_once_are_each_population_alone(plan):
    """One covariate sample and one evaluation of the survival serve every tilt: each
    population's estimands are those of its own call, number for number."""
    pops = ("ATO", "ATM", "ATE", "ATC")
    kw = dict(landmarks=(6.0, 12.0), taus=(12.0, 24.0), n_subjects=4000)
    many = population_estimands_many(plan, pops, **kw)
    assert [m.population for m in many] == list(pops)
    for m, pop in zip(many, pops):
        assert m == population_estimands(plan, pop, **kw)
    assert many[0] != many[1]  # distinct populations, distinct numbers: the check can fail
    with pytest.raises(ValueError, match="population must be one of .*; got 'ATX'"):
        population_estimands_many(plan, ("ATO", "ATX"), **kw)


@pytest.mark.parametrize("distinct", [7, 3000])
def test_curves_on_distinct_risks_are_those_of_every_subject_bit_for_bit(plan, distinct):
    """With few distinct risks (discrete covariates) the survival runs on those and is
    spread back to the subjects; the weighted sums equal those of the survival of every
    subject, double for double, and of exp on every subject to rounding."""
    from tacebench.simulate import truth_populations as tp
    from tacebench.simulate.survival_sweep import survival_sweep

    rng = np.random.default_rng(5)
    n, ep = 4000, plan.outcomes.os
    levels = rng.normal(scale=0.8, size=distinct)
    eta = {a: levels[rng.integers(distinct, size=n)] for a in (True, False)}
    tilts = [rng.random(n), np.full(n, 1.0 / n)]
    assert (len(np.unique(eta[True])) <= n // tp._SPREAD_BELOW) == (distinct == 7)
    grid = np.arange(0.0, 60.0, 0.25)
    for treated in (True, False):
        rates, cum = ep.arm_rates(treated)
        risk = np.exp(eta[treated] + ep.beta_treat * treated)
        H0 = baseline_cumhaz(grid, ep.knots, rates, cum)
        columns = [s.copy() for s in survival_sweep(grid, ep.knots, rates, cum, risk)]
        want = [np.array([np.einsum("i,i->", h, s) for s in columns]) for h in tilts]
        got = tp._curves(grid, ep, treated, eta, tilts)
        assert all(np.array_equal(g, w) for g, w in zip(got, want))
        by_exp = [np.array([np.einsum("i,i->", h, np.exp(-H * risk)) for H in H0])
                  for h in tilts]
        for g, w in zip(got, by_exp):
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=0)


def test_estimands_with_populations_are_the_two_calls_number_for_number(plan):
    """The ATE curves' evaluation of the covariate sample serves the tilted populations
    too: the truths and the populations' estimands equal those of their own calls."""
    from tacebench.simulate.potential_curves import potential_curves, potential_curves_tilted
    from tacebench.simulate.truth import true_estimands_followed
    from tacebench.simulate.truth_populations import (estimands_with_populations,
                                                      population_estimands_followed)

    n, pairs = 4000, [(12.0, 12.0), (24.0, 6.0)]
    tilted = {(12.0, 12.0): ("ATO", "ATM"), (24.0, 24.0): ("ATO",)}
    truths, populations = estimands_with_populations(plan, pairs, tilted, n_subjects=n)
    assert truths == true_estimands_followed(plan, pairs, n_subjects=n, cache=None)
    assert populations.keys() == tilted.keys()
    for (tau, at), pops in tilted.items():
        alone = population_estimands_followed(plan, pops, landmarks=(at,), taus=(tau,),
                                              n_subjects=n)
        assert populations[(tau, at)] == alone
    ato = populations[(12.0, 12.0)][True][0]
    assert ato.marginal_hr != truths[True][0].marginal_hr_ate  # distinct: the check can fail
    assert estimands_with_populations(plan, [], {}) == ({True: (), False: ()}, {})
    grid = np.arange(0.0, 30.0, 0.5)
    (s1, s0), t1, t0 = potential_curves_tilted(plan, n, grid, [np.full(n, 1.0 / n)])
    ate = potential_curves(plan, "ate", n, grid)
    assert all(np.array_equal(a, b) for a, b in zip((s1, s0), ate))
    # the uniform tilt of the ATE sample is the ATE curve (to rounding: its own sums)
    assert len(t1) == len(t0) == 1
    np.testing.assert_allclose(t1[0], s1, rtol=1e-12)
    np.testing.assert_allclose(t0[0], s0, rtol=1e-12)
