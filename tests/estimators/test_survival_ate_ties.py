"""AIPTW with tied censoring times: why riskRegression 2022.11.28 disagrees.

That version lists each censoring time once per censored patient in the AIPTW censoring
augmentation: a time shared by k patients enters the sum k times, each entry with the k
censorings in dN and the whole hazard jump, and every entry after the first with the
censoring survival *after* the jump. ``_riskregression_2022_aiptw`` below re-does exactly
that (test-only, point estimates) and reproduces R's numbers on the tied fixture, while
``survival_ate`` (each distinct time once) differs from them by up to 0.06.
"""
from __future__ import annotations

import numpy as np

from tacebench.estimators import survival_ate
from tacebench.estimators.survival.ate_nuisance import fit_breslow_cox, fit_treatment_model
from tests.reference.cases import load_case

COVS = ["size", "afp400", "cp_b"]


def _riskregression_2022_aiptw(time, event, z, X, horizons) -> np.ndarray:
    """AIPTW risks (arm, horizon) as riskRegression 2022.11.28's ATE_TI computes them."""
    D = np.column_stack([z, X])
    outcome, cens = fit_breslow_cox(time, event, D), fit_breslow_cox(time, 1 - event, D)
    treatment = fit_treatment_model(z, X)
    s_all = np.sort(time[event == 0])                       # one entry per censored patient
    last = max(int(np.sum(s_all < min(t, tau))) for t in time for tau in horizons)
    s = s_all[:last]
    rho = cens.risk_score(D)
    prev = np.concatenate(([0.0], s[:-1]))                 # G "before" = at the previous entry
    G_jump = np.exp(-np.outer(rho, cens.cumhaz_at(prev)))
    G_T = np.exp(-rho * cens.cumhaz_at(time, left=True))
    d_lambda = np.outer(rho, cens.jumps[np.searchsorted(cens.times, s)])
    dN = (time[:, None] == s) & (event[:, None] == 0)
    out = np.empty((2, len(horizons)))
    for arm in (0, 1):
        Da = D.copy()
        Da[:, 0] = arm
        r = outcome.risk_score(Da)
        S_left = np.exp(-np.outer(r, outcome.cumhaz_at(s, left=True)))
        F_s = 1 - np.exp(-np.outer(r, outcome.cumhaz_at(s)))
        integrand = (s <= time[:, None]) * (dN - d_lambda) / (G_jump * S_left)
        W = (z == arm) / treatment.arm_probability(arm)
        for h, tau in enumerate(horizons):
            k = int(np.sum(s <= tau))
            F_tau = 1 - np.exp(-r * outcome.cumhaz_at(np.array([tau]))[0])
            aug = F_tau * integrand[:, :k].sum(1) - (F_s[:, :k] * integrand[:, :k]).sum(1)
            died = (time <= tau) & (event == 1)
            out[arm, h] = np.mean(F_tau + W * (died / G_T - F_tau + aug))
    return out


def test_tied_censoring_discrepancy_is_riskregressions_duplicate_entries():
    """R: ate(event = coxph(Surv(time_tied, event) ~ ..., ties = "breslow"), treatment =
    glm(...), censor = coxph(Surv(time_tied, event == 0) ~ ..., ties = "breslow"),
    estimator = "AIPTW", times = c(6, 12, 24)) on whole-month times (62 tied censorings):
    the duplicate-entry computation reproduces R to 1e-10; ours differs from R by > 0.03 at
    6 and 12 months (and agrees with it on untied data, test_survival_ate)."""
    data, exp = load_case("ate_survival")
    ref = exp["tied_breslow"]["aiptw_duplicated_censoring"]
    horizons = np.asarray(exp["horizons"], dtype=float)
    X = data[COVS].to_numpy(float)
    args = (data.time_tied.to_numpy(float), data.event.to_numpy(float),
            data.treated.to_numpy(float), X)
    r_values = np.array([ref["risk_control"], ref["risk_treated"]])
    np.testing.assert_allclose(_riskregression_2022_aiptw(*args, horizons), r_values,
                               rtol=0, atol=1e-10)
    ours = survival_ate(*args, horizons=horizons, estimators="aiptw").risk[0]
    assert np.abs(ours - r_values)[:, :2].min() > 0.03


def test_duplicate_entries_change_nothing_without_ties():
    """On untied times the duplicate-entry computation is ours."""
    data, exp = load_case("ate_survival")
    horizons = np.asarray(exp["horizons"], dtype=float)
    args = (data.time.to_numpy(float), data.event.to_numpy(float),
            data.treated.to_numpy(float), data[COVS].to_numpy(float))
    ours = survival_ate(*args, horizons=horizons, estimators="aiptw").risk[0]
    np.testing.assert_allclose(_riskregression_2022_aiptw(*args, horizons), ours, atol=1e-12)
