"""A separated propensity model through the replications path, against R.

tests/reference/ps_separated: no control patient has ``g = 1`` (as no control patient of
seed 003 has ALBI grade 3), so ``glm(treated ~ g + x + b, binomial)`` separates. R fits it
(the coefficient of ``g`` is where IRLS stopped, the fitted probabilities have converged)
and the analysis proceeds:

    ps <- fitted(glm(treated ~ g + x + b, family = binomial))        # glm.control defaults
    w  <- ifelse(z == 1, 1 / ps, 1 / (1 - ps))                       # and p1 / ps, ...
    coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE)
    svycoxph(Surv(time, event) ~ treated, svydesign(ids = ~1, weights = ~w, data = d))

The weights come from the adjustment an ``analysis.toml`` compiles to, the HR from the
analysis's ``hr`` estimate, the robust SE from the same Cox kernel with ``robust=True``.
"""
import types

import numpy as np
import pytest

from tacebench.estimators.kernels import fit_cox
from tacebench.replications.analysis.adjustments import run_adjustment
from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.problems import Problems
from tests.reference.cases import load_case
from tests.replications.plans import compiled_plan

TOL = 1e-6

PLAN = """
[[analyses]]
name = "{name}"
estimates = ["hr"]
adjustment = {{ method = "iptw", covariates = ["g", "x", "b"], stabilized = {stab} }}
"""


@pytest.fixture(scope="module")
def case():
    return load_case("ps_separated")


def _cohort(data):
    z = data.treated.to_numpy().astype(np.int8)
    cols = {"arm": z.copy(), "treated": z, "g": data.g.to_numpy(float),
            "x": data.x.to_numpy(float), "b": data.b.to_numpy(float),
            "os_time": data.time.to_numpy(float), "os_event": data.event.to_numpy(np.int8)}
    return types.SimpleNamespace(columns=cols, levels={}, arm_labels=("Ref", "Trt"))


def _analysis(data, stabilized: bool):
    cohort = _cohort(data)
    name = "siptw" if stabilized else "iptw"
    plan, compiled = compiled_plan(cohort, PLAN.format(name=name, stab=str(stabilized).lower()))
    target = dict(id="hr", analysis=name, quantity="hr", endpoint="os",
                  contrast=["Trt", "Ref"])
    req = bind_target(target, 0, compiled, plan, Problems("targets.toml"))
    return cohort, compiled[name], req


@pytest.mark.parametrize("stabilized, weights, cox", [(False, "w_ate", "cox_ate"),
                                                      (True, "w_stab", "cox_stab")])
def test_weights_hr_and_robust_se_match_r(case, stabilized, weights, cox):
    data, exp = case
    cohort, ca, req = _analysis(data, stabilized)
    cols = cohort.columns
    adjusted = run_adjustment(ca.adjustment, cols, ca.population(cols),
                              np.random.default_rng(0), {})
    order = np.argsort(adjusted.rows)
    assert np.array_equal(adjusted.rows[order], np.arange(len(data)))
    np.testing.assert_allclose(adjusted.weights[order], exp[weights], rtol=TOL, atol=0)
    # the separation is a note, the values are computed
    assert [n.reason for n in adjusted.notes] == ["propensity model separated"]
    assert adjusted.notes[0].details[0] == "no control patient with g = 1"
    vals, fails, notes = ca.run(cols, np.random.default_rng(0), requests=[req], cache={})
    assert fails == () and notes == adjusted.notes
    r = exp[cox]
    np.testing.assert_allclose(np.log(vals[0]), r["coef"], rtol=TOL, atol=TOL)
    time = cols["os_time"][adjusted.rows]
    event = cols["os_event"][adjusted.rows].astype(float)
    z = cols["treated"][adjusted.rows].astype(float)[:, None]
    fit = fit_cox(time, event, z, adjusted.weights, robust=True)
    np.testing.assert_allclose(fit.coef[0], r["coef"], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(fit.robust_se[0], r["se_robust"], rtol=TOL)
    # svycoxph with ids = ~1: the same sandwich with survey's n / (n - 1)
    n = len(time)
    np.testing.assert_allclose(r["svy_coef"], r["coef"], rtol=1e-10)
    np.testing.assert_allclose(fit.robust_se[0] * np.sqrt(n / (n - 1)), r["svy_se"], rtol=TOL)


def test_the_weights_are_those_of_converged_fitted_probabilities(case):
    """R's default fit (16 iterations) and one run to epsilon 1e-14 give weights within
    1e-7 of each other, while the coefficient of g moved: the weights are a property of the
    data, not of where IRLS stopped."""
    _, exp = case
    assert exp["max_abs_diff_w_stab_long"] < 1e-7
    assert exp["coef_long"][1] - exp["coef"][1] > 5.0
    assert exp["converged"] is True and exp["warnings"] == []


def test_a_monotone_cox_likelihood_stays_not_estimable(case):
    """No event among treated patients: R's coxph warns ("Loglik converged before variable
    1; coefficient may be infinite") and prints its last iterate, which its iteration
    controls set (log HR -10.8 after 10 iterations, -19.8 with the defaults, -26.8 at
    eps = 1e-12) with a SE of 37 to 1e5: a hazard ratio of 0 with the interval (0, inf),
    not a number a paper reports with a finite CI (every HR target of the five studies has
    one). Unlike the separated propensity model, whose fitted probabilities converge,
    nothing converges here, so the HR stays not estimable, with its reason."""
    data, exp = case
    coefs = [r["coef"] for r in exp["cox_monotone"]]
    assert coefs[0] - coefs[1] > 5 and coefs[2] - coefs[3] > 5      # where R stopped
    assert all(r["se"] > 30 for r in exp["cox_monotone"])
    assert "coefficient may be infinite" in exp["cox_monotone"][1]["warnings"]
    cohort, ca, req = _analysis(data, False)
    cols = cohort.columns
    cols["os_event"] = np.where(cols["treated"] == 1, 0, cols["os_event"]).astype(np.int8)
    vals, fails, notes = ca.run(cols, np.random.default_rng(0), requests=[req], cache={})
    assert np.isnan(vals[0])
    assert [(f.index, f.reason) for f in fails] == [
        (0, "Cox likelihood monotone (a coefficient diverges)")]
    assert [n.reason for n in notes] == ["propensity model separated"]
