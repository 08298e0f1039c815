"""Greedy PS matching 1:1 without replacement (estimators.matching_nearest's own walk for
it) against the general walk: every treated unit's first control is chosen in the first
round of 1:k matching, before any second control, so the first column of a 1:2 match is
the 1:1 match."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

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
@given(st.integers(0, 2**32 - 1), st.integers(4, 400), st.floats(-3, 3), st.floats(1e-3, 3))
def test_the_caliper_is_numpys_pooled_sd(seed, n, centre, spread):
    """The caliper, 0.2 pooled SDs of the logit PS: the arms' ``np.var(ddof=1)`` bit for
    bit."""
    rng = np.random.default_rng(seed)
    z = (rng.random(n) < 0.5).astype(np.int8)
    z[:4] = (0, 1, 0, 1)
    ps = 1.0 / (1.0 + np.exp(-rng.normal(centre, spread, n)))
    ps = ps.clip(1e-6, 1 - 1e-6)
    got = match_nearest_kernel(ps, z, 0.2, "logit_sd", "pooled", 1, False, "data", None)
    d = special.logit(ps)
    sd = np.sqrt((float(np.var(d[z == 1], ddof=1)) + float(np.var(d[z == 0], ddof=1))) / 2.0)
    assert got.caliper == 0.2 * float(sd)
