"""Multivariable outcome Cox models of many analysed samples fitted together
(analysis.cox_prefit.prefit_cox through estimators' fit_cox_multi_rows) give each sample's
one-at-a-time hazard ratios, treatment and covariate, to 1e-10 (and the same failure
reasons where the batched path is left: a monotone likelihood, a column constant in the
sample), whatever stack a model shares; designs above the size limit are left to the
estimate."""

import numpy as np
import pytest

from tests.replications.test_analysis_estimates import PLAN as BASE_PLAN
from tests.replications.plans import compiled_plan
from tests.replications.test_analysis_estimates import T, cohort  # noqa: F401
from tacebench.replications.analysis import cox_prefit
from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.cox_prefit import prefit_cox
from tacebench.replications.analysis.problems import Problems

PLAN = BASE_PLAN + """
[[analyses]]
name = "mv_breslow"
estimates = ["hr"]
cox = { ties = "breslow" }
adjustment = { method = "multivariable", covariates = ["age", "pvtt"] }
[[analyses]]
name = "iptw_adjusted"
estimates = ["hr"]
adjustment = { method = "iptw", covariates = ["age", "pvtt"], outcome_covariates = ["pvtt", "noise"] }
"""
#: (analysis, covariate term of its outcome model whose HR is also asked)
MULTI = (("mv", "pvtt"), ("mv_breslow", "age"), ("iptw_adjusted", "noise"))
ANALYSES = MULTI + (("crude", None), ("iptw", None))
REASONS = {"Cox likelihood monotone (a coefficient diverges)"}


def _samples(cohort, degenerate):
    """Row subsets of different sizes; with ``degenerate`` one without a death among the
    child_pugh = 1 patients (a diverging coefficient where the model has child_pugh) and
    one where pvtt is constant (its HR NaN, the other columns fitted)."""
    out = [{k: v[:n] for k, v in cohort.columns.items()} for n in (150, 170, 230, 400)]
    if degenerate:
        cols = dict(out[1])
        cols["os_event"] = np.where(cols["child_pugh"] == 1, 0,
                                    cols["os_event"]).astype(np.int8)
        out.append(cols)
        cols = dict(out[2])
        cols["pvtt"] = np.zeros_like(cols["pvtt"])
        out.append(cols)
    return out


def _prepared(cohort, samples, analyses=MULTI):
    plan, compiled = compiled_plan(cohort, PLAN)
    out = []
    for name, term in analyses:
        ca = compiled[name]
        reqs = [bind_target(T(f"hr_{name}", name, "hr", endpoint="os",
                              contrast=["Trt", "Ref"]), 0, compiled, plan, Problems("t"))]
        if term is not None:
            reqs.append(bind_target(T(f"hr_{name}_{term}", name, "hr", endpoint="os",
                                      term=term), 1, compiled, plan, Problems("t")))
        assert None not in reqs
        for cols in samples:
            out.append((ca, ca.prepare(cols, np.random.default_rng(1), requests=reqs,
                                       cache={})))
    return out


@pytest.mark.parametrize("degenerate", [False, True])
def test_prefit_equals_one_at_a_time(cohort, degenerate):  # noqa: F811
    samples = _prepared(cohort, _samples(cohort, degenerate))
    alone = [ca.evaluate(p) for ca, p in samples]
    together = _prepared(cohort, _samples(cohort, degenerate))
    fitted = prefit_cox(p.ctx for _, p in together)
    # the monotone sample is left to the estimate by the models with child_pugh
    assert fitted == len(together) - (1 if degenerate else 0)
    together = [ca.evaluate(p) for ca, p in together]
    for (va, fa, _), (vt, ft, _) in zip(alone, together):
        np.testing.assert_allclose(vt, va, rtol=1e-10)
        assert ft == fa
    reasons = {f.reason for _, fails, _ in together for f in fails}
    assert reasons == ((REASONS | {"term not in the fitted model (not selected, or "
                                   "constant)"}) if degenerate else set())


def test_prefit_does_not_depend_on_the_stack(cohort):  # noqa: F811
    """Bit for bit: a model's coefficients do not depend on the samples it is stacked
    with (so a study's numbers do not depend on its batches or --n-jobs), in the
    multivariable and the treatment-only stacks."""
    whole = _prepared(cohort, _samples(cohort, True), ANALYSES)
    prefit_cox(p.ctx for _, p in whole)
    for ca, p in whole:
        alone = ca.prepare(p.ctx.cols, np.random.default_rng(1), requests=p.requests,
                           cache={})
        prefit_cox([alone.ctx])
        for key, value in p.ctx.cache.items():
            if key[0] == "cox":
                np.testing.assert_array_equal(alone.ctx.cache[key][1], value[1])


def test_prefit_cached_value_is_used(cohort):  # noqa: F811
    """The estimates read the prefitted model (a wrong cached value would show)."""
    (ca, p), = _prepared(cohort, _samples(cohort, False)[:1])[:1]
    assert prefit_cox([p.ctx]) == 1
    names, coef = p.ctx.cache[("cox", "os")]
    assert names == ["treated", "age", "pvtt", "child_pugh[B]"]
    p.ctx.cache[("cox", "os")] = (names, coef + np.log(2.0))
    (_, fresh), = _prepared(cohort, _samples(cohort, False)[:1])[:1]
    np.testing.assert_allclose(ca.evaluate(p)[0], 2.0 * ca.evaluate(fresh)[0], rtol=1e-12)


def test_design_above_the_limit_is_left_to_the_estimate(cohort, monkeypatch):  # noqa: F811
    samples = _samples(cohort, False)
    alone = [ca.evaluate(p) for ca, p in _prepared(cohort, samples)]
    monkeypatch.setattr(cox_prefit, "MULTI_MAX_CELLS", 4 * 200)
    together = _prepared(cohort, samples)
    # only the 150- and 170-row samples of the 3- and 4-column designs are stacked
    sizes = [(len(p.ctx.rows), len(p.ctx.adj.outcome_terms.names) + 1) for _, p in together]
    assert prefit_cox(p.ctx for _, p in together) == sum(n * k <= 800 for n, k in sizes)
    for (va, _, _), (ca, p) in zip(alone, together):
        np.testing.assert_allclose(ca.evaluate(p)[0], va, rtol=1e-10)
