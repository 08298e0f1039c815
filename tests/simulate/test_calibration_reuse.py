"""The calibration's residuals reuse what does not change between evaluations (the arm
rows gathered from the fixed sample, the risk of an unchanged treatment log-HR) and give
the same doubles as computed afresh."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from tacebench.simulate.target_means import ArmRows, RiskMemo, target_means
from tacebench.simulate.calibration_cohort import calibration_sample, draw_death_times
from tacebench.simulate.calibration_quality import alive_joint_survival, endpoint_curves
from tacebench.simulate.joint_survival import CurveMemo, DeathOrder, joint_curve
from tacebench.simulate.survival import baseline_cumhaz


def _sample(seed=1, n=400):
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 2, n)
    h0 = rng.exponential(1.0, (n, 3))
    alive = rng.random((n, 3)) < 0.7
    return arm, h0, alive, rng.normal(size=n), rng.normal(size=n)


@pytest.mark.parametrize("joint", [False, True])
def test_target_means_with_kept_gathers_equal_fresh_ones(joint):
    arm, h0, alive, base_lp, w_d = _sample()
    rows_of = {a: np.flatnonzero(arm == a) for a in (0, 1)}
    arms, cols = [0, 1, 1, 0], [0, 2, 1, 2]
    jt = (alive, w_d, 0.4) if joint else None
    risk_of, gathered = RiskMemo(base_lp, arm), ArmRows()
    for bt in (0.0, 0.0, -0.3, -0.3, 0.2):    # the risk kept, then changed, kept, changed
        risk = risk_of(bt)
        got = target_means(h0 * (1 + bt), risk, arms, cols, rows_of, jt, gathered=gathered)
        fresh = target_means(h0 * (1 + bt), np.exp(base_lp + bt * arm), arms, cols, rows_of, jt)
        np.testing.assert_array_equal(got, fresh)


def test_risk_memo_keeps_the_array_of_the_last_log_hr():
    base_lp, treated = np.array([0.1, -0.2, 0.3]), np.array([0, 1, 1])
    risk = RiskMemo(base_lp, treated)
    first = risk(0.5)
    assert risk(0.5) is first
    np.testing.assert_array_equal(first, np.exp(base_lp + 0.5 * treated))
    np.testing.assert_array_equal(risk(-1.0), np.exp(base_lp - 1.0 * treated))
    np.testing.assert_array_equal(risk(None), np.exp(base_lp))


def _pfs_curve_gathering_at_every_time(ep, sample, m, lp, grid, r_pd):
    """endpoint_curves' PFS loop as first written (the arm rows gathered at every time)."""
    rates = ep.arm_rates(bool(sample["treated"][m][0]))[0]
    s = np.empty(len(grid))
    for j, t in enumerate(grid):
        h = baseline_cumhaz(t, ep.knots, rates) * np.exp(lp[m])
        a_p = -special.ndtri(np.clip(np.exp(-h), 1e-300, 1.0))
        joint = special.ndtr((r_pd * sample["w_d"][m] - a_p) / np.sqrt(1 - r_pd ** 2))
        s[j] = np.mean((sample["t_d"][m] > t) * joint)
    return s


@pytest.mark.parametrize("r_pd", [None, 0.45])
def test_pfs_curves_equal_those_gathered_at_every_time(small_plan, r_pd):
    c, cp, op = small_plan.spec, small_plan.covariates, small_plan.outcomes
    assert op.pfs is not None
    sample = calibration_sample(cp, c, op.tv)
    sample["t_d"] = draw_death_times(op.os, sample, sample["tv"])
    r = op.r_pd if r_pd is None else r_pd
    grid = np.arange(0.0, 24.0, 0.4)
    got = endpoint_curves(op.pfs, sample, cp.arm_labels, grid, os_plan=op.os, r_pd=r)
    assert list(got) == list(cp.arm_labels)
    ep = op.pfs
    lp = (ep.covariate_lp(sample["cols"], sample["n"]) + ep.beta_treat * sample["treated"]
          + ep.beta_u * sample["u"])
    for a, lab in enumerate(cp.arm_labels):
        want = _pfs_curve_gathering_at_every_time(op.pfs, sample, sample["arm"] == a, lp, grid, r)
        np.testing.assert_array_equal(got[lab], want)


@pytest.mark.parametrize("seed", range(4))
def test_alive_joint_survival_equals_the_formula_on_every_row(seed):
    """The PFS joint survival computed on the alive rows only is, element for element and
    in its mean, the formula computed on every row with the dead rows multiplied by 0."""
    rng = np.random.default_rng(seed)
    n, r_pd, t = 3000, rng.uniform(-0.8, 0.8), 1.0
    h = rng.exponential(rng.choice([0.01, 1.0, 50.0]), n)
    t_d, rw_d = rng.exponential(1.5, n), r_pd * rng.normal(size=n)
    scale = np.sqrt(1 - r_pd ** 2)
    every = (t_d > t) * special.ndtr((rw_d + special.ndtri(np.clip(np.exp(-h), 1e-300, 1.0)))
                                     / scale)
    alive = np.flatnonzero(t_d > t)
    got = alive_joint_survival(h[alive], rw_d[alive], alive, n, scale)
    np.testing.assert_array_equal(got, every)
    assert got.mean() == every.mean()


