"""Estimability (replications.verdicts): an analysis whose adjustment or model has no
estimate on a replicate gives NaN with its reason, and a target is judged on the estimable
replicates only, or is 'not estimable' below 80% of them. What R computes with a warning is
not a failure but a note: a separated propensity model (R's glm warns, its fitted
probabilities converge and the analysis uses them).

Constructed cases: a separated propensity model (a covariate level present in one arm
only, and complete separation), a matching with no match, a monotone Cox likelihood, a
response model without responders in one arm; then seed 003, whose published propensity
model is separated by Table 1 itself (ALBI grade 3: 0 of 26 controls).
"""
import math
import types

import numpy as np
import pytest

from tacebench.replications.analysis import kernels
from tacebench.replications.analysis.compile import Failure, Note, bind_target
from tacebench.replications.analysis.problems import Problems
from tacebench.replications.analysis.schema import schema_from_cohort
from tacebench.replications.notes import note_lines
from tacebench.replications.reproduce import reproduce
from tacebench.replications.check import load_study
from tacebench.replications.shift_results import _contribution
from tests.replications.plans import compiled_plan

N = 300


def _cohort(seed=3, empty_cell=False, separate=False):
    rng = np.random.default_rng(seed)
    treated = (rng.random(N) < 0.5).astype(np.int8)
    x = rng.normal(size=N) + (8.0 * (2 * treated - 1) if separate else 0.0)
    rare = (rng.random(N) < 0.1).astype(float)
    if empty_cell:
        rare[treated == 0] = 0.0          # the level exists among treated patients only
    t = rng.exponential(12, N)
    c = rng.uniform(1, 30, N)
    response = rng.choice(4, N, p=[0.05, 0.3, 0.4, 0.25]).astype(np.int8)
    cols = {"arm": treated.copy(), "treated": treated, "x": x, "rare": rare,
            "os_time": np.minimum(t, c), "os_event": (t <= c).astype(np.int8),
            "response": response}
    return types.SimpleNamespace(columns=cols, levels={"response": ("CR", "PR", "SD", "PD")},
                                 arm_labels=("Ref", "Trt"))


PLAN = """
[response]
orr = ["CR", "PR"]
[[analyses]]
name = "iptw"
estimates = ["km_median", "hr", "weighted_group_size"]
adjustment = { method = "iptw", covariates = ["x", "rare"], stabilized = true }
[[analyses]]
name = "psm"
estimates = ["hr", "group_size"]
adjustment = { method = "psm", covariates = ["x"], caliper = 1e-9, caliper_scale = "raw" }
[[analyses]]
name = "crude"
estimates = ["hr", "odds_ratio"]
"""

TARGETS = [
    dict(id="n_iptw", analysis="iptw", quantity="weighted_group_size", arm="Trt"),
    dict(id="hr_iptw", analysis="iptw", quantity="hr", endpoint="os", contrast=["Trt", "Ref"]),
    dict(id="n_psm", analysis="psm", quantity="group_size", arm="Trt"),
    dict(id="hr_crude", analysis="crude", quantity="hr", endpoint="os",
         contrast=["Trt", "Ref"]),
    dict(id="or_crude", analysis="crude", quantity="odds_ratio", endpoint="orr",
         contrast=["Trt", "Ref"]),
]


def _run(cohort, analysis):
    plan, compiled = compiled_plan(cohort, PLAN)
    tp = Problems("targets.toml")
    reqs = [bind_target(t, i, compiled, plan, tp) for i, t in enumerate(TARGETS)
            if t["analysis"] == analysis]
    assert all(reqs), [str(p) for p in tp]
    return compiled[analysis].run(cohort.columns, np.random.default_rng(0), requests=reqs,
                                  cache={})


def test_overlapping_cohort_is_estimable():
    vals, fails, notes = _run(_cohort(), "iptw")
    assert np.isfinite(vals).all() and fails == () and notes == ()


def test_level_in_one_arm_only_separates_the_propensity_model_which_r_fits():
    """R's glm fits it with a warning; the weights come from its fitted probabilities."""
    vals, fails, notes = _run(_cohort(empty_cell=True), "iptw")
    assert np.isfinite(vals).all() and fails == ()
    assert [n.reason for n in notes] == ["propensity model separated"]
    assert notes[0].details[0] == "no control patient with rare = 1"


def test_complete_separation_is_a_note_with_r_warnings():
    vals, fails, notes = _run(_cohort(separate=True), "iptw")
    assert fails == () and np.isfinite(vals).all()
    assert notes[0].reason == "propensity model separated"
    assert "R warns: fitted probabilities numerically 0 or 1 occurred" in notes[0].details


