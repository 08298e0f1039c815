"""The balancing result's helpers: the rank test that skips the SVD, and the weighted arm
means, each against the numpy function it replaces."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from tacebench.estimators.balancing_result import column_rank, weighted_arm_means


def _matrix(seed: int, kind: str) -> np.ndarray:
    """A tall matrix of one of the shapes a design takes, some with dependent columns."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(3, 500))
    k = int(rng.integers(1, min(m, 25) + 1))
    A = rng.normal(size=(m, k)) * rng.lognormal(0.0, 3.0, size=k)   # unequal scales
    if kind == "dummies":       # indicators with an intercept; two levels cover everyone
        A = (rng.random((m, k)) < rng.uniform(0.01, 0.5)).astype(float)
        A[:, 0] = 1.0
        if k > 2:
            A[:, 2] = 1.0 - A[:, 1]
    elif kind == "copy" and k > 1:
        A[:, -1] = 3.0 * A[:, 0]
    elif kind == "nearly" and k > 1:   # dependent up to noise of 1e-16 .. 1e-2
        A[:, -1] = A[:, 0] + rng.normal(size=m) * 10.0 ** rng.uniform(-16, -2)
    return A


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["random", "dummies", "copy", "nearly"]))
def test_column_rank_is_numpy_matrix_rank(seed, kind):
    A = _matrix(seed, kind)
    assert column_rank(A) == np.linalg.matrix_rank(A)


def test_column_rank_sees_dependent_columns():
    """Indicators of every level beside the intercept: rank one short, as matrix_rank."""
    levels = np.repeat(np.arange(3), 10)
    A = np.column_stack([np.ones(30)] + [(levels == v).astype(float) for v in range(3)])
    assert column_rank(A) == 3 == np.linalg.matrix_rank(A)
    assert column_rank(A[:, :3]) == 3


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_weighted_arm_means_are_numpy_average_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(4, 600)), int(rng.integers(1, 30))
    X = rng.normal(size=(n, p)) * rng.lognormal(0.0, 3.0, size=p)
    z = rng.random(n) < rng.uniform(0.05, 0.95)
    z[:2] = [False, True]
    w = rng.lognormal(0.0, 2.0, size=n)
    ref = np.vstack([np.average(X[z == a], axis=0, weights=w[z == a]) for a in (0, 1)])
    assert np.array_equal(weighted_arm_means(X, [~z, z], w), ref)
