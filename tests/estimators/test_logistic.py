"""estimators.logistic: the rank check, the validated path, and the kernel's final values."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.kernels import fit_logistic, logistic_loglik
from tacebench.estimators.logistic import (
    check_full_rank,
    fit_validated,
    logistic_regression,
    with_intercept,
)
from tacebench.estimators.propensity import propensity_score


def _numpy_verdict(X: np.ndarray) -> bool:
    """Full column rank as numpy's SVD decides it: the definition check_full_rank keeps."""
    return np.linalg.matrix_rank(X) == X.shape[1]


def _raises(X: np.ndarray) -> bool:
    try:
        check_full_rank(X, tuple(f"x{j}" for j in range(X.shape[1])))
    except ValueError as exc:
        assert "rank deficient" in str(exc)
        return True
    return False


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 60), p=st.integers(1, 8),
       collinear=st.booleans(), log_scale=st.floats(-9.0, 9.0))
def test_full_rank_verdict_is_numpys(seed, n, p, collinear, log_scale):
    """Random designs, some with a column an exact combination of others (computed in
    floating point, so X'X has a tiny non-zero eigenvalue), some with one column scaled by
    up to 1e+-9: check_full_rank raises exactly when matrix_rank says deficient."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    if rng.random() < 0.3:
        X = np.round(X)  # 0/1-like and integer columns, as dummy codes
    if collinear and p > 1:
        c = rng.normal(size=p - 1)
        X[:, -1] = X[:, :-1] @ c
    X[:, 0] *= 10.0 ** log_scale
    assert _raises(X) == (not _numpy_verdict(X))


def _certified_without_eigenvalues(X: np.ndarray) -> bool:
    """check_full_rank passed ``X`` without the eigenvalues or the SVD: the one-Cholesky
    certificate vouched for it."""
    from unittest import mock

    called = []
    eig, rank = np.linalg.eigvalsh, np.linalg.matrix_rank
    with mock.patch.object(np.linalg, "eigvalsh", lambda *a: called.append(1) or eig(*a)), \
            mock.patch.object(np.linalg, "matrix_rank", lambda *a: called.append(1) or rank(*a)):
        check_full_rank(X, tuple(f"x{j}" for j in range(X.shape[1])))
    return not called


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 80), p=st.integers(1, 10),
       log_cond=st.floats(0.0, 12.0))
def test_cholesky_certificate_vouches_only_for_what_the_eigenvalues_show(seed, n, p, log_cond):
    """When the rank check needs neither eigenvalues nor SVD (the one-Cholesky certificate
    vouched), ``lambda_min > slack lambda_max`` of ``X'X`` by the eigenvalues too, over
    designs of condition up to 1e12; and it does vouch for well-conditioned designs."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(max(n, p), p)))
    X = (q[:n] * np.logspace(0.0, -log_cond, p)) @ np.linalg.qr(rng.normal(size=(p, p)))[0]
    slack = 100.0 * (n + p) * p * np.finfo(float).eps
    ev = np.linalg.eigvalsh(X.T @ X)
    if np.linalg.matrix_rank(X) < p:
        return  # rank deficient: the check raises (test_full_rank_verdict_is_numpys)
    if _certified_without_eigenvalues(X):
        assert ev[0] > slack * ev[-1]
    elif n >= p and log_cond < 1.0:
        raise AssertionError("a well-conditioned design needed the eigenvalues")


@pytest.mark.parametrize("make", [
    lambda x: np.column_stack([np.ones_like(x), x, 3.0 * x + 0.1]),  # affine copy
    lambda x: np.column_stack([np.ones_like(x), x, x + 1e-15 * x[::-1]]),  # equal to rounding
    lambda x: np.column_stack([x, 0.1 * x, np.ones_like(x)]),
    lambda x: np.column_stack([np.ones_like(x), x, np.ones_like(x)]),  # duplicated intercept
])
def test_collinear_designs_are_deficient(make):
    """Designs whose Gram matrix is numerically positive definite (Cholesky would pass)
    but which are rank deficient by the SVD: the certificate must not vouch for them."""
    x = np.random.default_rng(5).normal(size=200)
    X = make(x)
    assert not _numpy_verdict(X)
    assert _raises(X)