def _curve_inputs(seed=3, n=300):
    rng = np.random.default_rng(seed)
    knots = np.array([0.0, 2.0, 6.0, 12.0])
    rates = np.exp(rng.normal(-2.5, 0.3, len(knots)))
    deaths = DeathOrder.build(rng.exponential(15.0, n), rng.normal(size=n), 0.45)
    return knots, rates, np.exp(rng.normal(0.0, 0.5, n)), deaths, np.arange(0.0, 30.0, 0.25)


def test_joint_curve_with_a_memo_is_the_curve_computed_afresh():
    knots, rates, risk, deaths, grid = _curve_inputs()
    memo, computed = CurveMemo(), []
    keep = memo.keep
    memo.keep = lambda *a: computed.append(1) or keep(*a)
    # a Jacobian's pattern: the base point, each log-hazard moved, the risks moved, the base
    calls = [(rates, risk)] + [(rates * np.where(np.arange(len(rates)) == j, 1 + 1e-8, 1.0), risk)
                               for j in range(len(rates))] + [(rates, risk * 1.01), (rates, risk)]
    hits = []
    for r, x in calls:
        computed.clear()
        got = joint_curve(grid, knots, r, x, deaths, memo)
        np.testing.assert_array_equal(got, joint_curve(grid, knots, r, x, deaths))
        hits.append(len(grid) - len(computed))
    # a moved log-hazard leaves the times up to its knot to the memo; new risks empty it
    assert hits[0] == 0
    assert hits[1:len(rates) + 1] == [int((grid <= k).sum()) for k in knots]
    assert hits[-2:] == [0, 0]


def test_curve_memo_keeps_its_capacity_per_time():
    knots, rates, risk, deaths, grid = _curve_inputs()
    memo = CurveMemo(capacity=3)
    for f in (1.0, 1.1, 1.2, 1.3, 1.4):
        joint_curve(grid, knots, rates * f, risk, deaths, memo)
    assert max(len(s) for s in memo._seen) == 3
    # the oldest values left: the first call's is computed again, equal
    np.testing.assert_array_equal(joint_curve(grid, knots, rates, risk, deaths, memo),
                                  joint_curve(grid, knots, rates, risk, deaths))


def test_curve_memo_is_emptied_by_another_death_order():
    knots, rates, risk, deaths, grid = _curve_inputs()
    other = _curve_inputs(seed=4)[3]
    memo = CurveMemo()
    joint_curve(grid, knots, rates, risk, deaths, memo)
    np.testing.assert_array_equal(joint_curve(grid, knots, rates, risk, other, memo),
                                  joint_curve(grid, knots, rates, risk, other))


def test_base_curves_serve_an_arm_whose_inputs_a_step_leaves_as_they_were():
    """A Jacobian step in the treated arm's parameters leaves the control arm's curve
    inputs as they were: read, not computed; a new base point computes both again."""
    from tacebench.simulate.calibrate import _BaseCurves

    bases, computed = _BaseCurves(), []
    rates, lp = np.array([0.1, 0.2]), np.array([0.0, 0.5, 1.0])

    def curve(a, r, x):
        return bases.curve(a, r, x, lambda: computed.append(a) or r.sum() + x * (a + 1))
    theta = np.array([0.0, 0.0, 0.3])
    bases.at(theta)
    base = [curve(0, rates, lp), curve(1, rates, lp)]
    bases.at(theta + [0.0, 0.0, 1e-8])            # a step of the treated arm's parameter
    again = curve(0, rates, lp)
    moved = curve(1, rates * 1.01, lp)
    np.testing.assert_array_equal(again, base[0])
    assert computed == [0, 1, 1]                   # the control arm read, the treated one not
    again[:] = -1.0                                # a caller's change does not reach the kept
    np.testing.assert_array_equal(curve(0, rates, lp), base[0])
    bases.at(theta + [0.1, 0.1, 0.0])              # a new base point: both computed again
    curve(0, rates, lp), curve(1, rates * 1.01, lp)
    assert computed == [0, 1, 1, 0, 1]
    bases.at(theta + [0.1, 0.1, 0.0])              # the same point again: served
    curve(0, rates, lp)
    assert computed == [0, 1, 1, 0, 1]


def test_a_crude_hr_fit_is_the_same_with_and_without_base_curves(monkeypatch):
    """Arm-specific hazards fitted with a crude-HR target: the same doubles when every
    curve is computed afresh."""
    from tacebench import simulate
    from tacebench.simulate import calibrate
    from tacebench.simulate.io import spec_from_dict

    from .test_nonph import _raw

    def fit():
        ep = simulate.compile_plan(spec_from_dict(_raw()), cache=None).outcomes.os
        return ep.rates, ep.treat_log_hr
    kept = fit()
    monkeypatch.setattr(calibrate._BaseCurves, "curve",
                        lambda self, a, r, lp, compute: compute())
    fresh = fit()
    for k, f in zip(kept, fresh):
        np.testing.assert_array_equal(k, f)
