"""Greedy PS matching 1:1 without replacement (estimators.matching_nearest's own walk for
it) against the general walk: every treated unit's first control is chosen in the first
round of 1:k matching, before any second control, so the first column of a 1:2 match is
the 1:1 match."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.matching_nearest import match_nearest_kernel


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 60), st.sampled_from([None, 0.05, 0.2, 1.0]),
       st.sampled_from(["data", "largest", "smallest", "random"]), st.booleans())
def test_pairs_equal_the_first_round_of_the_general_walk(seed, n, caliper, order, tied):
    rng = np.random.default_rng(seed)
    z = (rng.random(n) < rng.uniform(0.2, 0.8)).astype(np.int8)
    z[:2] = (0, 1)
    ps = rng.uniform(0.02, 0.98, n)
    if tied:  # many equal scores: the tie rules decide
        ps = np.round(ps, 1).clip(0.1, 0.9)
    one = match_nearest_kernel(ps, z, caliper, "logit_sd", "pooled", 1, False, order,
                               np.random.default_rng(seed))
    two = match_nearest_kernel(ps, z, caliper, "logit_sd", "pooled", 2, False, order,
                               np.random.default_rng(seed))
    first = two.control_index[:, 0]
    assert np.array_equal(one.treated_index, two.treated_index)
    assert np.array_equal(one.control_index[:, 0], first)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 400), st.floats(-30, 30),
       st.floats(1e-6, 1e3))
def test_the_caliper_variance_is_numpys(seed, n, centre, spread):
    """The caliper's arm variances: ``np.var(ddof=1)`` bit for bit (NaN below 2 values)."""
    from tacebench.estimators.matching_nearest import _var1

    a = np.random.default_rng(seed).normal(centre, spread, n)
    got = _var1(a)
    assert np.isnan(got) if n < 2 else got == float(np.var(a, ddof=1))
