"""fit_cox_multi_rows: replicate by replicate fit_cox's numbers (R coxph, checked in
tests/estimators/test_cox.py) for p covariates, with tied times, case weights and either
tie method; a replicate off the common path (monotone likelihood, a column without
information) is refitted alone with its flags, or only flagged with ``refit=False``."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.kernels import fit_cox_multi_rows
from tacebench.estimators.survival.cox import fit_cox


def _data(seed, R=6, n=80, p=3, weighted=True, ties=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(R, n, p)) * 10 + 50        # values far from 0: centring matters
    X[:, :, 0] = rng.random((R, n)) < 0.4            # a treatment indicator
    eta = 0.5 * X[:, :, 0] + 0.02 * (X[:, :, 1:] - 50).sum(axis=2)
    t = rng.exponential(size=(R, n)) * np.exp(-eta)
    t = np.round(t, 1) if ties else t
    e = (rng.random((R, n)) < 0.7).astype(float)
    w = rng.uniform(0.3, 4.0, size=(R, n)) if weighted else np.ones((R, n))
    return t, e, X, w


def _assert_equal_to_fit_cox(out, t, e, X, w, ties):
    coef, se, rse, ll, ll0, conv, n_iter, refitted = out
    for r in range(t.shape[0]):
        k = w[r] > 0
        ref = fit_cox(t[r][k], e[r][k], X[r][k], w[r][k], ties=ties, robust=True)
        assert n_iter[r] == ref.n_iter and conv[r] == ref.estimable
        if ref.estimable:
            for got, want in ((coef[r], ref.coef), (se[r], ref.se), (rse[r], ref.robust_se),
                              ([ll[r], ll0[r]], [ref.loglik, ref.loglik_null])):
                np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)
        else:
            assert refitted[r]
            np.testing.assert_array_equal(coef[r], ref.coef)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5), st.sampled_from(["efron", "breslow"]),
       st.booleans(), st.booleans())
def test_equal_to_fit_cox_replicate_by_replicate(seed, p, ties, weighted, tied):
    t, e, X, w = _data(seed, p=p, weighted=weighted, ties=tied)
    out = fit_cox_multi_rows(t, e, X, w, ties=ties)
    _assert_equal_to_fit_cox(out, t, e, X, w, ties)
    assert not out[7].any()   # these data stay on the common path


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_off_the_common_path_refitted_alone_with_fit_cox_flags(ties):
    t, e, X, w = _data(3, R=5, p=3)
    X[0, :, 2] = -t[0]             # orders the times: monotone likelihood, infinite coef
    X[1, :, 2] = 7.0               # constant: no information, singular
    X[2, :, 2] = X[2, :, 1] * 2.0  # collinear: singular
    w[3, :10] = 0.0                # rows outside the model stay on the common path
    out = fit_cox_multi_rows(t, e, X, w, ties=ties)
    _assert_equal_to_fit_cox(out, t, e, X, w, ties)
    np.testing.assert_array_equal(out[7], [True, True, True, False, False])
    assert np.isinf(out[0][0, 2]) and np.isnan(out[0][1]).all()
    flagged = fit_cox_multi_rows(t, e, X, w, ties=ties, refit=False)
    assert np.isnan(flagged[0][:3]).all() and not flagged[5][:3].any()
    np.testing.assert_array_equal(flagged[0][3:], out[0][3:])


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_a_replicate_s_numbers_do_not_depend_on_its_batch(seed, split):
    """Bit for bit: a study's rows must not depend on how its replicates are batched."""
    t, e, X, w = _data(seed, R=6, n=60)
    X[0, :, 1] = -t[0]             # a replicate refitted alone in the batch
    whole = fit_cox_multi_rows(t, e, X, w)
    parts = [fit_cox_multi_rows(t[a:b], e[a:b], X[a:b], w[a:b])
             for a, b in ((0, split), (split, 6))]
    for k in range(len(whole)):
        np.testing.assert_array_equal(whole[k], np.concatenate([q[k] for q in parts]))


def test_without_robust_se_the_same_fit():
    """robust=False leaves the robust SEs out (NaN), refitted replicates included, and
    changes nothing else, bit for bit."""
    t, e, X, w = _data(5, R=4, p=3)
    X[0, :, 2] = -t[0]             # a replicate refitted alone
    full = fit_cox_multi_rows(t, e, X, w)
    lean = fit_cox_multi_rows(t, e, X, w, robust=False)
    assert np.isnan(lean[2]).all() and np.isfinite(full[2][1:]).all()
    for k in (0, 1, 3, 4, 5, 6, 7):
        np.testing.assert_array_equal(lean[k], full[k])
