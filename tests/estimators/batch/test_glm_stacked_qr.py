"""The stacked QR step of fit_glm_binomial_rows (glm_qr.aliased_least_squares_rows):
problem by problem the answer of the one-problem solver aliased_least_squares (R's
Cdqrls, checked against R in tests/estimators/test_glm_binomial.py), or left to it."""
import numpy as np
from hypothesis import given, settings, strategies as st

from tacebench.estimators.batch import glm as batch_glm
from tacebench.estimators.glm_binomial import fit_glm_binomial
from tacebench.estimators.glm_qr import aliased_least_squares, aliased_least_squares_rows

TOL = 1e-11     # glm.fit's, min(1e-7, epsilon / 1000)


def _problems(seed, B, n, p, zero_cols, collinear, zero_rows):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, n, p)) * rng.uniform(0.01, 100.0, size=(B, 1, p))
    y = rng.normal(size=(B, n))
    for r in range(B):
        x[r, :, rng.choice(p, size=zero_cols[r], replace=False)] = 0.0
    if collinear:       # a column a multiple of another: dqrdc2 pivots it (not exact 0)
        x[0, :, -1] = 3.0 * x[0, :, 0]
    x[:, :zero_rows] = 0.0
    y[:, :zero_rows] = 0.0
    return x, y


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), B=st.integers(1, 6), n=st.integers(12, 40),
       p=st.integers(2, 8), data=st.data())
def test_each_problem_is_the_one_problem_solver_or_left_to_it(seed, B, n, p, data):
    zero_cols = data.draw(st.lists(st.integers(0, p - 1), min_size=B, max_size=B))
    collinear = data.draw(st.booleans()) and p >= 3 and zero_cols[0] == 0
    zero_rows = data.draw(st.integers(0, 3))
    x, y = _problems(seed, B, n, p, zero_cols, collinear, zero_rows)
    coef, aliased, ok = aliased_least_squares_rows(x, y, TOL)
    for r in range(B):
        good = (x[r] != 0).any(axis=1)
        c, pivot, rank = aliased_least_squares(x[r][good], y[r][good], TOL)
        ref = np.empty(p)
        ref[pivot] = c
        ref_aliased = np.zeros(p, dtype=bool)
        ref_aliased[pivot[rank:]] = True
        if collinear and r == 0:
            # a dependent column that is not exactly 0 needs dqrdc2's pivoting
            assert not ok[r] and ref_aliased.any()
            continue
        assert ok[r]
        np.testing.assert_array_equal(aliased[r], ref_aliased)
        np.testing.assert_allclose(coef[r], ref, rtol=1e-10, atol=1e-13 * np.abs(ref).max())


def test_problems_left_to_the_kernel_get_nothing():
    x, y = _problems(3, 3, 20, 4, [0, 1, 0], True, 0)
    x[2, 5, 1] = np.nan
    coef, aliased, ok = aliased_least_squares_rows(x, y, TOL)
    np.testing.assert_array_equal(ok, [False, True, False])
    assert not coef[[0, 2]].any() and not aliased[[0, 2]].any()
    x[2, 5, 1] = np.inf                     # left to the kernel; the others are not
    np.testing.assert_array_equal(aliased_least_squares_rows(x, y, TOL)[2],
                                  [False, True, False])
    # too few rows for the stacked QR of [x | y]: all left to the kernel
    assert not aliased_least_squares_rows(x[:, :4], y[:, :4], TOL)[2].any()


def _designs(seed, B, n, k, separate, absent, zero_weight):
    rng = np.random.default_rng(seed)
    X = np.concatenate([np.ones((B, n, 1)), rng.normal(size=(B, n, k)),
                        (rng.random((B, n, 2)) < 0.15).astype(float)], axis=2)
    eta = 0.8 * X[:, :, 1] - 0.5 * X[:, :, 2]
    y = (rng.random((B, n)) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    X[:separate, :, -1] *= y[:separate]             # quasi-separation
    X[B - absent:, :, -2] = 0.0                     # a level no patient has
    w = np.ones((B, n))
    w[:, :zero_weight] = 0.0
    return X, y, w


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), separate=st.integers(0, 4), absent=st.integers(0, 4),
       zero_weight=st.sampled_from([0, 7]), alias=st.booleans())
