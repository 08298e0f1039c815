"""The IPTW replicate through the public DataFrame API, n = 423, against the same analysis
in statsmodels + lifelines on the same cohort DataFrames (seeds cycle over 1..50 on both
sides; the frames are built once, before timing, see ``public_api``).

Guard before timing, on five seeds: the design matrix that ``propensity_score`` builds from
the frame equals the array pipeline's (``pipelines.ps_design``) exactly, and the replicate
equals the reference run to tight convergence (``pipelines.TIGHT``): log HR to 1e-6, its
robust SE to 1e-6 relative, KM medians exactly (the tolerances of ``bench_replicate``).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from tacebench.benchmarks.speed import pipelines as P
from tacebench.benchmarks.speed import public_api as Q

SEEDS = range(1, 51)
GUARD_SEEDS = range(1, 6)


@pytest.fixture(scope="module")
def frames(plan423):
    return [Q.frame(plan423, seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def public_agrees(frames):
    from tacebench.estimators import design_matrix

    for seed, f in zip(GUARD_SEEDS, frames):
        d = design_matrix(f, Q.COVARIATES)
        assert d.names == (*P.PS_COLUMNS[:10], "child_pugh[A6]", *P.PS_COLUMNS[11:],
                           "age_gt_60", "afp_ge_400"), d.names
        np.testing.assert_array_equal(d.values, P.ps_design(Q.columns(f))[:, 1:])
        ours, ref = Q.ours_iptw_public(f), Q.reference_iptw_public(f, P.TIGHT)
        P.assert_iptw_agrees(seed, ours, ref)
    return True


CASES = {
    "ours": (Q.ours_iptw_public, dict(case="replicate_iptw_public", side="ours",
                                      ref="replicate_iptw_public_ref", target_ratio=50)),
    "lifelines_statsmodels": (Q.reference_iptw_public, dict(case="replicate_iptw_public_ref",
                                                            side="reference")),
}


@pytest.mark.parametrize("side", list(CASES))
def test_replicate_public(benchmark, frames, public_agrees, side):
    run, info = CASES[side]
    benchmark.group = "replicate: IPTW through the public DataFrame API (n=423)"
    benchmark.extra_info.update(per_call=1, **info)
    it = itertools.cycle(frames)
    benchmark(lambda: run(next(it)))
