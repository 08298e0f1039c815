"""result_from_sets: 1:1 sets (one control column) built by their own short path give
the same MatchResult as the general path (many control columns, unused ones -1)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.matching_result import result_from_sets


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 80), st.booleans())
def test_pairs_equal_the_general_path(seed, n, reuse):
    rng = np.random.default_rng(seed)
    z = (rng.random(n) < 0.4).astype(np.int8)
    z[:2] = (0, 1)
    treated, controls = np.flatnonzero(z == 1), np.flatnonzero(z == 0)
    pick = (rng.choice(controls, treated.size) if reuse
            else rng.permutation(np.resize(controls, max(treated.size, controls.size)))
            [:treated.size])
    if not reuse:  # without reuse, fewer controls than treated leave sets unmatched
        pick = np.where(np.arange(treated.size) < controls.size, pick, -1)
    pick = np.where(rng.random(treated.size) < 0.2, -1, pick)  # (sets with no control)
    one = result_from_sets(pick[:, None], treated, z, caliper=0.1, distance=None, method="m")
    wide = np.column_stack((pick, np.full(treated.size, -1)))
    general = result_from_sets(wide, treated, z, caliper=0.1, distance=None, method="m")
    for field in ("treated_index", "pair_id", "rows", "weights"):
        got, want = getattr(one, field), getattr(general, field)
        assert got.dtype == want.dtype and np.array_equal(got, want), field
    assert np.array_equal(one.control_index, general.control_index[:, :1])
    assert (one.n_matched, one.n_dropped, one.status) == (general.n_matched,
                                                         general.n_dropped, general.status)
