"""benchmarks.methods._common.cluster_codes: np.unique's inverse, without the sort when the
ids already are the codes (matched sets)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.benchmarks.methods._common import cluster_codes


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.sampled_from(["sets", "any", "gaps"]))
def test_equals_the_unique_inverse(seed, n, kind):
    rng = np.random.default_rng(seed)
    if kind == "sets":  # matched sets: 0, 0, 1, 1, 1, 2, ...
        ids = np.repeat(np.arange(n), rng.integers(1, 4, n)).astype(np.intp)
    elif kind == "gaps":  # sorted from 0, with ids missing
        ids = np.sort(np.repeat(rng.choice(3 * n, n, replace=False), 2)).astype(np.intp)
        ids -= ids[0]
    else:
        ids = rng.integers(0, n, 2 * n).astype(np.intp)
    want = np.unique(ids, return_inverse=True)[1]
    got = cluster_codes(ids)
    assert got.dtype == want.dtype and np.array_equal(got, want)