def test_propensity_kernel_notes_match_the_exact_check():
    rng = np.random.default_rng(1)
    z = (rng.random(200) < 0.3).astype(float)
    X = rng.normal(size=(200, 2))
    assert kernels.propensity(X, z).notes == ()
    X[:, 1] = np.where(z == 1, np.abs(X[:, 1]) + 0.01, -np.abs(X[:, 1]))   # separates
    fit = kernels.propensity(X, z)
    assert [n.reason for n in fit.notes] == [kernels.PS_SEPARATED]
    # fitted values bounded as binomial()$linkinv bounds them
    assert fit.ps.min() >= kernels.PS_EPS / 2 and fit.ps.max() <= 1 - kernels.PS_EPS / 2
    # Firth's estimates are finite: the data separate, the model does not
    firth = kernels.propensity(X, z, "firth")
    assert [n.reason for n in firth.notes] == [kernels.PS_SEPARATED_FIRTH]
    assert firth.fit.converged and np.isfinite(firth.fit.coef).all()


def test_aliased_propensity_columns_are_dropped_as_r_does():
    rng = np.random.default_rng(4)
    z = (rng.random(150) < 0.4).astype(float)
    a = (rng.random(150) < 0.5).astype(float)
    X = np.column_stack([a, 1.0 - a, np.zeros(150)])       # 1 - a and a constant: aliased
    fit = kernels.propensity(X, z, names=("a", "not_a", "zero"))
    assert fit.notes == (Note(kernels.PS_ALIASED, ("not_a", "zero")),)
    alone = kernels.propensity(X[:, :1], z)
    np.testing.assert_allclose(fit.ps, alone.ps, rtol=1e-12)


def test_firth_propensity_model_through_the_adjustment():
    """``ps_model = "firth"``: finite coefficients under separation, other weights than
    glm's, and the separation of the data still reported."""
    cohort = _cohort(empty_cell=True)
    glm = _weights(cohort, "glm")
    firth = _weights(cohort, "firth")
    assert [n.reason for n in firth.notes] == [kernels.PS_SEPARATED_FIRTH]
    assert firth.notes[0].details[0] == "no control patient with rare = 1"
    rare = cohort.columns["rare"][firth.rows] == 1
    # glm: P(treated | rare) -> 1, so a treated patient with rare = 1 weighs ~p1;
    # Firth shrinks that probability away from 1, so the weight is larger
    assert np.all(firth.weights[rare] > glm.weights[rare] + 1e-3)
    np.testing.assert_allclose(glm.weights[rare], np.mean(cohort.columns["treated"]),
                               rtol=1e-6)


def _weights(cohort, model):
    from tacebench.replications.analysis.adjustments import compile_adjustment, run_adjustment
    schema = schema_from_cohort(cohort)
    adj = compile_adjustment("iptw", {"covariates": [_term("x"), _term("rare")],
                                      "stabilized": True, "estimand": "ATE",
                                      "truncate": None, "fit_on": "population",
                                      "ps_model": model}, schema, cohort.levels)
    subset = types.SimpleNamespace(index=np.arange(N), landmark=None)
    return run_adjustment(adj, cohort.columns, subset, np.random.default_rng(0), {})


def _term(text):
    from tacebench.replications.analysis.terms import parse_term
    return parse_term(text)


def test_one_arm_empty_is_not_estimable():
    cohort = _cohort()
    cohort.columns["treated"] = np.ones(N, dtype=np.int8)
    vals, fails, notes = _run(cohort, "iptw")
    assert np.isnan(vals).all() and fails == (Failure(None, "one arm is empty"),)


def test_no_match_within_the_caliper():
    vals, fails, _ = _run(_cohort(), "psm")
    assert np.isnan(vals).all()
    assert fails == (Failure(None, "no match within the caliper"),)


def test_monotone_cox_likelihood_and_response_without_responders():
    cohort = _cohort()
    cols = cohort.columns
    cols["os_event"] = np.where(cols["treated"] == 1, 0, cols["os_event"]).astype(np.int8)
    cols["response"] = np.where(cols["treated"] == 1, 3, cols["response"]).astype(np.int8)
    vals, fails, _ = _run(cohort, "crude")
    assert np.isnan(vals).all()
    assert [(f.index, f.reason) for f in fails] == [
        (0, "Cox likelihood monotone (a coefficient diverges)"),
        (1, "response model separated")]


def test_kernel_cox_refuses_a_monotone_fit():
    t = np.arange(1.0, 21.0)
    d = np.ones(20)
    X = (np.arange(20) >= 10).astype(float)[:, None]      # every event ordered by X
    d[X[:, 0] == 1] = 0
    with pytest.raises(kernels.FitFailure, match="monotone"):
        kernels.cox(t, d, X)


# --- LOCO contributions follow the same rule ----------------------------------------

