"""Balancing-weight and covariate-matching adjustments of analysis.toml: the HR after each
equals lifelines' weighted Cox fit on the estimators' weights / matched sample."""
import numpy as np
import pytest
import tomllib

from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.plan import parse_plan_dict
from tacebench.replications.analysis.problems import Problems

from .test_analysis_estimates import N, cohort  # noqa: F401  (the shared fixture)
from tests.replications.plans import compiled_plan

ADJUSTMENTS = {
    "ebal": ('["hr", "km_rate"]', 'method = "ebal", covariates = "ps"'),
    "cbps": ('["hr"]', 'method = "cbps", covariates = "ps", estimand = "ATT"'),
    "mw": ('["hr"]', 'method = "matching_weights", covariates = "ps"'),
    "optimal": ('["hr", "group_size"]', 'method = "optimal", covariates = "ps"'),
    "mahal": ('["hr", "group_size"]',
              'method = "mahalanobis", covariates = "ps", covariate_caliper = 0.5'),
}
PLAN = '[covariate_sets]\nps = ["age", "pvtt", "child_pugh"]\n' + "".join(
    f'[[analyses]]\nname = "{name}"\nestimates = {est}\nadjustment = {{ {adj} }}\n'
    for name, (est, adj) in ADJUSTMENTS.items())


def _hr(cohort, analysis, quantity="hr", **kw):
    plan, compiled = compiled_plan(cohort, PLAN)
    target = dict(id="t", analysis=analysis, quantity=quantity, endpoint="os", **kw)
    if quantity == "hr":
        target["contrast"] = ["Trt", "Ref"]
    req = bind_target(target, 0, compiled, plan, Problems("targets.toml"))
    vals, notes, _ = compiled[analysis].run(cohort.columns, np.random.default_rng(0),
                                            requests=[req], cache={})
    assert not notes, notes
    return vals[0]


def _weighted_hr(cohort, w, rows=None):
    import pandas as pd
    from lifelines import CoxPHFitter

    c = cohort.columns
    rows = np.arange(N) if rows is None else rows
    df = pd.DataFrame({"T": c["os_time"][rows], "E": c["os_event"][rows],
                       "z": c["treated"][rows].astype(float), "w": w})
    fit = CoxPHFitter().fit(df, "T", "E", weights_col="w", robust=True)
    return float(np.exp(fit.params_["z"]))


def _X(cohort):
    c = cohort.columns
    return np.column_stack([c["age"], c["pvtt"], c["child_pugh"]])


@pytest.mark.parametrize("analysis, method, estimand", [("ebal", "ebal", "ATT"),
                                                        ("cbps", "cbps", "ATT")])
def test_balancing_weight_hr_matches_lifelines(cohort, analysis, method, estimand):
    from tacebench.estimators.balancing_weights import balancing_weights

    bw = balancing_weights(_X(cohort), cohort.columns["treated"], method=method,
                           estimand=estimand)
    assert _hr(cohort, analysis) == pytest.approx(_weighted_hr(cohort, bw.weights), rel=1e-5)


def test_matching_weights_and_optimal_pairs_match_lifelines(cohort):
    import statsmodels.api as sm
    from tacebench.estimators.matching_optimal import match_optimal
    from tacebench.estimators.weights_matching import matching_weights

    z = cohort.columns["treated"]
    X = sm.add_constant(_X(cohort))
    ps = sm.Logit(z.astype(float), X).fit(disp=0).predict(X)
    mw = matching_weights(ps, z)
    assert _hr(cohort, "mw") == pytest.approx(_weighted_hr(cohort, mw.weights), rel=1e-5)
    m = match_optimal(ps, z)
    assert _hr(cohort, "optimal", "group_size") == pytest.approx(m.rows.size)
    assert _hr(cohort, "optimal") == pytest.approx(
        _weighted_hr(cohort, m.weights[m.rows], m.rows), rel=1e-5)


def test_mahalanobis_caliper_drops_treated_patients(cohort):
    n_all = int(cohort.columns["treated"].sum()) * 2
    assert _hr(cohort, "mahal", "group_size") < n_all
    assert np.isfinite(_hr(cohort, "mahal"))


def test_a_bad_balancing_option_is_reported_with_its_key():
    problems = Problems("analysis.toml")
    parse_plan_dict(tomllib.loads("""
[[analyses]]
name = "e"
estimates = ["hr"]
adjustment = { method = "ebal", covariates = ["age"], estimand = "ATM" }
"""), problems)
    msgs = [str(p) for p in problems]
    assert any("adjustment.estimand" in m and "ATM" in m for m in msgs), msgs
