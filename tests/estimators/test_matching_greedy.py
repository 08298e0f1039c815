"""The greedy matcher on a distance matrix (estimators.matching_mahalanobis.match_on_distance)
against its definition, written out here as the slow loop it replaces: treated rows in
order, ``ratio`` rounds, each the nearest still-available allowed control (the lower column
on a tie), a control used up once taken."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.matching_mahalanobis import match_on_distance


def _definition(D: np.ndarray, ratio: int) -> np.ndarray:
    n1, n0 = D.shape
    mm = np.full((n1, ratio), -1, dtype=np.intp)
    Dw = D.copy()
    for r in range(ratio):
        for i in range(n1):
            j = int(np.argmin(Dw[i]))
            if not np.isfinite(Dw[i, j]):
                continue
            mm[i, r] = j
            Dw[:, j] = np.inf
    return mm


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 25), st.integers(1, 40), st.integers(1, 3),
       st.floats(0.0, 0.9), st.booleans())
def test_equals_the_definition(seed, n1, n0, ratio, forbidden, tied):
    rng = np.random.default_rng(seed)
    # integer distances make ties (the lower column must win); inf marks a forbidden pair
    D = (rng.integers(0, 4, (n1, n0)).astype(float) if tied
         else rng.exponential(1.0, (n1, n0)))
    D[rng.random((n1, n0)) < forbidden] = np.inf
    assert np.array_equal(match_on_distance(D, ratio, False), _definition(D, ratio))


def test_a_taken_first_choice_passes_to_the_next_nearest():
    D = np.array([[1.0, 2.0, 3.0],
                  [1.0, 5.0, 2.0],
                  [1.0, np.inf, np.inf]])
    assert match_on_distance(D, 1, False)[:, 0].tolist() == [0, 2, -1]


def test_no_controls_matches_nobody():
    assert match_on_distance(np.empty((3, 0)), 2, False).tolist() == [[-1, -1]] * 3
