"""glm_binomial_batch / fit_glm_binomial_rows: replicate by replicate the numbers of the
one-fit kernel fit_glm_binomial (R's glm.fit, checked against R in
tests/estimators/test_glm_binomial.py), on separated and non-separated data."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.batch import CAPABILITIES, glm_binomial_batch
from tacebench.estimators.glm_binomial import fit_glm_binomial


def _stack(seed, B=12, n=90, k=5, separate=0, alias=False):
    """Designs with an intercept, k normal columns and two rare dummies; the first
    ``separate`` replicates have a dummy present among y = 1 only (quasi-separation)."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([np.ones((B, n, 1)), rng.normal(size=(B, n, k)),
                        (rng.random((B, n, 2)) < 0.15).astype(float)], axis=2)
    eta = 0.8 * X[:, :, 1] - 0.5 * X[:, :, 2]
    y = (rng.random((B, n)) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    X[:separate, :, -1] *= y[:separate]
    if alias:   # a column equal to another: R's glm drops it (NA)
        X = np.concatenate([X, X[:, :, 1:2]], axis=2)
    return X, y


def _check(X, y, w=None):
    got = glm_binomial_batch(X, y, w)
    W = np.ones(y.shape) if w is None else w
    for r in range(X.shape[0]):
        ref = fit_glm_binomial(X[r], y[r], W[r])
        assert got.n_iter[r] == ref.n_iter and got.converged[r] == ref.converged
        np.testing.assert_array_equal(got.aliased[r], ref.aliased)
        np.testing.assert_allclose(got.fitted[r], ref.fitted, rtol=1e-10, atol=0)
        np.testing.assert_allclose(got.linear_predictor[r], ref.linear_predictor,
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got.coef[r], ref.coef, rtol=1e-10, atol=1e-12)
    return got


def test_non_separated_replicates_are_the_one_fit_kernel_on_the_batched_path():
    X, y = _stack(1)
    got = _check(X, y)
    assert not got.refitted.any() and got.converged.all()


def test_separated_replicates_take_the_same_iterations_and_stop():
    X, y = _stack(2, separate=6)
    got = _check(X, y)
    ref = [fit_glm_binomial(X[r], y[r], np.ones(y.shape[1])) for r in range(12)]
    assert all(f.separated for f in ref[:6]) and not any(f.separated for f in ref[6:])
    # the separated fits iterate far longer, as glm.fit does
    assert got.n_iter[:6].min() > got.n_iter[6:].max()


def test_aliased_columns_are_dropped_as_glm_drops_them():
    X, y = _stack(3, B=4, alias=True)
    got = _check(X, y)
    assert got.aliased[:, -1].all() and np.isnan(got.coef[:, -1]).all()


def test_a_level_absent_from_some_replicates_is_dropped_in_those_only():
    """A dummy that is 0 on every row of some replicates (a level no patient has): x'x is
    singular there, those replicates drop it as glm does, the others keep the batched
    path and the numbers they get in a stack without them."""
    X, y = _stack(5, B=6)
    X[:2, :, -1] = 0.0
    got = _check(X, y)
    assert got.aliased[:2, -1].all() and not got.aliased[2:].any()
    alone = glm_binomial_batch(X[2:], y[2:])
    np.testing.assert_array_equal(got.coef[2:], alone.coef)


def test_zero_weights_leave_rows_out():
    X, y = _stack(4, B=6)
    w = np.ones(y.shape)
    w[:, :10] = 0.0
    w[:, 10:20] = 2.0
    _check(X, y, w)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 7))
def test_a_replicate_s_fit_does_not_depend_on_its_batch(seed, take):
    """The same replicate fitted in a stack of 8 or in a stack of ``take``: same numbers."""
    X, y = _stack(seed, B=8, n=60, separate=3)
    full = glm_binomial_batch(X, y)
    part = glm_binomial_batch(X[-take:], y[-take:])
    np.testing.assert_array_equal(full.n_iter[-take:], part.n_iter)
    np.testing.assert_allclose(full.fitted[-take:], part.fitted, rtol=1e-10, atol=0)


def test_bad_input_is_named():
    X, y = _stack(5, B=2)
    with pytest.raises(ValueError, match="y must be 0/1"):
        glm_binomial_batch(X, y + 0.5)
    with pytest.raises(ValueError, match="3-dimensional"):
        glm_binomial_batch(X[0], y)
    with pytest.raises(ValueError, match="maxit"):
        glm_binomial_batch(X, y, maxit=0)


def test_capability_entry():
    assert "glm_binomial_batch" in CAPABILITIES
