"""Logistic regression (IRLS) and the propensity-score model."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from estimators.propensity import SeparationError, logistic_regression, propensity_score


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
