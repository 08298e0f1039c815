"""Invariants of the marginal survival risk estimators (hypothesis), and Monte Carlo checks
(slow): with a randomised or a confounded treatment all three are unbiased for the true
marginal risk and their influence-function SEs match the spread of the estimates; AIPTW is
unbiased with a wrong outcome model."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacebench.estimators.kernels import survival_ate_kernel
from tacebench.estimators.survival.ate_nuisance import fit_breslow_cox
from tacebench.estimators.survival.gformula import gformula_arm

RELAXED = [HealthCheck.too_slow]
HORIZONS = np.array([3.0, 8.0])


def cohort(seed: int, n: int, *, confounded: bool = True, log_hr: float = -0.4,
           ties: bool = False):
    """Two covariates; treatment depends on them unless ``confounded`` is False; Cox
    outcome; covariate-dependent loss to follow-up plus administrative censoring at 20."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, n).astype(float)
    eta = (0.6 * x1 - 0.5 * x2) if confounded else np.zeros(n)
    z = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
    t_event = rng.exponential(1.0, n) / (np.exp(log_hr * z + 0.5 * x1 + 0.4 * x2) / 8.0)
    t_loss = rng.exponential(1.0, n) / (np.exp(0.3 * x1) / 25.0)
    t_cens = np.minimum(t_loss, 20.0)
    time = np.minimum(t_event, t_cens)
    if ties:
        time = np.ceil(time * 2) / 2
    event = (t_event <= t_cens).astype(float)
    return time, event, z, np.column_stack([x1, x2])


def fit(time, event, z, X, censoring="cox", estimators=("gformula", "iptw", "aiptw")):
    Xc = np.column_stack([z, X]) if censoring == "cox" else np.empty((z.size, 0))
    return survival_ate_kernel(time, event, z, X, X, Xc, HORIZONS, estimators, censoring)


@settings(max_examples=25, deadline=None, suppress_health_check=RELAXED)
@given(st.integers(0, 10_000), st.integers(60, 200), st.sampled_from(["cox", "marginal"]),
       st.booleans())
