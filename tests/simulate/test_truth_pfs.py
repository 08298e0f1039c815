"""True PFS estimands: PFS = min(progression, death) with correlated latents."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from tacebench.simulate.survival import cox_binary_hr
from tacebench.simulate.plan import _CAL_SEED, add_derived, draw_covariates
from tacebench.simulate.survival import draw_times
from tacebench.simulate.truth import bivariate_normal_cdf, true_estimands


@pytest.mark.parametrize("rho", [0.0, 0.5, -0.3, 0.95])
def test_bivariate_normal_cdf_matches_scipy(rho):
    rng = np.random.default_rng(0)
    h, k = 2 * rng.normal(size=200), 2 * rng.normal(size=200)
    h[:5], k[5:10], h[10], k[11] = 0.0, 0.0, -8.0, 8.2
    ref = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf(np.column_stack([h, k]))
    assert np.max(np.abs(bivariate_normal_cdf(h, k, rho) - ref)) < 1e-7


def _potential_pfs(plan, n_subjects, reps, seed=1):
    """Both potential PFS times of the subjects true_estimands' ATE curves average over
    (same fixed-seed covariate draw), each replicated ``reps`` times with fresh latents,
    simulated by the generator's own time-drawing route (draw_times on W_D, W_P)."""
    cp, op = plan.covariates, plan.outcomes
    rng = np.random.default_rng(_CAL_SEED + 7)
    arm, x, _, u = draw_covariates(cp, rng, np.maximum(np.round(cp.pi * n_subjects).astype(int), 1),
                                   with_ps=False)
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    lp_d = np.tile(op.os.covariate_lp(cols, len(arm)) + (op.os.beta_u * u if u is not None else 0.0), reps)
    lp_p = np.tile(op.pfs.covariate_lp(cols, len(arm)) + (op.pfs.beta_u * u if u is not None else 0.0), reps)
    g = np.random.default_rng(seed)
    w_d = g.standard_normal(len(lp_d))
    w_p = op.r_pd * w_d + np.sqrt(1 - op.r_pd ** 2) * g.standard_normal(len(lp_d))
    out = []
    for a in (1, 0):
        t_d = draw_times(-special.log_ndtr(-w_d), lp_d + a * op.os.beta_treat, op.os.knots, op.os.rates, op.os.cum)
        t_p = draw_times(-special.log_ndtr(-w_p), lp_p + a * op.pfs.beta_treat, op.pfs.knots, op.pfs.rates,
                         op.pfs.cum)
        out.append(np.minimum(t_p, t_d))
    return out


def test_pfs_truth_matches_simulated_potential_outcomes_of_the_same_subjects(small_plan):
    """Exact curves (bivariate normal integration) vs 400 latent draws per subject."""
    op = small_plan.outcomes
    assert op.r_pd != 0.0 and (op.tv is None or not op.tv.changes_survival)  # therapy without effect
    n = 3000
    te = true_estimands(small_plan, endpoint="pfs", n_subjects=n, landmark=6.0, rmst_tau=12.0)
    assert te.endpoint == "pfs" and te.conditional_hr == pytest.approx(np.exp(small_plan.outcomes.pfs.beta_treat))
    p1, p0 = _potential_pfs(small_plan, n, reps=400)
    m = len(p1)
    surv = np.mean(p1 > 6.0) - np.mean(p0 > 6.0)
    assert abs(te.survival_difference_ate - surv) < 4 * np.sqrt(0.5 / m)
    rmst = np.mean(np.minimum(p1, 12.0)) - np.mean(np.minimum(p0, 12.0))
    assert abs(te.rmst_difference_ate - rmst) < 4 * np.std(np.minimum(p1, 12.0)) * np.sqrt(2 / m)
    for got, sample in ((te.median_treated_ate, p1), (te.median_control_ate, p0)):
        assert abs(got - np.median(sample)) < 0.03
    # PFS is shorter than OS, and the curves differ from the OS truths
    te_os = true_estimands(small_plan, n_subjects=n, landmark=6.0, rmst_tau=12.0)
    assert te.median_treated_ate < te_os.median_treated_ate


def test_pfs_truth_needs_a_pfs_model_and_a_known_endpoint():
    with pytest.raises(ValueError, match="endpoint: 'pfs' needs an outcomes.pfs model"):
        true_estimands("tace_sorafenib_ehs", endpoint="pfs")
    with pytest.raises(ValueError, match="endpoint: must be 'os' or 'pfs'"):
        true_estimands("tace_sorafenib_ehs", endpoint="ttp")


@pytest.mark.slow
def test_true_marginal_pfs_hr_matches_direct_potential_outcomes_fit(small_plan):
    """Both potential PFS outcomes for 10^6 fresh subjects, Cox fit on treatment: the
    computed marginal PFS HR agrees to 2 decimals (as the OS check in test_calibration)."""
    te = true_estimands(small_plan, endpoint="pfs")
    cp, op = small_plan.covariates, small_plan.outcomes
    rng = np.random.default_rng(321)
    n = 1_000_000
    arm, x, _, u = draw_covariates(cp, rng, np.round(cp.pi * n).astype(int), with_ps=False)
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    lp_d = op.os.covariate_lp(cols, len(arm)) + (op.os.beta_u * u if u is not None else 0.0)
    lp_p = op.pfs.covariate_lp(cols, len(arm)) + (op.pfs.beta_u * u if u is not None else 0.0)
    times = []
    for a in (1, 0):
        w_d = rng.standard_normal(len(arm))
        w_p = op.r_pd * w_d + np.sqrt(1 - op.r_pd ** 2) * rng.standard_normal(len(arm))
        t_d = draw_times(-special.log_ndtr(-w_d), lp_d + a * op.os.beta_treat, op.os.knots, op.os.rates, op.os.cum)
        t_p = draw_times(-special.log_ndtr(-w_p), lp_p + a * op.pfs.beta_treat, op.pfs.knots, op.pfs.rates,
                         op.pfs.cum)
        times.append(np.minimum(t_p, t_d))
    hr = cox_binary_hr(np.concatenate(times), np.ones(2 * len(arm)),
                       np.concatenate([np.ones(len(arm)), np.zeros(len(arm))]))
    assert abs(hr - te.marginal_hr_ate) < 0.005, (hr, te.marginal_hr_ate)
