"""Estimates of one analysed sample computed together: the balance (SMD) of every
one-column term (estimates._balances), the univariable Cox models of its 0/1 terms
(models.univariable_cox_many) and its Table 1 cells (arm_shares._arm_means) give the
one-at-a-time values; other terms, and models that leave the batched path, are computed
one at a time."""
import numpy as np
import pytest

from tests.replications.test_analysis_estimates import T, cohort  # noqa: F401
from tacebench.replications.analysis import arm_shares, estimates
from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.problems import Problems
from tests.replications.plans import compiled_plan

TERMS = ["pvtt", "child_pugh", "age>60", "age", "noise>0"]
PLAN = """
[[analyses]]
name = "crude"
estimates = ["hr", "balance"]
[[analyses]]
name = "iptw"
estimates = ["hr", "balance"]
smd_sd = "weighted"
adjustment = { method = "iptw", covariates = ["age", "pvtt", "child_pugh"] }
[[analyses]]
name = "psm"
estimates = ["hr", "balance"]
adjustment = { method = "psm", covariates = ["age", "pvtt"], caliper = 0.2 }
[[analyses]]
name = "lm6"
population = { landmark = 6, endpoint = "os" }
estimates = ["hr"]
"""


def _requests(cohort, plan_text, analysis, cols, targets, one_at_a_time=False):
    """``targets`` of ``analysis`` on ``cols``: all in one sample, or each alone."""
    plan, compiled = compiled_plan(cohort, plan_text)
    tprobs = Problems("targets.toml")
    reqs = [bind_target(t, i, compiled, plan, tprobs) for i, t in enumerate(targets)]
    assert None not in reqs, [str(p) for p in tprobs]
    ca = compiled[analysis]
    if one_at_a_time:
        runs = [ca.run(cols, np.random.default_rng(0), requests=[r], cache={}) for r in reqs]
        return (np.array([v[0] for v, _, _ in runs]),
                [(i, f.reason) for i, (_, fails, _) in enumerate(runs) for f in fails])
    vals, fails, _ = ca.run(cols, np.random.default_rng(0), requests=reqs, cache={})
    return vals, [(f.index, f.reason) for f in fails]


def _run(cohort, analysis, cols, quantity, one_at_a_time=False):
    extra = {"endpoint": "os"} if quantity == "hr" else {}
    targets = [T(f"t{i}", analysis, quantity, term=term, **extra)
               for i, term in enumerate(TERMS)]
    return _requests(cohort, PLAN, analysis, cols, targets, one_at_a_time)


def _degenerate(cohort):
    """No death with child_pugh = 1 (a monotone likelihood), age missing for some."""
    cols = dict(cohort.columns)
    cols["os_event"] = np.where(cols["child_pugh"] == 1, 0, cols["os_event"]).astype(np.int8)
    cols["age"] = cols["age"].copy()
    cols["age"][:7] = np.nan
    return cols


@pytest.mark.parametrize("analysis", ["crude", "iptw", "psm"])
@pytest.mark.parametrize("degenerate", [False, True])
def test_balance_together_equals_one_at_a_time(cohort, analysis, degenerate):  # noqa: F811
    cols = _degenerate(cohort) if degenerate else cohort.columns
    together = _run(cohort, analysis, cols, "smd")
    alone = _run(cohort, analysis, cols, "smd", one_at_a_time=True)
    np.testing.assert_allclose(together[0], alone[0], rtol=1e-10)
    assert together[1] == alone[1] == []


@pytest.mark.parametrize("analysis", ["crude", "iptw", "psm", "lm6"])
@pytest.mark.parametrize("degenerate", [False, True])
def test_cox_together_equals_one_at_a_time(cohort, analysis, degenerate,  # noqa: F811
                                           monkeypatch):
    cols = _degenerate(cohort) if degenerate else cohort.columns
    batched = _run(cohort, analysis, cols, "hr")
    calls = []
    original = estimates.univariable_cox_many
    monkeypatch.setattr(estimates, "univariable_cox_many",
                        lambda ctx, reqs: calls.append(original(ctx, reqs)) or {})
    alone = _run(cohort, analysis, cols, "hr")
    assert calls and calls[0], "some terms took the batched path"
    np.testing.assert_allclose(batched[0], alone[0], rtol=1e-10, equal_nan=True)
    assert batched[1] == alone[1]
    if degenerate:
        assert (1, "Cox likelihood monotone (a coefficient diverges)") in batched[1]


MEAN_TERMS = ["pvtt", "age>60", "age", "noise>0", "noise"]
MEANS_PLAN = PLAN.replace('estimates = ["hr", "balance"]',
                          'estimates = ["hr", "balance", "proportion", "mean"]')


def _arm_means(cohort, analysis, cols, one_at_a_time=False):
    """Proportions and means of every term in both arms, through a replicate's cache."""
    targets = [T(f"t{i}", analysis, "mean" if term in ("age", "noise") else "proportion",
                 term=term, arm=arm)
               for i, (term, arm) in enumerate((t, a) for t in MEAN_TERMS
                                                for a in ("Trt", "Ref"))]
    return _requests(cohort, MEANS_PLAN, analysis, cols, targets, one_at_a_time)


@pytest.mark.parametrize("analysis", ["crude", "iptw", "psm"])
@pytest.mark.parametrize("degenerate", [False, True])
def test_arm_means_together_equal_one_at_a_time(cohort, analysis, degenerate,  # noqa: F811
                                                monkeypatch):
    """The sample's proportions and means, computed together from the cohort's columns
    (arm_shares._arm_means), are the doubles each request computes alone from its own
    column on the analysed rows (a term missing for some rows, age in the degenerate
    cohort, is computed alone)."""
    cols = _degenerate(cohort) if degenerate else cohort.columns
    together = _arm_means(cohort, analysis, cols)
    monkeypatch.setattr(arm_shares, "_arm_means", lambda ctx: {})
    alone = _arm_means(cohort, analysis, cols, one_at_a_time=True)
    assert together[1] == alone[1] == []
    assert together[0].tobytes() == alone[0].tobytes()
    assert np.isfinite(together[0]).all()

