"""The survival_ate adjustment of analysis.toml: its risks, risk differences and ratios and
RMST differences on one replicate equal the estimators' public survival_ate /
survival_rmst on the same rows (1e-12), and every bad option is a compile error naming
file, key and value."""
import numpy as np
import pytest
import tomllib

from tacebench.estimators.survival import survival_ate, survival_rmst
from tacebench.replications.analysis.compile import bind_target, compile_analyses
from tacebench.replications.analysis.plan import parse_plan_dict
from tacebench.replications.analysis.problems import Problems
from tacebench.replications.analysis.schema import schema_from_cohort

from .test_analysis_estimates import N, cohort  # noqa: F401  (the shared fixture)

PLAN = """
[covariate_sets]
ps = ["age", "pvtt", "child_pugh"]
[[analyses]]
name = "aiptw"
estimates = ["risk", "risk_difference", "risk_ratio", "rmst_difference", "group_size"]
adjustment = { method = "survival_ate", covariates = "ps" }
[[analyses]]
name = "gformula"
estimates = ["risk_difference", "rmst_difference"]
adjustment = { method = "survival_ate", estimator = "gformula", covariates = "ps" }
[[analyses]]
name = "ipw"
estimates = ["risk_difference", "risk_ratio", "rmst_difference"]
[analyses.adjustment]
method = "survival_ate"
estimator = "iptw_ipcw"
covariates = ["age", "pvtt"]
treatment_covariates = ["age", "child_pugh"]
censoring = "marginal"
[[analyses]]
name = "lm"
population = { landmark = 3 }
estimates = ["risk_difference"]
adjustment = { method = "survival_ate", covariates = "ps" }
"""


def _compiled(cohort, plan_text=PLAN):
    problems = Problems("analysis.toml")
    plan = parse_plan_dict(tomllib.loads(plan_text), problems)
    compiled = compile_analyses(plan, {"main": schema_from_cohort(cohort)}, problems,
                                {"main": cohort.levels})
    return plan, compiled, problems


def _value(cohort, analysis, quantity, **kw):
    plan, compiled, problems = _compiled(cohort)
    assert not problems, [str(p) for p in problems]
    target = dict(id="t", analysis=analysis, quantity=quantity, endpoint="os", **kw)
    t_probs = Problems("targets.toml")
    req = bind_target(target, 0, compiled, plan, t_probs)
    assert req is not None, [str(p) for p in t_probs]
    vals, fails, _ = compiled[analysis].run(cohort.columns, np.random.default_rng(0),
                                            requests=[req], cache={})
    assert not fails, fails
    return vals[0]


def _direct(cohort, fn, covariates, estimator, time, rows=None, **kw):
    c = cohort.columns
    rows = np.arange(N) if rows is None else rows
    X = np.column_stack([c[k][rows] for k in covariates])
    return fn(c["os_time"][rows], c["os_event"][rows], c["treated"][rows], X,
              horizons=[time], estimators=(estimator,), **kw)


PS = ("age", "pvtt", "child_pugh")


@pytest.mark.parametrize("analysis, estimator", [("aiptw", "aiptw"), ("gformula", "gformula")])
@pytest.mark.parametrize("time", [6.0, 18.0])
def test_contrasts_equal_the_estimators(cohort, analysis, estimator, time):
    ate = _direct(cohort, survival_ate, PS, estimator, time)
    rmst = _direct(cohort, survival_rmst, PS, estimator, time)
    fwd, back = ["Trt", "Ref"], ["Ref", "Trt"]
    got = _value(cohort, analysis, "risk_difference", contrast=fwd, time=time)
    assert got == pytest.approx(ate.difference[0, 0], rel=1e-12, abs=1e-14)
    assert _value(cohort, analysis, "risk_difference", contrast=back, time=time) == -got
    got = _value(cohort, analysis, "rmst_difference", contrast=fwd, time=time)
    assert got == pytest.approx(rmst.difference[0, 0], rel=1e-12, abs=1e-14)
    if analysis == "aiptw":
        got = _value(cohort, analysis, "risk_ratio", contrast=back, time=time)
        assert got == pytest.approx(1 / ate.ratio[0, 0], rel=1e-12)
        for arm, z in (("Ref", 0), ("Trt", 1)):
            got = _value(cohort, analysis, "risk", arm=arm, time=time)
            assert got == pytest.approx(ate.risk[0, z, 0], rel=1e-12)


def test_iptw_ipcw_with_its_own_treatment_model_and_marginal_censoring(cohort):
    c = cohort.columns
    kw = dict(X_treatment=np.column_stack([c["age"], c["child_pugh"]]), censoring="marginal")
    ate = _direct(cohort, survival_ate, ("age", "pvtt"), "iptw", 12.0, **kw)
    rmst = _direct(cohort, survival_rmst, ("age", "pvtt"), "iptw", 12.0, **kw)
    fwd = ["Trt", "Ref"]
    assert _value(cohort, "ipw", "risk_difference", contrast=fwd, time=12.0) == \
        pytest.approx(ate.difference[0, 0], rel=1e-12, abs=1e-14)
    assert _value(cohort, "ipw", "risk_ratio", contrast=fwd, time=12.0) == \
        pytest.approx(ate.ratio[0, 0], rel=1e-12)
    assert _value(cohort, "ipw", "rmst_difference", contrast=fwd, time=12.0) == \
        pytest.approx(rmst.difference[0, 0], rel=1e-12, abs=1e-14)


