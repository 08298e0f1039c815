"""The exact true propensity score."""
from __future__ import annotations

import numpy as np
from scipy import stats

from tacebench import simulate
from tacebench.simulate.plan import compile_covariates, draw_covariates


def _two_arm(variables, assignment="arm_marginals", pairs=(), u=None):
    raw = {"study": {"id": "ps"}, "cohorts": {"main": {
        "assignment": assignment,
        "arms": [{"label": "C", "n": 300}, {"label": "T", "n": 200, "treated": True}],
        "variables": variables, "correlation": {"default": "independent", "pairs": [list(p) for p in pairs]}}}}
    if u:
        raw["cohorts"]["main"]["unmeasured"] = u
    return simulate.spec_from_dict(raw).cohort()


def test_ps_equals_analytic_density_ratio_for_gaussian_arms():
    """Two normal covariates with latent correlation 0.5: f_a is bivariate normal, so the
    exact PS is pi_1 N(x; mu_1, S_1) / sum_a pi_a N(x; mu_a, S_a)."""
    c = _two_arm([
        {"name": "x1", "type": "continuous", "arms": {"C": {"mean": 0.0, "sd": 1.0}, "T": {"mean": 0.5, "sd": 1.2}}},
        {"name": "x2", "type": "continuous", "arms": {"C": {"mean": 10.0, "sd": 2.0}, "T": {"mean": 9.0, "sd": 2.0}}},
    ], pairs=[("x1", "x2", 0.5)])
    plan = compile_covariates(c)
    arm, x, ps, _ = draw_covariates(plan, np.random.default_rng(1))
    dens = []
    for mu, sd in (((0.0, 10.0), (1.0, 2.0)), ((0.5, 9.0), (1.2, 2.0))):
        cov = np.array([[sd[0] ** 2, 0.5 * sd[0] * sd[1]], [0.5 * sd[0] * sd[1], sd[1] ** 2]])
        dens.append(stats.multivariate_normal(mu, cov).pdf(x))
    exact = 0.4 * dens[1] / (0.4 * dens[1] + 0.6 * dens[0])
    assert np.max(np.abs(ps - exact)) < 1e-5


def test_ps_with_discrete_variable_and_unmeasured_confounder():
    """Binary covariate correlated with a continuous one: P(x_b | x_c) is a probit given
    the continuous latent; checked against direct computation."""
    c = _two_arm([
        {"name": "x1", "type": "continuous", "arms": {"C": {"mean": 0.0, "sd": 1.0}, "T": {"mean": 0.3, "sd": 1.0}}},
        {"name": "b", "type": "binary", "arms": {"C": {"p": 0.3}, "T": {"p": 0.5}}},
    ], pairs=[("x1", "b", 0.4)], u={"name": "u_x", "prevalence": 0.3, "treatment_or": 3.0})
    plan = compile_covariates(c)
    arm, x, ps, u = draw_covariates(plan, np.random.default_rng(2))
    p0u, p1u = plan.u_probs
    f = []
    for mu, pb, pu in ((0.0, 0.3, p0u), (0.3, 0.5, p1u)):
        z = x[:, 0] - mu
        t = stats.norm.ppf(1 - pb)
        p1 = stats.norm.sf((t - 0.4 * z) / np.sqrt(1 - 0.16))
        f.append(stats.norm.pdf(z) * np.where(x[:, 1] == 1, p1, 1 - p1) * np.where(u == 1, pu, 1 - pu))
    exact = 0.4 * f[1] / (0.4 * f[1] + 0.6 * f[0])
    assert np.max(np.abs(ps - exact)) < 1e-5
    odds = lambda p: p / (1 - p)  # noqa: E731
    assert abs(odds(p1u) / odds(p0u) - 3.0) < 1e-9 and abs(0.6 * p0u + 0.4 * p1u - 0.3) < 1e-12


def _calibration_in_bins(arm, ps, treated_arm, bins=10):
    edges = np.quantile(ps, np.linspace(0, 1, bins + 1))
    k = np.clip(np.searchsorted(edges, ps, side="right") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        m = k == b
        frac = np.mean(arm[m] == treated_arm)
        se = np.sqrt(max(ps[m].mean() * (1 - ps[m].mean()), 1e-6) / m.sum())
        out.append((frac - ps[m].mean()) / se)
    return np.array(out)


def test_true_ps_matches_fraction_treated_in_bins(small_plan):
    cp = small_plan.covariates
    arm, x, ps, u = draw_covariates(cp, np.random.default_rng(9), cp.arm_n.astype(int) * 200)
    z = _calibration_in_bins(arm, ps, cp.treated_arm)
    assert np.all(np.abs(z) < 4.0), z


def test_logistic_route_ps_and_table(small_spec_path):
    import tomllib
    with open(small_spec_path, "rb") as fh:
        raw = tomllib.load(fh)
    raw["cohorts"]["main"]["assignment"] = "logistic"
    raw["cohorts"]["main"]["correlation"]["pairs"].append(["pvtt", "child_pugh", 0.3])  # any matrix here
    plan = simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)
    cp = plan.covariates
    arm, x, ps, u = draw_covariates(cp, np.random.default_rng(4), cp.arm_n.astype(int) * 100)
    assert np.bincount(arm).tolist() == (cp.arm_n * 100).astype(int).tolist()
    assert np.all(np.abs(_calibration_in_bins(arm, ps, cp.treated_arm)) < 4.0)
    j = cp.names.index("tumor_size")
    t = arm == cp.treated_arm
    assert abs(x[t, j].mean() - 9.0) < 0.1 and abs(x[~t, j].mean() - 8.0) < 0.1
    assert abs(x[t, j].std() - 3.5) < 0.1
    jb = cp.names.index("pvtt")
    assert abs(x[t, jb].mean() - 0.4) < 0.02 and abs(x[~t, jb].mean() - 0.2) < 0.02
