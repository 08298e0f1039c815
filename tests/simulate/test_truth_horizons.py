"""true_estimands_at: several (RMST horizon, landmark) pairs from one pair of curves give
each pair's true_estimands numbers exactly, and fill the cache under the single calls' keys."""
from __future__ import annotations

import dataclasses
import math

import pytest

from tacebench import simulate
from tacebench.simulate.cache import LRUCache
from tacebench.simulate.io import spec_from_dict
from tacebench.simulate.truth import true_estimands, true_estimands_at

from .test_nonph import _raw

#: (rmst_tau, landmark) pairs of a benchmark scenario's risk and RMST differences at 6, 12
#: and 24 months, the default horizon (None), a pair given twice, and times off the grid
PAIRS = [(12.0, 12.0), (12.0, 6.0), (12.0, 24.0), (6.0, 12.0), (24.0, 12.0), (None, 12.0),
         (6.0, 12.0), (7.3, 30.1)]
N = 3000  # subjects of the truth sample: the identity holds for any size
#: ... for PFS, whose curves cost a bivariate normal CDF per subject and time (13 s at N)
N_PFS = 500


def _same(a, b) -> bool:
    """Field by field, NaN equal to NaN."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if not (x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))):
            return False
    return True


@pytest.fixture(scope="module")
def ph_plan():
    """Seed 000's cohort with a treatment effect (HR 0.7)."""
    from tacebench.simulate.overrides import load_cohort_raw

    raw = load_cohort_raw("tace_sorafenib_ehs")
    main = raw["cohorts"]["main"]
    main["outcomes"]["os"]["treatment_hr"] = 0.7
    raw["cohorts"] = {"main": main}
    return simulate.compile_plan(spec_from_dict(raw, source="seed 000, HR 0.7"), "main")


@pytest.fixture(scope="module")
def nonph_plan():
    """Arm-specific hazards: the conditional HR is a Cox estimand over each pair's grid."""
    return simulate.compile_plan(spec_from_dict(_raw()), cache=None)


@pytest.mark.parametrize("which, endpoint, pairs", [
    ("ph_plan", "os", PAIRS), ("nonph_plan", "os", PAIRS), ("small_plan", "os", PAIRS),
    # PFS pairs keep their own curves (a PFS curve stops at a point of its grid); two
    # pairs, as its curves cost a bivariate normal CDF per subject and time
    ("small_plan", "pfs", PAIRS[:2])])
def test_each_pair_is_its_single_call_exactly(request, which, endpoint, pairs):
    plan = request.getfixturevalue(which)
    n = N_PFS if endpoint == "pfs" else N
    got = true_estimands_at(plan, pairs, n_subjects=n, endpoint=endpoint, cache=None)
    assert len(got) == len(pairs)
    for (tau, landmark), g in zip(pairs, got):
        one = true_estimands(plan, rmst_tau=tau, landmark=landmark, n_subjects=n,
                             endpoint=endpoint, cache=None)
        assert _same(g, one), (tau, landmark, g, one)


def test_the_pairs_differ_so_the_check_can_fail(ph_plan):
    got = true_estimands_at(ph_plan, [(6.0, 6.0), (24.0, 24.0)], n_subjects=N, cache=None)
    assert got[0].rmst_difference_ate != got[1].rmst_difference_ate
    assert got[0].survival_difference_ate != got[1].survival_difference_ate
    assert not _same(got[0], got[1])


def test_results_are_cached_under_the_single_calls_keys(ph_plan):
    cache = LRUCache(max_size=16)
    got = true_estimands_at(ph_plan, [(12.0, 6.0), (6.0, 12.0)], n_subjects=N, cache=cache)
    assert len(cache) == 2 and cache.misses == 2
    assert true_estimands(ph_plan, rmst_tau=6.0, landmark=12.0, n_subjects=N, cache=cache) is got[1]
    assert cache.hits == 1
    # a pair held already is read, the others computed
    again = true_estimands_at(ph_plan, [(6.0, 12.0), (24.0, 12.0)], n_subjects=N, cache=cache)
    assert again[0] is got[1] and len(cache) == 3
