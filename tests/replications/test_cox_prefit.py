"""Treatment-only Cox models of many analysed samples fitted together
(analysis.cox_prefit.prefit_cox) give each sample's one-at-a-time hazard ratio
(and its failure reason where the batched path is left), on samples of different sizes
and analyses of every kind in one stack."""
import numpy as np
import pytest

from tests.replications.test_analysis_estimates import T, cohort  # noqa: F401
from tests.replications.plans import compiled_plan
from tests.replications.test_batched_estimates import PLAN
from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.cox_prefit import prefit_cox
from tacebench.replications.analysis.problems import Problems

ANALYSES = ("crude", "iptw", "psm", "lm6")


def _samples(cohort, monotone):
    """Row subsets of the cohort (different sizes); with ``monotone`` one of them has no
    death among the treated (a diverging log HR)."""
    out = []
    for n in (150, 230, 400, len(cohort.columns["treated"])):
        cols = {k: v[:n] for k, v in cohort.columns.items()}
        out.append(cols)
    if monotone:
        cols = dict(out[1])
        cols["os_event"] = np.where(cols["treated"] == 1, 0, cols["os_event"]).astype(np.int8)
        out.append(cols)
    return out


def _prepared(cohort, samples):
    plan, compiled = compiled_plan(cohort, PLAN)
    out = []
    for name in ANALYSES:
        ca = compiled[name]
        req = bind_target(T(f"hr_{name}", name, "hr", endpoint="os",
                            contrast=["Trt", "Ref"]), 0, compiled, plan, Problems("t"))
        assert req is not None
        for cols in samples:
            out.append((ca, ca.prepare(cols, np.random.default_rng(1), requests=[req],
                                       cache={})))
    return out


@pytest.mark.parametrize("monotone", [False, True])
def test_prefit_equals_one_at_a_time(cohort, monotone):  # noqa: F811
    samples = _samples(cohort, monotone)
    alone = [ca.evaluate(p) for ca, p in _prepared(cohort, samples)]
    together = _prepared(cohort, samples)
    fitted = prefit_cox(p.ctx for _, p in together)
    assert fitted == len(together) - (len(ANALYSES) if monotone else 0)
    together = [ca.evaluate(p) for ca, p in together]
    for (va, fa, _), (vt, ft, _) in zip(alone, together):
        np.testing.assert_allclose(vt, va, rtol=1e-10)
        assert ft == fa
    reasons = {f.reason for _, fails, _ in together for f in fails}
    assert reasons == ({"Cox likelihood monotone (a coefficient diverges)"} if monotone
                       else set())


def test_prefit_cached_value_is_used(cohort):  # noqa: F811
    """The estimate reads the prefitted model (a wrong cached value would show)."""
    (ca, p), = _prepared(cohort, _samples(cohort, False)[:1])[:1]
    assert prefit_cox([p.ctx]) == 1
    key = ("cox", "os")
    names, coef = p.ctx.cache[key]
    assert names == ["treated"]
    p.ctx.cache[key] = (names, coef + np.log(2.0))
    np.testing.assert_allclose(ca.evaluate(p)[0], 2.0 * ca.evaluate(
        _prepared(cohort, _samples(cohort, False)[:1])[0][1])[0], rtol=1e-12)