def test_relabelling_the_arms_swaps_the_risks(seed, n, censoring, ties):
    """Coding control as 1 refits the same models with the treatment sign flipped: every
    estimator's arm risks and SEs swap (to rounding)."""
    time, event, z, X = cohort(seed, n, ties=ties)
    a, b = fit(time, event, z, X, censoring), fit(time, event, 1.0 - z, X, censoring)
    if not a.status.ok:
        return
    np.testing.assert_allclose(a.risk, b.risk[:, ::-1], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(a.se, b.se[:, ::-1], rtol=1e-6, atol=1e-10)


@settings(max_examples=25, deadline=None, suppress_health_check=RELAXED)
@given(st.integers(0, 10_000), st.integers(60, 200), st.booleans())
def test_row_order_does_not_matter(seed, n, ties):
    time, event, z, X = cohort(seed, n, ties=ties)
    perm = np.random.default_rng(seed + 1).permutation(n)
    a, b = fit(time, event, z, X), fit(time[perm], event[perm], z[perm], X[perm])
    if not a.status.ok:
        return
    np.testing.assert_allclose(a.risk, b.risk, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(a.iid[:, :, perm], b.iid, rtol=1e-6, atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=RELAXED)
@given(st.integers(0, 10_000), st.integers(40, 200), st.booleans())
def test_gformula_risks_are_probabilities_increasing_in_time(seed, n, ties):
    time, event, z, X = cohort(seed, n, ties=ties)
    res = fit(time, event, z, X, estimators=("gformula",))
    if not res.status.ok:
        return
    assert ((res.risk >= 0) & (res.risk <= 1)).all()
    assert (np.diff(res.risk, axis=-1) >= 0).all()
    assert (res.se > 0).all()


@settings(max_examples=25, deadline=None, suppress_health_check=RELAXED)
@given(st.integers(0, 10_000), st.integers(40, 200))
def test_gformula_no_difference_without_a_treatment_coefficient(seed, n):
    """With the Cox treatment coefficient set to 0 both arms' standardized risks are the
    same number."""
    time, event, z, X = cohort(seed, n)
    D = np.column_stack([z, X])
    model = fit_breslow_cox(time, event, D)
    coef = model.coef.copy()
    coef[0] = 0.0
    model = dataclasses.replace(model, coef=coef)
    arms = []
    for a in (0.0, 1.0):
        Da = D.copy()
        Da[:, 0] = a
        arms.append(gformula_arm(model, Da, HORIZONS).risk)
    np.testing.assert_array_equal(arms[0], arms[1])


@settings(max_examples=20, deadline=None, suppress_health_check=RELAXED)
@given(st.integers(0, 10_000), st.integers(60, 200))
def test_without_censoring_iptw_is_the_weighted_proportion(seed, n):
    """With every event observed the censoring weights are 1 and IPTW is the
    Horvitz-Thompson proportion of deaths by tau in each arm."""
    time, _, z, X = cohort(seed, n)
    event = np.ones(n)
    res = fit(time, event, z, X, estimators=("iptw",))
    if not res.status.ok:
        return
    from tacebench.estimators.survival.ate_nuisance import fit_treatment_model
    ps = fit_treatment_model(z, X).ps
    for arm, p in ((0, 1 - ps), (1, ps)):
        want = [np.sum((z == arm) * (time <= tau) / p) / n for tau in HORIZONS]
        np.testing.assert_allclose(res.risk[0, arm], want, rtol=1e-12)


@settings(max_examples=20, deadline=None, suppress_health_check=RELAXED)
@given(st.integers(0, 10_000), st.integers(60, 200))
def test_without_censoring_aiptw_has_no_censoring_augmentation(seed, n):
    """With every event observed, AIPTW is the g-formula plus the inverse-probability
    weighted residual ``mean(F + 1{Z=a}/e_a (Y - F))``."""
    time, _, z, X = cohort(seed, n)
    event = np.ones(n)
    res = fit(time, event, z, X, estimators=("gformula", "aiptw"))
    if not res.status.ok:
        return
    from tacebench.estimators.survival.ate_nuisance import fit_treatment_model
    ps = fit_treatment_model(z, X).ps
    D = np.column_stack([z, X])
    model = fit_breslow_cox(time, event, D)
    for arm, p in ((0, 1 - ps), (1, ps)):
        Da = D.copy()
        Da[:, 0] = arm
        F = 1 - np.exp(-np.outer(model.risk_score(Da), model.cumhaz_at(HORIZONS)))
        died = time[:, None] <= HORIZONS
        want = np.mean(F + ((z == arm) / p)[:, None] * (died - F), axis=0)
        np.testing.assert_allclose(res.risk[1, arm], want, rtol=1e-12)


def _true_risks(log_hr: float, seed: int = 99, m: int = 400_000) -> np.ndarray:
    """Marginal risk by each horizon under each arm, by Monte Carlo over the covariates."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=m)
    x2 = rng.binomial(1, 0.4, m)
    out = []
    for a in (0, 1):
        rate = np.exp(log_hr * a + 0.5 * x1 + 0.4 * x2) / 8.0
        out.append([np.mean(1 - np.exp(-rate * tau)) for tau in HORIZONS])
    return np.asarray(out)


@pytest.mark.slow
@pytest.mark.parametrize("confounded", [False, True])
def test_all_unbiased_with_calibrated_se(confounded):
    """200 cohorts of 300 with covariate-dependent censoring, treatment randomised or
    confounded (all working models correctly specified): each estimator's mean risk
    difference lies within 3.5 Monte Carlo SEs of the truth and of the other estimators',
    and the mean IF SE is within 15% of the SD of the estimates."""
    reps, n = 200, 300
    truth = _true_risks(-0.4)
    diffs, ses = [], []
    for r in range(reps):
        res = fit(*cohort(1000 + r, n, confounded=confounded))
        assert res.status.ok
        diffs.append(res.difference)
        ses.append(res.se_difference)
    diffs, ses = np.asarray(diffs), np.asarray(ses)         # (reps, 3, H)
    mcse = diffs.std(axis=0, ddof=1) / np.sqrt(reps)
    bias = diffs.mean(axis=0) - (truth[1] - truth[0])
    assert (np.abs(bias) < 3.5 * mcse).all(), bias / mcse
    spread = (diffs - diffs[:, :1]).std(axis=0, ddof=1) / np.sqrt(reps)
    gap = (diffs - diffs[:, :1]).mean(axis=0)
    assert (np.abs(gap[1:]) < 3.5 * spread[1:]).all(), gap
    ratio = ses.mean(axis=0) / diffs.std(axis=0, ddof=1)
    assert (np.abs(ratio - 1) < 0.15).all(), ratio


@pytest.mark.slow
@pytest.mark.parametrize("wrong", ["outcome", "treatment"])
def test_aiptw_is_doubly_robust(wrong):
    """Confounded cohorts analysed with one working model leaving out the confounder x1
    (the others right): the estimator relying on that model alone (g-formula for the
    outcome model, IPTW for the treatment model) has its 8-month risk difference biased by
    more than 5 Monte Carlo SEs; AIPTW's stays within 3.5."""
    reps, n = 200, 300
    truth = _true_risks(-0.4)
    single = "gformula" if wrong == "outcome" else "iptw"
    diffs = []
    for r in range(reps):
        time, event, z, X = cohort(2000 + r, n)
        X_out, X_trt = (X[:, 1:], X) if wrong == "outcome" else (X, X[:, 1:])
        res = survival_ate_kernel(time, event, z, X_out, X_trt, np.column_stack([z, X]),
                                  HORIZONS, (single, "aiptw"))
        diffs.append(res.difference[:, -1])
    diffs = np.asarray(diffs)
    z_bias = (diffs.mean(axis=0) - (truth[1, -1] - truth[0, -1])) / (
        diffs.std(axis=0, ddof=1) / np.sqrt(reps))
    assert abs(z_bias[0]) > 5 and abs(z_bias[1]) < 3.5, z_bias
