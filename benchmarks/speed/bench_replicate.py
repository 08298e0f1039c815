"""One Monte Carlo replicate at n = 423, ours vs the lifelines + statsmodels pipeline.

Both sides generate a fresh cohort per call (seeds cycle over 1..50 on both sides), so the
ratio compares the estimators on the same data. Before timing, each side is checked
against the other on five replicates: a fast but wrong pipeline fails here.

The batched side (``estimators.batch``, ``simulate.generate_cohort_batch``) runs
``P.BATCH`` replicates per call; its time per replicate is the call's time over
``P.BATCH`` (``extra_info["per_call"]``, which the report divides by). Its guard: every
replicate of a batch equals the one-at-a-time pipeline on the same seed.
"""
from __future__ import annotations

import itertools

import pytest

from tacebench.benchmarks.speed import pipelines as P

GUARD_SEEDS = range(1, 6)


def _seeds():
    return itertools.cycle(range(1, 51))


@pytest.fixture(scope="module")
def iptw_agrees(plan423):
    """Our IPTW replicate equals the reference's, run to tight convergence (``P.TIGHT``):
    log HR to 1e-6 and its robust SE to 1e-6 relative (lifelines still stops ~1e-7 from
    the MLE that R's coxph and ours share to 1e-13, e.g. seed 3), KM medians exactly."""
    for seed in GUARD_SEEDS:
        cols = P.cohort(plan423, seed)
        ours, ref = P.ours_iptw(cols), P.reference_iptw(cols, P.TIGHT)
        P.assert_iptw_agrees(seed, ours, ref)
    return True


@pytest.fixture(scope="module")
def psm_agrees(plan423):
    """Our PSM replicate equals the reference's (tight convergence): same matched pairs
    (brute-force greedy matching), clustered Cox log HR and SE to 1e-6."""
    for seed in GUARD_SEEDS:
        cols = P.cohort(plan423, seed)
        ours, ref = P.ours_psm(cols), P.reference_psm(cols, P.TIGHT)
        assert ours.n_pairs == ref.n_pairs, (seed, ours, ref)
        assert abs(ours.log_hr - ref.log_hr) < 1e-6, (seed, ours, ref)
        assert P.close(ours.se, ref.se, 1e-6), (seed, ours, ref)
    return True


@pytest.fixture(scope="module")
def batch_agrees(plan423):
    """The batched pipelines give, replicate by replicate, the one-at-a-time pipelines'
    numbers on the same seeds: log HR and SE to 1e-12 relative, KM medians and the
    number of matched pairs exactly."""
    seeds = list(range(1, P.BATCH + 1))
    for batch, single in ((P.run_ours_iptw_batch, P.run_ours_iptw),
                          (P.run_ours_psm_batch, P.run_ours_psm)):
        for seed, got in zip(seeds, batch(plan423, seeds)):
            ref = single(plan423, seed)
            assert P.close(got.log_hr, ref.log_hr, 1e-12), (seed, got, ref)
            assert P.close(got.se, ref.se, 1e-12), (seed, got, ref)
            assert (got.median_control, got.median_treated, got.n_pairs) == \
                (ref.median_control, ref.median_treated, ref.n_pairs), (seed, got, ref)
    return True


def _batches():
    """Consecutive batches of seeds, cycling over 1..50 as the one-at-a-time side."""
    seeds = _seeds()
    while True:
        yield [next(seeds) for _ in range(P.BATCH)]


CASES = {
    # (design, side): (pipeline, extra_info)
    ("iptw", "ours"): (P.run_ours_iptw, dict(ref="replicate_iptw_ref", target_us=500,
                                             target_ratio=100)),
    ("iptw", "lifelines_statsmodels"): (P.run_reference_iptw, {}),
    ("psm", "ours"): (P.run_ours_psm, dict(ref="replicate_psm_ref", target_us=1000)),
    ("psm", "lifelines_statsmodels"): (P.run_reference_psm, {}),
    ("iptw", "ours_batch"): (P.run_ours_iptw_batch, dict(ref="replicate_iptw_ref",
                                                         target_us=500, target_ratio=100)),
    ("psm", "ours_batch"): (P.run_ours_psm_batch, dict(ref="replicate_psm_ref",
                                                       target_us=1000)),
}


@pytest.mark.parametrize("design, side", list(CASES), ids=[f"{d}-{s}" for d, s in CASES])
def test_replicate(benchmark, request, plan423, design, side):
    request.getfixturevalue(f"{design}_agrees")  # the correctness guard, once per module
    run, info = CASES[design, side]
    ours = side.startswith("ours")
    batched = side == "ours_batch"
    if batched:
        request.getfixturevalue("batch_agrees")
    suffix = "_batch" if batched else ("" if ours else "_ref")
    benchmark.group = f"replicate: {design.upper()} (n=423)"
    benchmark.extra_info.update(case=f"replicate_{design}{suffix}",
                                side="ours" if ours else "reference",
                                per_call=P.BATCH if batched else 1, **info)
    seeds = _batches() if batched else _seeds()
    benchmark(lambda: run(plan423, next(seeds)))
