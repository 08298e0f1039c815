"""Paired p-values after 1:1 matching (estimate ``paired_test``): McNemar for a 0/1 row,
paired t or Wilcoxon signed-rank (as the target's ``test`` names it) for a continuous row,
on the matched pairs of the analysis; checked against statsmodels / scipy on the same
pairs, and bound only where the analysis lists the estimate."""

import numpy as np
import pytest
from scipy import stats

from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.problems import Problems

from .test_analysis_estimates import T, cohort  # noqa: F401  (the module's cohort fixture)
from tests.replications.plans import compiled_plan

PLAN = """
[[analyses]]
name = "crude"
estimates = ["proportion"]
[[analyses]]
name = "psm"
estimates = ["group_size", "paired_test"]
adjustment = { method = "psm", covariates = ["age", "pvtt", "child_pugh"], caliper = 0.2 }
"""


def compiled(cohort):
    plan, comp = compiled_plan(cohort, PLAN)
    return plan, comp


def test_paired_p_values_match_statsmodels_and_scipy(cohort):  # noqa: F811
    from statsmodels.stats.contingency_tables import mcnemar
    plan, comp = compiled(cohort)
    targets = [T("p_pvtt", "psm", "p_value", term="pvtt", p=0.5, test="McNemar"),
               T("p_age_t", "psm", "p_value", term="age", p=0.5, test="paired t-test"),
               T("p_age_w", "psm", "p_value", term="age", p=0.5, test="Wilcoxon signed-rank")]
    probs = Problems("targets.toml")
    reqs = [bind_target(t, i, comp, plan, probs) for i, t in enumerate(targets)]
    assert all(r is not None for r in reqs), [str(p) for p in probs]
    psm = comp["psm"]
    vals, notes, _ = psm.run(cohort.columns, np.random.default_rng(0), requests=reqs, cache={})
    assert not notes
    # the same matched sample, paired by hand
    from tacebench.replications.analysis.adjustments import run_adjustment
    adjusted = run_adjustment(psm.adjustment, cohort.columns, psm.population(cohort.columns),
                              np.random.default_rng(0), {})
    rows, pair = adjusted.rows, adjusted.cluster
    z = cohort.columns["treated"][rows]
    t_rows = {p: r for p, r, zz in zip(pair, rows, z) if zz == 1}
    c_rows = {p: r for p, r, zz in zip(pair, rows, z) if zz == 0}
    tr = np.array([t_rows[p] for p in sorted(t_rows)])
    co = np.array([c_rows[p] for p in sorted(t_rows)])
    pv = cohort.columns["pvtt"]
    table = [[np.sum((pv[tr] == i) & (pv[co] == j)) for j in (1, 0)] for i in (1, 0)]
    assert vals[0] == pytest.approx(mcnemar(table, exact=False, correction=True).pvalue, rel=1e-10)
    age = cohort.columns["age"]
    assert vals[1] == pytest.approx(stats.ttest_rel(age[tr], age[co]).pvalue, rel=1e-10)
    assert vals[2] == pytest.approx(stats.wilcoxon(age[tr], age[co], correction=True,
                                                   method="approx").pvalue, rel=1e-8)
    # unpaired tests of the same rows give other p-values: the pairing matters
    assert vals[1] != pytest.approx(stats.ttest_ind(age[tr], age[co]).pvalue, rel=1e-6)


def test_p_value_of_an_unmatched_analysis_stays_unsimulated(cohort):  # noqa: F811
    plan, comp = compiled(cohort)
    probs = Problems("targets.toml")
    req = bind_target(T("p", "crude", "p_value", term="pvtt", p=0.5), 0, comp, plan, probs)
    assert req is None and [p.severity for p in probs] == ["warning"]
