"""cox_covariate_batch / fit_cox_covariate_rows: replicate by replicate fit_cox's numbers (R coxph, checked in
tests/estimators/test_cox.py) for one covariate of any values; a monotone likelihood
(a covariate that orders the deaths: no finite MLE) is refitted alone with its flags."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.batch import CAPABILITIES, cox_covariate_batch
from tacebench.estimators.kernels import fit_cox_covariate_rows
from tacebench.estimators.survival.cox import fit_cox


def _data(seed, R=10, n=120, monotone=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(R, n)) * 40 + 150        # a lab value far from 0
    t = np.round(rng.exponential(size=(R, n)) * np.exp(-0.01 * (x - 150)), 1)  # ties
    e = (rng.random((R, n)) < 0.7).astype(float)
    w = rng.uniform(0.5, 3.0, size=(R, n))
    w[:, :10] = 0.0                               # rows outside the model
    x[:monotone] = -t[:monotone]                  # separated: x orders the times
    return t, e, x, w


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_equal_to_fit_cox_replicate_by_replicate(ties):
    t, e, x, w = _data(1, monotone=2)
    coef, se, ll, ll0, conv, n_iter, refitted = fit_cox_covariate_rows(t, e, x, w, ties=ties)
    for r in range(t.shape[0]):
        k = w[r] > 0
        ref = fit_cox(t[r][k], e[r][k], x[r][k][:, None], w[r][k], ties=ties)
        assert n_iter[r] == ref.n_iter and conv[r] == ref.converged
        if np.isfinite(ref.coef[0]):
            np.testing.assert_allclose([coef[r], se[r]], [ref.coef[0], ref.se[0]],
                                       rtol=1e-10)
        else:
            assert coef[r] == ref.coef[0]
        np.testing.assert_allclose([ll[r], ll0[r]], [ref.loglik, ref.loglik_null],
                                   rtol=1e-10)
    assert refitted[:2].all() and not refitted[2:].any()
    assert not np.isfinite(coef[:2]).any()      # monotone: fit_cox's infinite coefficient


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_a_replicate_s_fit_does_not_depend_on_its_batch(seed, take):
    t, e, x, w = _data(seed, R=6, n=60)
    full = fit_cox_covariate_rows(t, e, x, w)
    part = fit_cox_covariate_rows(t[-take:], e[-take:], x[-take:], w[-take:])
    np.testing.assert_allclose(full[0][-take:], part[0], rtol=1e-10)
    np.testing.assert_array_equal(full[5][-take:], part[5])


def test_public_function_validates_and_equals_the_kernel():
    t, e, x, w = _data(2, R=3)
    got = cox_covariate_batch(t, e, x, w, ties="breslow")
    np.testing.assert_array_equal(got.coef, fit_cox_covariate_rows(t, e, x, w,
                                                                   ties="breslow")[0])
    with pytest.raises(ValueError, match="x must have the shape of time"):
        cox_covariate_batch(t, e, x[:, :5], w)
    with pytest.raises(ValueError, match="event must be 0/1"):
        cox_covariate_batch(t, e + 0.5, x, w)
    assert CAPABILITIES["cox_covariate_batch"]["ties"] == ("efron", "breslow")