def test_rows_of_positive_weight_decide_the_rank():
    """A column constant among the rows of positive weight is collinear with the intercept
    even when the zero-weight rows vary."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 2))
    y = (rng.random(80) < 0.5).astype(float)
    w = np.ones(80)
    w[:5] = 0.0
    X[5:, 1] = 2.0
    with pytest.raises(ValueError, match="rank deficient"):
        logistic_regression(X, y, w)
    check_full_rank(with_intercept(X), ("(Intercept)", "a", "b"))  # all rows: full rank


def test_propensity_score_reports_a_collinear_frame():
    rng = np.random.default_rng(3)
    f = pd.DataFrame({"age": rng.normal(60, 8, 100), "treated": rng.integers(0, 2, 100)})
    f["age_months"] = 12.0 * f["age"]
    with pytest.raises(ValueError, match=r"rank deficient.*'age', 'age_months'"):
        propensity_score(f, "treated", ["age", "age_months"])


def test_fit_validated_is_logistic_regression():
    """The validated path gives logistic_regression's result, field by field."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 3))
    y = (rng.random(150) < 1.0 / (1.0 + np.exp(-X[:, 0]))).astype(float)
    w = rng.uniform(0.5, 2.0, 150)
    a = logistic_regression(X, y, w, names=["a", "b", "c"])
    b = fit_validated(with_intercept(X), y, w, ("(Intercept)", "a", "b", "c"))
    for field in ("coef", "se", "cov", "robust_cov", "fitted", "linear_predictor",
                  "score_contributions", "hessian"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.loglik, a.n_iter, a.names, a.status) == (b.loglik, b.n_iter, b.names, b.status)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(25, 300), k=st.integers(1, 12),
       scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_unit_weight_start_is_the_kernel_from_zero(seed, n, k, scale):
    """With unit weights fit_validated hands the kernel its first information (and checks
    the rank on 4 times it): every number equals the kernel's own run from zero, and
    4 x that information is X'X as the same product computes it, to the bit."""
    from tacebench.estimators.logistic_fit import information_at_zero

    rng = np.random.default_rng(seed)
    X = with_intercept(scale * rng.normal(size=(n, k)))
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X[:, 1] / scale))).astype(float)
    if y.min() == y.max():
        y[0] = 1.0 - y[0]
    w = np.ones(n)
    names = ("(Intercept)",) + tuple(f"x{j}" for j in range(k))
    ref = fit_logistic(X, y, w)
    try:
        got = fit_validated(X, y, w, names, on_separation="flag")
    except ValueError:  # rank deficient: the kernel has no estimate to compare
        assert np.linalg.matrix_rank(X) < X.shape[1]
        return
    for field in ("coef", "fitted", "linear_predictor"):
        np.testing.assert_array_equal(getattr(got, field), getattr(ref, field))
    assert (got.loglik, got.n_iter, got.status) == (ref.loglik, ref.n_iter, ref.status)
    XT = np.ascontiguousarray(X.T)
    np.testing.assert_array_equal(4.0 * information_at_zero(XT, X, w), XT @ X)


def test_unit_weight_rank_check_still_raises():
    """The rank check on the shared product raises as before on a collinear design."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(90, 2))
    X = np.column_stack([X, X[:, 0] - 2.0 * X[:, 1]])
    y = (rng.random(90) < 0.5).astype(float)
    with pytest.raises(ValueError, match="rank deficient"):
        fit_validated(with_intercept(X), y, np.ones(90), ("(Intercept)", "a", "b", "c"))


def test_kernel_final_values_are_its_coefficients():
    """LogisticFit's linear predictor and log-likelihood are X coef and the log-likelihood
    there, as recomputed from the coefficients (what the result used to recompute)."""
    rng = np.random.default_rng(6)
    X = with_intercept(rng.normal(size=(120, 4)))
    y = (rng.random(120) < 0.4).astype(float)
    w = rng.uniform(0.2, 3.0, 120)
    fit = fit_logistic(X, y, w)
    np.testing.assert_array_equal(fit.linear_predictor, X @ fit.coef)
    assert fit.loglik == logistic_loglik(X @ fit.coef, y, w)


def test_propensity_rows_route_is_logistic_regression():
    """propensity_score fits from the design's rows (intercept row first) instead of
    with_intercept(design.values): the same numbers, to the bit, as logistic_regression
    on design_matrix's values, and the same design."""
    from tacebench.estimators.design import design_matrix, design_with_rows

    rng = np.random.default_rng(12)
    n = 200
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.gamma(2.0, size=n),
                          "g": pd.Categorical(rng.choice(["x", "y", "w"], size=n)),
                          "k": rng.integers(0, 3, size=n)})
    frame["z"] = (rng.random(n) < 1.0 / (1.0 + np.exp(-frame["a"]))).astype(int)
    covs = ["a", "b", "g", "k"]
    d = design_matrix(frame, covs)
    d2, rows = design_with_rows(frame, covs)
    np.testing.assert_array_equal(d2.values, d.values)
    np.testing.assert_array_equal(rows, with_intercept(d.values).T)
    m = propensity_score(frame, "z", covs)
    ref = logistic_regression(d.values, frame["z"].to_numpy(), names=list(d.names))
    for field in ("coef", "fitted", "linear_predictor", "cov"):
        np.testing.assert_array_equal(getattr(m.fit, field), getattr(ref, field))
    assert (m.fit.loglik, m.fit.n_iter, m.fit.names) == (ref.loglik, ref.n_iter, ref.names)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(40, 400), k=st.integers(1, 15))