def test_landmark_population_restarts_time(cohort):
    c = cohort.columns
    rows = np.flatnonzero(c["os_time"] > 3)
    t = c["os_time"][rows] - 3
    X = np.column_stack([c[k][rows] for k in PS])
    ate = survival_ate(t, c["os_event"][rows], c["treated"][rows], X, horizons=[9.0],
                       estimators=("aiptw",))
    got = _value(cohort, "lm", "risk_difference", contrast=["Trt", "Ref"], time=9.0)
    assert got == pytest.approx(ate.difference[0, 0], rel=1e-12, abs=1e-14)


def test_a_time_beyond_follow_up_has_no_value(cohort):
    plan, compiled, _ = _compiled(cohort)
    target = dict(id="t", analysis="aiptw", quantity="risk_difference", endpoint="os",
                  contrast=["Trt", "Ref"], time=1000.0)
    req = bind_target(target, 0, compiled, plan, Problems("targets.toml"))
    vals, fails, _ = compiled["aiptw"].run(cohort.columns, np.random.default_rng(0),
                                           requests=[req], cache={})
    assert np.isnan(vals[0]) and fails[0].reason == "time beyond the last follow-up"


def test_a_separated_treatment_model_is_not_estimable(cohort):
    cols = dict(cohort.columns)
    cols["pvtt"] = cols["treated"].astype(float)      # pvtt predicts treatment exactly
    plan, compiled, _ = _compiled(cohort)
    target = dict(id="t", analysis="aiptw", quantity="risk_difference", endpoint="os",
                  contrast=["Trt", "Ref"], time=12.0)
    req = bind_target(target, 0, compiled, plan, Problems("targets.toml"))
    vals, fails, _ = compiled["aiptw"].run(cols, np.random.default_rng(0), requests=[req],
                                           cache={})
    assert np.isnan(vals[0]) and fails[0].reason.startswith("working model not estimable")


BAD = [
    ('{ method = "survival_ate" }', "adjustment.covariates", "needs `covariates`"),
    ('{ method = "survival_ate", covariates = ["age"], estimator = "tmle" }',
     "adjustment.estimator", "expected one of ['gformula', 'iptw_ipcw', 'aiptw']"),
    ('{ method = "survival_ate", covariates = ["age"], censoring = "km" }',
     "adjustment.censoring", "expected one of ['cox', 'marginal']"),
    ('{ method = "survival_ate", covariates = ["age"], estimator = "gformula", '
     'treatment_covariates = ["pvtt"] }', "adjustment.treatment_covariates",
     "does not use it"),
    ('{ method = "survival_ate", covariates = ["age"], estimator = "gformula", '
     'censoring = "cox" }', "adjustment.censoring", "does not use it"),
    ('{ method = "survival_ate", covariates = ["age"], caliper = 0.2 }',
     "adjustment.caliper", "unknown option"),
    ('{ method = "survival_ate", covariates = ["age"], treatment_covariates = "nope" }',
     "adjustment.treatment_covariates", "names no [covariate_sets] entry"),
]


@pytest.mark.parametrize("adjustment, key, message", BAD)
def test_bad_options_name_file_key_and_value(cohort, adjustment, key, message):
    text = f'[[analyses]]\nname = "dr"\nestimates = ["risk_difference"]\nadjustment = {adjustment}\n'
    _, _, problems = _compiled(cohort, text)
    hits = [p for p in problems if p.key == f"analyses[0].{key}"]
    assert hits and message in hits[0].message, [str(p) for p in problems]
    assert str(hits[0]).startswith(f"analysis.toml: analyses[0].{key}")


def test_estimates_and_methods_must_match(cohort):
    text = ('[[analyses]]\nname = "dr"\nestimates = ["hr", "risk"]\n'
            'adjustment = { method = "survival_ate", covariates = ["age"] }\n'
            '[[analyses]]\nname = "crude"\nestimates = ["risk_difference"]\n')
    _, _, problems = _compiled(cohort, text)
    got = {(p.key, p.value) for p in problems}
    assert ("analyses[0].estimates[0]", "hr") in got            # the method reports no HR
    assert ("analyses[1].estimates[0]", "risk_difference") in got   # needs survival_ate


def test_a_covariate_the_cohort_does_not_generate(cohort):
    text = ('[[analyses]]\nname = "dr"\nestimates = ["risk"]\nadjustment = { method = '
            '"survival_ate", covariates = ["age"], treatment_covariates = ["albumin"] }\n')
    _, compiled, problems = _compiled(cohort, text)
    assert "dr" not in compiled
    assert [p.key for p in problems] == ["analyses[0].adjustment.treatment_covariates[0]"]


def test_one_arm_cohort_is_an_error(cohort):
    import types
    one = types.SimpleNamespace(columns=cohort.columns, levels=cohort.levels,
                                arm_labels=("Only",))
    text = ('[[analyses]]\nname = "dr"\nestimates = ["risk"]\n'
            'adjustment = { method = "survival_ate", covariates = ["age"] }\n')
    _, _, problems = _compiled(one, text)
    assert any(p.key == "analyses[0].adjustment.method" and "two arms" in p.message
               for p in problems)
