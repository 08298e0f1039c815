"""The batched glm's cheap proof that a step fails the condition test
(condition_surely_fails) and the steps it leaves out of x'x and its inverse: never a
problem the exact test would pass, and the same steps as when every problem is
inverted."""
import numpy as np
from hypothesis import given, settings, strategies as st

from tacebench.estimators.batch import glm
from tacebench.estimators.batch.glm import CSNE_RCOND


def _weighted_designs(seed, B=40, n=60, p=6):
    """Weighted designs whose conditions span the threshold: a rare dummy column whose
    rows get weights from 1 down to 1e-12 (a separating level late in IRLS)."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([np.ones((B, n, 1)), rng.normal(size=(B, n, p - 2)),
                        (rng.random((B, n, 1)) < 0.2).astype(float)], axis=2)
    shrink = 10.0 ** -rng.uniform(0, 12, size=B)
    sw = np.where(X[:, :, -1] > 0, shrink[:, None], 1.0) * rng.uniform(0.5, 1.0, (B, n))
    return X * sw[:, :, None], rng.normal(size=(B, n))


def _exact_rcond(A):
    G = np.swapaxes(A, 1, 2) @ A
    inv = np.linalg.inv(G)
    return 1.0 / (np.abs(G).sum(axis=1).max(axis=1) * np.abs(inv).sum(axis=1).max(axis=1))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_the_bound_never_condemns_a_problem_the_exact_test_passes(seed):
    A, _ = _weighted_designs(seed)
    G = np.swapaxes(A, 1, 2) @ A
    diag = np.diagonal(G, axis1=1, axis2=2)
    norm1 = np.abs(G).sum(axis=1).max(axis=1)
    ill = glm.condition_surely_fails(diag.min(axis=1), norm1)
    rcond = _exact_rcond(A)
    assert not (ill & (rcond > CSNE_RCOND)).any()
    # the data span the threshold and the bound decides most of the failing ones
    assert (rcond > CSNE_RCOND).any() and ill.sum() >= 0.5 * (rcond <= CSNE_RCOND).sum()


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 2 ** 40 - 1))
def test_suspects_and_bounds_leave_the_steps_as_every_problem_inverted(seed, mask):
    """semi_normal_steps with any problems marked suspect gives the steps, bit for bit, of
    the plain computation: x'x, its inverse, the exact test, the refined normal
    equations."""
    A, b = _weighted_designs(seed)
    suspect = (mask >> np.arange(A.shape[0])) & 1 == 1
    coef, ok = glm.semi_normal_steps(A, b, suspect)
    At = np.swapaxes(A, 1, 2)
    Ginv = np.linalg.inv(At @ A)
    want = _exact_rcond(A) > CSNE_RCOND
    np.testing.assert_array_equal(ok, want)
    ref = Ginv @ (At @ b[:, :, None])
    ref += Ginv @ (At @ (b[:, :, None] - A @ ref))
    np.testing.assert_array_equal(coef, ref[want, :, 0])