def test_chord_step_stops_at_full_newtons_estimate(seed, n, k):
    """The kernel's last iteration reuses the previous information (a chord step): its
    coefficients are those of Newton with the information recomputed at every step."""
    from scipy import special

    rng = np.random.default_rng(seed)
    X = with_intercept(rng.normal(size=(n, k)))
    y = (rng.random(n) < special.expit(X[:, 1])).astype(float)
    w = np.ones(n)
    fit = fit_logistic(X, y, w)
    if not fit.converged or np.linalg.matrix_rank(X) < X.shape[1]:
        return
    beta = np.zeros(X.shape[1])
    for _ in range(100):  # plain Newton, no step halving needed from a converged start
        mu = special.expit(X @ beta)
        step = np.linalg.solve((X.T * (mu * (1.0 - mu))) @ X, X.T @ (y - mu))
        beta = beta + step
        if np.abs(step).max() <= 1e-13 * (1.0 + np.abs(beta).max()):
            break
    np.testing.assert_allclose(fit.coef, beta, rtol=1e-9, atol=1e-11)


# --- arguments of the wrong type or value: named errors --------------------------------

X6, Y6 = [[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]], [0, 1, 0, 1, 1, 0]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(X=np.empty((0, 1)), y=[]), ValueError, r"X and y must not be empty; got X of shape \(0, 1\)"),
    (dict(X=np.empty((6, 0)), intercept=False), ValueError, "X has no columns and no intercept"),
    (dict(intercept="no"), TypeError, "intercept must be True or False; got 'no'"),
    (dict(intercept=0), TypeError, "intercept must be True or False; got 0"),
    (dict(max_iter="5"), TypeError, "max_iter must be an integer >= 1; got '5'"),
    (dict(max_iter=0), ValueError, "max_iter must be an integer >= 1; got 0"),
    (dict(tol=float("nan")), ValueError, "tol must be a positive finite number"),
    (dict(X=pd.DataFrame({"a": pd.array([1.0, None, 3, 4, 5, 6], dtype="Float64")})),
     ValueError, r"X column 'a' has 1 missing value\(s\) \(rows \[1\]"),
    (dict(X=pd.DataFrame({"a": pd.array([1.0, None, 3, 4, 5, 6], dtype="Float64"),
                          "b": [1.0, 2, 3, 4, 5, 7]})),
     ValueError, r"X column 'a' has 1 missing value\(s\)"),
    (dict(X=pd.DataFrame({"a": pd.array([1, 2, 3, 4, None, 6], dtype="Int64"),
                          "b": pd.Categorical(list("ababab"))})),
     ValueError, r"X column 'a' has 1 missing value\(s\) \(rows \[4\]"),
    (dict(X=pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "b": pd.Categorical(list("ababab"))})),
     TypeError, "X column 'b' must be numeric; it is categorical"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        logistic_regression(**{"X": X6, "y": Y6, **kwargs})


def test_a_flagged_separated_fit_reports_its_status_without_warnings():
    """The covariance of a separated fit (near-singular information) is computed without
    scipy's ill-conditioning warning: ``separation`` and ``status`` say it (the test
    suite turns warnings into errors)."""
    rng = np.random.default_rng(1)
    rng.normal(size=60)
    z = (rng.random(60) < 0.5).astype(int)
    y = (rng.random(60) < 0.4).astype(int) * z  # no event without treatment: separated
    fit = logistic_regression(z[:, None], y, on_separation="flag")
    assert fit.separation and fit.status.name == "SEPARATED"
    assert fit.cov.shape == (2, 2) and fit.se.shape == (2,)
