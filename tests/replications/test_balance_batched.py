"""The balance estimates of one sample are computed together (estimates._balances): the
same SMDs as one request at a time, whatever the other requests."""
import numpy as np
import pytest

from tests.replications.test_analysis_estimates import T, cohort  # noqa: F401
from tacebench.replications.analysis.compile import bind_target, compile_analyses
from tacebench.replications.analysis.plan import parse_plan_dict
from tacebench.replications.analysis.problems import Problems
from tacebench.replications.analysis.schema import schema_from_cohort
import tomllib

TERMS = ["age", "pvtt", "child_pugh", "noise", "age>60"]
PLAN = """
[[analyses]]
name = "crude"
estimates = ["balance"]
[[analyses]]
name = "iptw"
estimates = ["balance"]
smd_sd = "weighted"
adjustment = { method = "iptw", covariates = ["age", "pvtt", "child_pugh"] }
[[analyses]]
name = "psm"
estimates = ["balance"]
adjustment = { method = "psm", covariates = ["age", "pvtt"], caliper = 0.2 }
"""


def _requests(cohort, analysis):
    problems = Problems("analysis.toml")
    plan = parse_plan_dict(tomllib.loads(PLAN), problems)
    compiled = compile_analyses(plan, {"main": schema_from_cohort(cohort)}, problems,
                                {"main": cohort.levels})
    tprobs = Problems("targets.toml")
    reqs = [bind_target(T(f"b{i}", analysis, "smd", term=term), i, compiled, plan, tprobs)
            for i, term in enumerate(TERMS)]
    assert None not in reqs, [str(p) for p in tprobs]
    return compiled[analysis], reqs


@pytest.mark.parametrize("analysis", ["crude", "iptw", "psm"])
def test_together_equals_one_at_a_time(cohort, analysis):  # noqa: F811
    ca, reqs = _requests(cohort, analysis)
    together, fails, _ = ca.run(cohort.columns, np.random.default_rng(0), requests=reqs,
                                cache={})
    assert not fails
    alone = [ca.run(cohort.columns, np.random.default_rng(0), requests=[r], cache={})[0][0]
             for r in reqs]
    np.testing.assert_allclose(together, alone, rtol=1e-10)
    assert np.isfinite(together).all()


def test_a_missing_value_leaves_its_term_to_the_one_column_path(cohort):  # noqa: F811
    cols = dict(cohort.columns)
    cols["noise"] = cols["noise"].copy()
    cols["noise"][:5] = np.nan
    ca, reqs = _requests(cohort, "iptw")
    together = ca.run(cols, np.random.default_rng(0), requests=reqs, cache={})[0]
    alone = [ca.run(cols, np.random.default_rng(0), requests=[r], cache={})[0][0]
             for r in reqs]
    np.testing.assert_allclose(together, alone, rtol=1e-10)
