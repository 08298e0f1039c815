"""One Monte Carlo replicate at n = 423, ours vs the lifelines + statsmodels pipeline.

Both sides generate a fresh cohort per call (seeds cycle over 1..50 on both sides), so the
ratio compares the estimators on the same data. Before timing, each side is checked
against the other on five replicates: a fast but wrong pipeline fails here.
"""
from __future__ import annotations

import itertools
import math

import pytest

from benchmarks.speed import pipelines as P

GUARD_SEEDS = range(1, 6)


def _seeds():
    return itertools.cycle(range(1, 51))


def _close(a: float, b: float, rtol: float) -> bool:
    return (math.isinf(a) and a == b) or math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)


@pytest.fixture(scope="module")
def iptw_agrees(plan423):
    """Our IPTW replicate equals the reference's: lifelines and statsmodels stop at ~1e-8,
    hence 1e-6 on the log HR and its robust SE; KM medians (a time point) exactly."""
    for seed in GUARD_SEEDS:
        cols = P.cohort(plan423, seed)
        ours, ref = P.ours_iptw(cols), P.reference_iptw(cols)
        assert abs(ours.log_hr - ref.log_hr) < 1e-6, (seed, ours, ref)
        assert _close(ours.se, ref.se, 1e-6), (seed, ours, ref)
        assert _close(ours.median_control, ref.median_control, 1e-12), (seed, ours, ref)
        assert _close(ours.median_treated, ref.median_treated, 1e-12), (seed, ours, ref)
    return True


@pytest.fixture(scope="module")
def psm_agrees(plan423):
    """Our PSM replicate equals the reference's: same matched pairs (brute-force greedy
    matching), same clustered Cox fit to lifelines' tolerance."""
    for seed in GUARD_SEEDS:
        cols = P.cohort(plan423, seed)
        ours, ref = P.ours_psm(cols), P.reference_psm(cols)
        assert ours.n_pairs == ref.n_pairs, (seed, ours, ref)
        assert abs(ours.log_hr - ref.log_hr) < 1e-6, (seed, ours, ref)
        assert _close(ours.se, ref.se, 1e-6), (seed, ours, ref)
    return True


@pytest.mark.benchmark(group="replicate: IPTW (n=423)")
def test_iptw_replicate_ours(benchmark, plan423, iptw_agrees):
    benchmark.extra_info.update(case="replicate_iptw", side="ours", ref="replicate_iptw_ref",
                                target_us=500, target_ratio=100)
    seeds = _seeds()
    benchmark(lambda: P.run_ours_iptw(plan423, next(seeds)))


@pytest.mark.benchmark(group="replicate: IPTW (n=423)")
def test_iptw_replicate_lifelines_statsmodels(benchmark, plan423, iptw_agrees):
    benchmark.extra_info.update(case="replicate_iptw_ref", side="reference")
    seeds = _seeds()
    benchmark(lambda: P.run_reference_iptw(plan423, next(seeds)))


@pytest.mark.benchmark(group="replicate: PSM (n=423)")
def test_psm_replicate_ours(benchmark, plan423, psm_agrees):
    benchmark.extra_info.update(case="replicate_psm", side="ours", ref="replicate_psm_ref",
                                target_us=1000)
    seeds = _seeds()
    benchmark(lambda: P.run_ours_psm(plan423, next(seeds)))


@pytest.mark.benchmark(group="replicate: PSM (n=423)")
def test_psm_replicate_lifelines_statsmodels(benchmark, plan423, psm_agrees):
    benchmark.extra_info.update(case="replicate_psm_ref", side="reference")
    seeds = _seeds()
    benchmark(lambda: P.run_reference_psm(plan423, next(seeds)))
