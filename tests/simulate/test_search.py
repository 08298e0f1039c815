"""SortedCuts: the bucket lookup returns np.searchsorted's indices exactly."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.simulate.search import SortedCuts

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(finite, min_size=1, max_size=80), side=st.sampled_from(["left", "right"]),
       seed=st.integers(0, 2 ** 32 - 1), dup=st.booleans(), edges=st.booleans())
def test_lookup_equals_searchsorted(cuts, side, seed, dup, edges):
    cuts = np.sort(np.asarray(cuts + cuts[:3] if dup else cuts))  # ties among the cuts
    if edges:
        cuts = np.concatenate(([-np.inf], cuts, [np.inf]))
    rng = np.random.default_rng(seed)
    keys = rng.normal(np.median(cuts[np.isfinite(cuts)]), 20, size=(3, 3000))
    keys.flat[rng.integers(0, keys.size, 200)] = rng.choice(cuts, 200)  # keys on the cuts
    keys.flat[:4] = [np.nan, np.inf, -np.inf, 0.0]
    got = SortedCuts.build(cuts, side)(keys)
    assert got.shape == keys.shape
    assert np.array_equal(got, np.searchsorted(cuts, keys, side=side))


def test_small_inputs_and_degenerate_cuts():
    for cuts in ([1.0], [2.0, 2.0], [0.0, 1.0, 3.0]):
        s = SortedCuts.build(cuts)
        z = np.array([-1.0, 0.0, 1.0, 2.0, 5.0])
        assert np.array_equal(s(z), np.searchsorted(cuts, z))
        assert s(1.0) == np.searchsorted(cuts, 1.0)


def test_bad_side():
    with pytest.raises(ValueError, match="side"):
        SortedCuts.build([0.0, 1.0], "middle")
