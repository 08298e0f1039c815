"""Logistic regression (IRLS) and the propensity-score model."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from tacebench.estimators.propensity import SeparationError, logistic_regression, propensity_score


def _data(n=300, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[:, 3] = rng.integers(0, 2, n)
    eta = 0.3 + X @ np.array([0.5, -0.4, 0.2, 0.8])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    w = rng.uniform(0.2, 3.0, n)
    return X, y, w


def test_matches_statsmodels_logit():
    X, y, _ = _data()
    r = logistic_regression(X, y)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-14)
    np.testing.assert_allclose(r.coef, ref.params, rtol=1e-10)
    np.testing.assert_allclose(r.se, ref.bse, rtol=1e-8)
    np.testing.assert_allclose(r.loglik, ref.llf, rtol=1e-12)
    assert r.converged and not r.separation


def test_weighted_matches_statsmodels_glm():
    X, y, w = _data()
    r = logistic_regression(X, y, w)
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), freq_weights=w).fit(
        tol=1e-14, maxiter=100
    )
    np.testing.assert_allclose(r.coef, ref.params, rtol=1e-10)
    np.testing.assert_allclose(r.se, ref.bse, rtol=1e-8)


def test_scores_sum_to_zero_and_hessian_is_score_derivative():
    X, y, w = _data()
    r = logistic_regression(X, y, w)
    assert np.abs(r.score_contributions.sum(axis=0)).max() < 1e-9
    Xa = np.column_stack([np.ones(len(y)), X])

    def score(beta):
        p = 1 / (1 + np.exp(-Xa @ beta))
        return Xa.T @ (w * (y - p))

    h = 1e-6
    num = np.column_stack([(score(r.coef + h * e) - score(r.coef - h * e)) / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(r.hessian, num, rtol=1e-6, atol=1e-6)


def test_separation_raises_and_flags():
    X, y, _ = _data()
    y = y.copy()
    y[X[:, 3] == 1] = 1  # quasi-complete separation by the binary column
    with pytest.raises(SeparationError, match=r"x3"):
        logistic_regression(X, y)
    r = logistic_regression(X, y, on_separation="flag")
    assert r.separation and not r.converged


def test_propensity_score_from_frame():
    X, y, _ = _data()
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "g": np.where(X[:, 3] == 1, "hi", "lo"), "z": y})
    m = propensity_score(frame, "z", ["a", "b", "g"], categorical=["g"])
    assert m.fit.names == ("(Intercept)", "a", "b", "g[lo]")
    ref = sm.Logit(y, sm.add_constant(np.column_stack([X[:, :2], 1 - X[:, 3]]))).fit(disp=0, tol=1e-14)
    np.testing.assert_allclose(m.coef, ref.params, rtol=1e-9)
    np.testing.assert_allclose(m.ps, ref.predict(), rtol=1e-10)


def _r_case():
    from tests.reference.cases import load_case

    data, exp = load_case("propensity_weights")
    data["child_pugh"] = pd.Categorical(data["child_pugh"], categories=["A5", "A6", "B7"])
    return data, exp


COVS = ["size", "number", "age60", "child_pugh", "afp400"]


def test_propensity_matches_r_glm():
    """R: glm(treated ~ size + number + age60 + child_pugh + afp400, family = binomial,
    control = glm.control(epsilon = 1e-14)) (tests/reference/propensity_weights)."""
    data, exp = _r_case()
    m = propensity_score(data, "treated", COVS)
    assert m.fit.names == ("(Intercept)", "size", "number", "age60", "child_pugh[A6]",
                           "child_pugh[B7]", "afp400")
    np.testing.assert_allclose(m.coef, exp["coef"], rtol=1e-8)
    np.testing.assert_allclose(m.fit.se, exp["se"], rtol=1e-8)
    np.testing.assert_allclose(m.fit.loglik, exp["loglik"], rtol=1e-10)
    np.testing.assert_allclose(m.ps, exp["ps"], rtol=1e-8)


def test_weighted_logistic_matches_r_glm():
    """R: glm(..., family = binomial, weights = cw) with non-integer weights."""
    data, exp = _r_case()
    m = propensity_score(data, "treated", COVS)
    r = logistic_regression(m.design.values, data["treated"], data["cw"])
    np.testing.assert_allclose(r.coef, exp["coef_weighted"], rtol=1e-8)
    np.testing.assert_allclose(r.se, exp["se_weighted"], rtol=1e-8)


def test_logistic_row_permutation_invariant():
    from hypothesis import given, settings, strategies as st

    X, y, w = _data(n=120, seed=3)
    base = logistic_regression(X, y, w)

    @settings(max_examples=25, deadline=None)
    @given(st.permutations(range(120)))
    def check(perm):
        perm = np.asarray(perm)
        r = logistic_regression(X[perm], y[perm], w[perm])
        np.testing.assert_allclose(r.coef, base.coef, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(r.fitted, base.fitted[perm], rtol=1e-9)

    check()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y=[0, 1, 2]), "y must be 0/1"),
        (dict(X=[[1.0], [np.nan], [2.0]]), "X must be finite"),
        (dict(y=[0, 1]), "mismatched lengths"),
        (dict(weights=[1, -1, 1]), "weights must be non-negative"),
        (dict(y=[1, 1, 1]), "both 0 and 1"),
        (dict(X=[[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), "rank deficient"),
        (dict(on_separation="ignore"), "on_separation"),
    ],
)
def test_logistic_bad_input(kwargs, match):
    args = dict(X=[[0.1], [0.5], [0.3]], y=[0, 1, 1])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        logistic_regression(**args)


def test_propensity_single_arm_and_missing_column():
    data, _ = _r_case()
    with pytest.raises(ValueError, match="treated must contain both arms"):
        propensity_score(data.assign(treated=1), "treated", COVS)
    with pytest.raises(ValueError, match=r"\['albumin'\] are not columns"):
        propensity_score(data, "treated", ["size", "albumin"])
    with pytest.raises(ValueError, match="treated column 'arm' is not in frame"):
        propensity_score(data, "arm", COVS)


def test_logistic_coef_invariant_to_weight_scaling():
    from hypothesis import given, settings, strategies as st

    X, y, w = _data(n=150, seed=4)
    base = logistic_regression(X, y, w)

    @settings(max_examples=25, deadline=None)
    @given(st.floats(1e-3, 1e3))
    def check(c):
        r = logistic_regression(X, y, c * w)
        np.testing.assert_allclose(r.coef, base.coef, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(r.se, base.se / np.sqrt(c), rtol=1e-9)

    check()


def _sparse_design(seed):
    """Sparse binary designs with few events: Newton's information is numerically singular
    and its step can point downhill at every step size (found by random search)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 170))
    p = int(rng.integers(5, 30))
    X = np.column_stack([np.ones(n), (rng.random((n, p)) < rng.uniform(0.02, 0.5, p)).astype(float)])
    y = (rng.random(n) < 0.16).astype(float)
    return X, y, np.ones(n)


@pytest.mark.parametrize("seed", [21, 176, 211, *range(300)])
def test_kernel_never_reports_convergence_below_its_start(seed):
    """Regression: after failed step-halving the kernel once accepted the bad step and
    reported ``converged`` at a log-likelihood of -2.5e36 (start: -49.9). Whatever its
    convergence flag, the returned fit must be at least as good as the start (beta = 0)."""
    from tacebench.estimators.kernels import fit_logistic, logistic_loglik

    X, y, w = _sparse_design(seed)
    beta = fit_logistic(X, y, w).coef
    ll = logistic_loglik(X @ beta, y, w)
    assert np.isfinite(ll)
    assert ll >= logistic_loglik(np.zeros(len(y)), y, w) - 1e-9