def test_stacked_fit_is_the_one_fit_kernel_per_replicate(seed, separate, absent,
                                                          zero_weight, alias):
    """Separated, aliased (a repeated column), absent-level and zero-weight replicates."""
    X, y, w = _designs(seed, 8, 80, 4, separate, absent, zero_weight)
    if alias:
        X = np.concatenate([X, X[:, :, 1:2]], axis=2)
    coef, mu, eta, n_iter, converged, aliased, _ = batch_glm.fit_glm_binomial_rows(X, y, w)
    for r in range(X.shape[0]):
        ref = fit_glm_binomial(X[r], y[r], w[r])
        assert n_iter[r] == ref.n_iter and converged[r] == ref.converged
        np.testing.assert_array_equal(aliased[r], ref.aliased)
        np.testing.assert_allclose(mu[r], ref.fitted, rtol=1e-10, atol=0)
        np.testing.assert_allclose(eta[r], ref.linear_predictor, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(coef[r], ref.coef, rtol=1e-10, atol=1e-12)


def test_absent_levels_and_separated_steps_take_the_stacked_path(monkeypatch):
    """The one-problem solver runs only for pivoting (a dependent column that is not 0):
    absent levels and ill-conditioned late steps of separated fits are stacked."""
    calls = []

    def counted(*args):
        calls.append(1)
        return aliased_least_squares(*args)

    monkeypatch.setattr(batch_glm, "aliased_least_squares", counted)
    X, y, w = _designs(11, 8, 80, 4, 4, 3, 0)
    out = batch_glm.fit_glm_binomial_rows(X, y, w)
    assert out[5][-3:, -2].all() and not calls
    X = np.concatenate([X, X[:, :, 1:2]], axis=2)
    out = batch_glm.fit_glm_binomial_rows(X, y, w)
    assert out[5][:, -1].all() and calls


def test_a_fit_whose_deviance_rose_after_a_stacked_step_is_fitted_step_by_step(monkeypatch):
    """Such a replicate gets the numbers of the iteration without the stacked QR (the
    arithmetic before it existed), bit for bit; the others keep theirs."""
    X, y, w = _designs(12, 6, 80, 4, 3, 2, 0)     # replicates 4 and 5: a level absent
    fast = batch_glm.fit_glm_binomial_rows(X, y, w)

    def none_stacked(x, z, tol):
        coef, aliased, ok = aliased_least_squares_rows(x, z, tol)
        return coef, aliased, np.zeros_like(ok)

    monkeypatch.setattr(batch_glm, "aliased_least_squares_rows", none_stacked)
    plain = batch_glm.fit_glm_binomial_rows(X, y, w)
    calls = []

    def rising_second_step(x, z, tol):
        coef, aliased, ok = aliased_least_squares_rows(x, z, tol)
        calls.append(len(x))
        if len(calls) == 2:
            coef[0] *= -3.0         # replicate 4's second step now raises its deviance
        return coef, aliased, ok

    monkeypatch.setattr(batch_glm, "aliased_least_squares_rows", rising_second_step)
    got = batch_glm.fit_glm_binomial_rows(X, y, w)
    assert calls[:2] == [2, 2] and not np.array_equal(plain[1][4], fast[1][4])
    for g, f, p in zip(got[:6], fast[:6], plain[:6]):
        np.testing.assert_array_equal(g[4], p[4])
        np.testing.assert_array_equal(g[[0, 1, 2, 3, 5]], f[[0, 1, 2, 3, 5]])