def test_contribution_uses_estimable_pairs_or_is_not_estimable():
    d = np.r_[np.linspace(-0.1, 0.1, 9) + 0.05, np.nan]
    c = _contribution("x", d, 10)
    assert c.n == 9 and c.mean == pytest.approx(0.05) and not c.reason
    assert c.mcse == pytest.approx(np.std(d[:9], ddof=1) / 3)
    c = _contribution("x", np.r_[np.ones(7), [np.nan] * 3], 10)
    assert math.isnan(c.mean) and c.n == 7 and c.reason.startswith("estimable 7/10")


# --- the report's study-level notes -------------------------------------------------

def test_note_lines_state_the_finding():
    notes = {"a: propensity model separated": 200,
             "a: propensity model separated: no control patient with g = 1": 199,
             "b: propensity model separated": 200,
             "b: propensity model separated: no control patient with g = 1": 199,
             "c: no match within the caliper": 5,
             "crude/hr_x: Cox likelihood monotone (a coefficient diverges)": 7}
    lines = note_lines(notes, 200)
    assert lines[0].startswith("Note: a, b: propensity model separated in 200/200 "
                               "replicates (no control patient with g = 1 in 199)")
    assert "not judged ('not estimable')" in lines[0]
    assert lines[1] == ("Note: c: no match within the caliper in 5/200 replicates: "
                        "verdicts use the 195 estimable replicates")
    assert lines[2].startswith("Note: Cox likelihood monotone (a coefficient diverges): "
                               "up to 7/200")


# --- seed 003: the published propensity model is separated by Table 1 itself ----------

@pytest.fixture(scope="module")
def seed003():
    return reproduce(load_study("tace_mtt_pd1_lung"), reps=20, seed=5, decompose_reps=5,
                     max_reps=20)


def test_seed_003_weighted_targets_use_the_separated_glm_fit(seed003):
    """As the paper's own model (Table 1: no control with ALBI grade 3), the simulated
    propensity model separates in every replicate; as R's glm, the weights come from its
    converged fitted probabilities: every weighted target has 20 draws."""
    weighted = [t for t in seed003.targets if t.analysis == "stabilized_iptw"]
    assert weighted and all(t.verdict != "not estimable" and t.n_estimable == 20
                            for t in weighted)
    crude = [t for t in seed003.targets if t.analysis == "crude" and not t.reason]
    assert crude and all(t.verdict == "reproduced" for t in crude)
    key = "stabilized_iptw: note: propensity model separated"
    assert seed003.notes[key] == 20
    assert seed003.notes[key + ": no control patient with albi_grade[3] = 1"] >= 18
    assert not any(k.startswith("stabilized_iptw: propensity") for k in seed003.notes)


def test_seed_003_shifts_and_loco_are_estimable(seed003):
    for s in seed003.shifts:
        assert s.verdict != "not estimable" and s.n_estimable == 20
        # a reduced analysis can lack a value (a median not reached), not the full one
        assert s.contributions and all(c.n >= 4 and np.isfinite(c.mean)
                                       for c in s.contributions)
    loco = [i for i, k in enumerate(seed003.draw_ids) if k.startswith("loco:")]
    assert loco and np.isfinite(seed003.draws[:5, loco]).mean() > 0.95     # reruns done
    assert np.isnan(seed003.draws[5:, loco]).all()          # only on the first 5 replicates


def test_note_lines_say_what_the_analysis_does_about_a_diagnostic():
    notes = {"a: note: propensity model separated": 200,
             "a: note: propensity model separated: no control patient with g = 1": 199,
             "a: no match within the caliper": 5}
    lines = note_lines(notes, 200)
    assert lines[0].startswith("Note: a: no match within the caliper in 5/200")
    assert lines[1] == ("Note: a: propensity model separated in 200/200 replicates (no "
                        "control patient with g = 1 in 199): " +
                        kernels.DIAGNOSTICS[kernels.PS_SEPARATED])


def test_a_converged_fit_worse_than_the_null_model_is_not_an_estimate():
    rng = np.random.default_rng(2)
    y = (rng.random(100) < 0.3).astype(float)
    Xa = np.column_stack([np.ones(100), rng.normal(size=100)])
    w = np.ones(100)
    beta = np.array([0.0, 40.0])            # what a failed step-halving can leave behind
    mu = 1 / (1 + np.exp(-(Xa @ beta)))
    assert kernels.logistic_problem(Xa, y, w, np.full(100, 0.3), True, beta) == \
        kernels.NOT_CONVERGED
    assert mu.min() < 1e-6                  # its fitted values show it ...
    coef, _, problem = kernels.logistic(Xa[:, 1:], y)
    assert problem is None                  # ... while the MLE on the same data is fine
    assert kernels.logistic_problem(Xa, y, w, np.full(100, 0.3), True, coef) is None
