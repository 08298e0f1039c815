"""fit_cox_rows(..., residuals=True): replicate by replicate the unweighted score residuals
and information of fit_cox (whose residuals give R coxph's robust SE, checked in
tests/estimators/test_cox.py), with ties, case weights and either tie method."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.kernels import fit_cox_rows
from tacebench.estimators.survival.cox import fit_cox


def _data(seed, R=8, n=90):
    rng = np.random.default_rng(seed)
    z = (rng.random((R, n)) < 0.4).astype(float)
    t = np.round(rng.exponential(size=(R, n)) * np.exp(-0.5 * z), 1)  # many ties
    e = (rng.random((R, n)) < 0.7).astype(float)
    w = rng.uniform(0.3, 4.0, size=(R, n))
    return t, e, z, w


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["efron", "breslow"]))
def test_residuals_and_information_equal_fit_cox(seed, ties):
    t, e, z, w = _data(seed)
    out = fit_cox_rows(t, e, z, w, ties=ties, residuals=True)
    se, refitted, L = out[1], out[7], out[8]
    assert L.shape == t.shape
    for r in range(t.shape[0]):
        ref = fit_cox(t[r], e[r], z[r][:, None], w[r], ties=ties, robust=True)
        if refitted[r]:
            assert np.isnan(L[r]).all()
            continue
        np.testing.assert_allclose(L[r], ref.score_residuals[:, 0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(1.0 / se[r] ** 2, ref.information[0, 0], rtol=1e-10)


def test_residuals_leave_the_other_outputs_unchanged():
    t, e, z, w = _data(4)
    plain = fit_cox_rows(t, e, z, w)
    with_l = fit_cox_rows(t, e, z, w, residuals=True)
    assert len(plain) == 8 and len(with_l) == 9
    for a, b in zip(plain, with_l):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_weighted_residuals_square_to_the_robust_variance(ties):
    # the Lin-Wei variance is sum (w L)^2 / I^2: the residuals returned are those it uses
    t, e, z, w = _data(7)
    coef, se, rse, *_, refitted, L = fit_cox_rows(t, e, z, w, ties=ties, residuals=True)
    keep = ~refitted
    lin_wei = ((w * L) ** 2).sum(axis=1) * se**4
    np.testing.assert_allclose(np.sqrt(lin_wei[keep]), rse[keep], rtol=1e-10)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("residuals", [False, True])
def test_without_robust_se_the_other_outputs_are_unchanged(ties, residuals):
    t, e, z, w = _data(11)
    full = fit_cox_rows(t, e, z, w, ties=ties, residuals=residuals)
    lean = fit_cox_rows(t, e, z, w, ties=ties, residuals=residuals, robust=False)
    assert len(lean) == len(full)
    refitted = full[7]
    assert np.isnan(lean[2][~refitted]).all()
    for i, (a, b) in enumerate(zip(full, lean)):
        if i != 2:
            assert np.array_equal(a, b, equal_nan=True)
