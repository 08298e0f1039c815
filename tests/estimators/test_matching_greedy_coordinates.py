"""Greedy matching on coordinates without the exact distance matrix
(estimators.matching_greedy_coordinates) against the greedy matcher on cdist's matrix:
the same choices, ties and near-ties included."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st
from scipy.spatial.distance import cdist

from tacebench.estimators.matching_greedy_coordinates import greedy_on_coordinates
from tacebench.estimators.matching_mahalanobis import (match_mahalanobis_kernel,
                                                       match_on_distance)


def _coordinates(seed: int, n1: int, n0: int, p: int, kind: str):
    rng = np.random.default_rng(seed)
    if kind == "grid":        # few distinct values: exact ties and duplicated units
        Y = rng.integers(0, 3, (n1 + n0, p)).astype(float)
    elif kind == "near":      # pairs a few ulps apart: the band must send them to cdist
        base = rng.normal(size=(max(1, (n1 + n0) // 3), p)) * 1e3
        Y = base[rng.integers(0, base.shape[0], n1 + n0)]
        Y = Y + rng.integers(-3, 4, Y.shape) * np.spacing(Y)
    else:
        Y = rng.normal(size=(n1 + n0, p)) * rng.uniform(0.01, 100.0)
    return Y[:n1], Y[n1:]


@settings(max_examples=250, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 60), st.integers(1, 25),
       st.integers(1, 3), st.sampled_from(["grid", "near", "normal"]))
def test_same_choices_as_the_exact_matrix(seed, n1, n0, p, ratio, kind):
    Yt, Yc = _coordinates(seed, n1, n0, p, kind)
    expected = match_on_distance(cdist(Yt, Yc), ratio, False)
    np.testing.assert_array_equal(greedy_on_coordinates(Yt, Yc, ratio), expected)


def test_non_finite_coordinates_are_left_to_the_exact_matrix():
    Yt, Yc = np.array([[np.inf, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0]])
    assert greedy_on_coordinates(Yt, Yc, 1) is None


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_kernel_matches_as_on_the_exact_matrix(seed, ratio):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 80))
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.integers(0, 3, n)])
    z = (rng.random(n) < 0.4).astype(np.int8)
    z[:2] = [1, 0]
    got = match_mahalanobis_kernel(X.astype(float), z, None, "overall", ratio, False)
    # the exact matrix's choices, through the calipered path with an all-allowing caliper
    wide = match_mahalanobis_kernel(X.astype(float), z, 1e6, "overall", ratio, False)
    np.testing.assert_array_equal(got.control_index, wide.control_index)
    np.testing.assert_array_equal(got.rows, wide.rows)
