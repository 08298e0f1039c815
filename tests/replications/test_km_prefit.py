"""Kaplan-Meier medians of many analysed samples computed together
(analysis.km_prefit.prefit_km_medians) are each sample's one-at-a-time medians, on
samples of different sizes, unweighted, weighted, matched and after a landmark; an arm
with no patient and an endpoint whose curves another estimate reads are left to the
estimates."""
import numpy as np
import pytest

from tests.replications.test_analysis_estimates import T, cohort  # noqa: F401
from tests.replications.plans import compiled_plan
from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.km_prefit import prefit_km_medians
from tacebench.replications.analysis.problems import Problems

PLAN = """
[[analyses]]
name = "crude"
estimates = ["km_median", "km_rate"]
[[analyses]]
name = "iptw"
estimates = ["km_median", "km_rate"]
adjustment = { method = "iptw", covariates = ["age", "pvtt", "child_pugh"] }
[[analyses]]
name = "psm"
estimates = ["km_median", "km_rate"]
adjustment = { method = "psm", covariates = ["age", "pvtt"], caliper = 0.2, ratio = 2 }
[[analyses]]
name = "lm6"
population = { landmark = 6, endpoint = "os" }
estimates = ["km_median", "km_rate"]
"""
ANALYSES = ("crude", "iptw", "psm", "lm6")


def _samples(cohort):
    """Row subsets of the cohort (different sizes, tied times); the last has no treated
    patient (its treated arm is empty)."""
    out = []
    for n in (90, 150, 231, len(cohort.columns["treated"])):
        cols = {k: v[:n] for k, v in cohort.columns.items()}
        cols["os_time"] = np.round(cols["os_time"], 0)      # ties, within and across arms
        out.append(cols)
    control = cohort.columns["treated"] == 0
    out.append({k: v[control] for k, v in cohort.columns.items()})
    return out


def _prepared(cohort, with_rate=False):
    plan, compiled = compiled_plan(cohort, PLAN)
    out = []
    for name in ANALYSES:
        targets = [T(f"m_{arm}", name, "km_median", endpoint="os", arm=arm)
                   for arm in ("Trt", "Ref")]
        if with_rate:
            targets.append(T("rate", name, "km_rate", endpoint="os", arm="Ref", time=12))
        reqs = [bind_target(t, i, compiled, plan, Problems("t")) for i, t in enumerate(targets)]
        assert None not in reqs
        ca = compiled[name]
        for cols in _samples(cohort):
            p = ca.prepare(cols, np.random.default_rng(1), requests=reqs, cache={})
            if p.ctx is not None:
                out.append((ca, p))
    return out


def test_prefit_equals_one_at_a_time(cohort):  # noqa: F811
    alone = [ca.evaluate(p) for ca, p in _prepared(cohort)]
    together = _prepared(cohort)
    done = prefit_km_medians(p.ctx for _, p in together)
    empty = sum(1 for _, p in together if not (p.ctx.arm == 1).any())
    assert empty and done == 2 * len(together) - empty
    together = [ca.evaluate(p) for ca, p in together]
    for (va, fa, _), (vt, ft, _) in zip(alone, together):
        np.testing.assert_array_equal(vt, va)      # medians are times of the sample
        assert ft == fa
    assert {f.reason for _, fails, _ in together for f in fails} == {"empty arm"}


def test_curves_read_by_another_estimate_give_the_medians(cohort):  # noqa: F811
    """A rate on the endpoint fits the arms' curves anyway: its medians are left to them."""
    prepared = _prepared(cohort, with_rate=True)
    assert prefit_km_medians(p.ctx for _, p in prepared) == 0


def test_the_cached_median_is_the_one_reported(cohort):  # noqa: F811
    (ca, p), = _prepared(cohort)[:1]
    assert prefit_km_medians([p.ctx]) == 2
    p.ctx.cache[("km-median", "os", 1)] += 1.0
    fresh = _prepared(cohort)[0][1]
    np.testing.assert_array_equal(ca.evaluate(p)[0], ca.evaluate(fresh)[0] + [1.0, 0.0])


@pytest.mark.parametrize("pad", [1, 7, 64])
def test_a_median_does_not_depend_on_the_samples_it_is_stacked_with(cohort, pad,  # noqa: F811
                                                                    monkeypatch):
    from tacebench.replications.analysis import km_prefit
    monkeypatch.setattr(km_prefit, "PAD_ROWS", pad)
    prepared = _prepared(cohort)
    prefit_km_medians(p.ctx for _, p in prepared)
    single = _prepared(cohort)
    for _, p in single:
        prefit_km_medians([p.ctx])
    for (_, a), (_, b) in zip(prepared, single):
        assert {k: v for k, v in a.ctx.cache.items() if k[0] == "km-median"} == \
            {k: v for k, v in b.ctx.cache.items() if k[0] == "km-median"}
