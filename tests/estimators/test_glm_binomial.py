"""Propensity models as R fits them (estimators.glm_binomial, estimators.glm_qr).

R reference: tests/reference/ps_separated (no control patient with g = 1):

    glm(treated ~ g + x + b, family = binomial)             # glm.control defaults
    glm(treated ~ x, binomial, data = complete)              # complete separation
    glm(treated ~ g + x + b + nb, binomial)                  # nb = 1 - b: NA
    glm(treated ~ g + x + b, binomial, method = "brglmFit", type = "AS_mean")   # Firth
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.glm_binomial import (PS_MODELS, fit_firth_logistic,
                                               fit_glm_binomial, logit_linkinv)
from tacebench.estimators.glm_qr import aliased_least_squares, dqrdc2
from tacebench.estimators.status import Estimability
from tests.reference.cases import load_case


@pytest.fixture(scope="module")
def case():
    data, exp = load_case("ps_separated")
    X = np.column_stack([np.ones(len(data)), data[["g", "x", "b"]].to_numpy(float)])
    return X, data.treated.to_numpy(float), exp


def _warnings(fit):
    return [f"glm.fit: {w}" for w in fit.warnings]


def test_quasi_separated_fit_is_r_glm_iteration_for_iteration(case):
    X, z, exp = case
    fit = fit_glm_binomial(X, z, np.ones(len(z)))
    assert fit.n_iter == exp["iter"] and fit.converged == exp["converged"]
    assert _warnings(fit) == exp["warnings"]
    # the diverging coefficient too: it is where R's IRLS stopped, not an MLE
    np.testing.assert_allclose(fit.coef, exp["coef"], rtol=1e-9)
    np.testing.assert_allclose(fit.fitted, exp["ps"], rtol=1e-12)
    assert fit.status is Estimability.SEPARATED and fit.separated


def test_complete_separation_warns_as_r(case):
    _, _, exp = case
    x = np.asarray(exp["complete_x"])
    r = exp["complete"]
    X = np.column_stack([np.ones(len(x)), x])
    fit = fit_glm_binomial(X, (x > 0.2).astype(float), np.ones(len(x)))
    assert fit.n_iter == r["iter"] == 25 and not fit.converged
    assert _warnings(fit) == r["warnings"]
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=1e-9)
    np.testing.assert_allclose(fit.fitted, r["fitted"], rtol=1e-9, atol=1e-15)


def test_aliased_column_gets_nan_as_r_gives_na(case):
    X, z, exp = case
    Xa = np.column_stack([X, 1.0 - X[:, 3]])
    fit = fit_glm_binomial(Xa, z, np.ones(len(z)))
    r = exp["aliased"]
    assert fit.aliased.tolist() == [False] * 4 + [True] and np.isnan(fit.coef[4])
    np.testing.assert_allclose(fit.coef[:4], r["coef"][:4], rtol=1e-9)
    np.testing.assert_allclose(fit.fitted, r["fitted"], rtol=1e-12)


def test_firth_matches_brglm2_and_the_modified_score_by_hand(case):
    X, z, exp = case
    fit = fit_firth_logistic(X, z, np.ones(len(z)))
    assert fit.converged and fit.status is Estimability.OK and fit.separated
    np.testing.assert_allclose(fit.coef, exp["firth_brglm2"], rtol=1e-8)
    np.testing.assert_allclose(fit.coef, exp["firth_by_hand"], rtol=1e-8)
    np.testing.assert_allclose(fit.fitted, exp["firth_ps"], rtol=1e-8)


def test_ps_models_table_names_the_two_kernels():
    assert PS_MODELS["glm"].fit is fit_glm_binomial
    assert PS_MODELS["firth"].fit is fit_firth_logistic
    assert PS_MODELS["firth"].finite_under_separation
    assert not PS_MODELS["glm"].finite_under_separation


def test_linkinv_bounds_as_r():
    eps = np.finfo(float).eps
    mu = logit_linkinv(np.array([-800.0, -31.0, 0.0, 31.0, 800.0]))
    assert mu[0] == mu[1] == eps / (1 + eps) and mu[2] == 0.5
    assert mu[3] == mu[4] == (1 / eps) / (1 + 1 / eps)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(0, 5))
def test_pivoted_qr_drops_exactly_the_dependent_columns(seed, p, j):
    """A column equal to a combination of earlier columns is moved last and not used;
    the other coefficients are the least-squares solution without it."""
    rng = np.random.default_rng(seed)
    n = 30
    X = rng.normal(size=(n, p))
    y = rng.normal(size=n)
    j = min(j, p)
    dep = X[:, :j] @ rng.normal(size=j) if j else np.zeros(n)
    Xd = np.column_stack([X[:, :j], dep, X[:, j:]])
    coef, pivot, rank = aliased_least_squares(Xd, y, 1e-7)
    assert rank == p and pivot[-1] == j and coef[-1] == 0.0
    full = np.empty(p + 1)
    full[pivot] = coef
    ref = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(np.delete(full, j), ref, rtol=1e-8, atol=1e-10)
    # the column-by-column dqrdc2 and the LAPACK path agree on a full-rank problem
    qr, qraux, piv, k = dqrdc2(X, 1e-7)
    assert k == p and (piv == np.arange(p)).all()
    np.testing.assert_allclose(np.abs(np.diagonal(qr)),
                               np.abs(np.diagonal(np.linalg.qr(X, mode="r"))), rtol=1e-10)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_glm_fit_without_separation_is_the_mle(seed):
    """Off separation, R's glm stops within its deviance tolerance of the MLE: the score
    is ~0 and the status is OK."""
    rng = np.random.default_rng(seed)
    n = 80
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    y = (rng.random(n) < 0.4).astype(float)
    fit = fit_glm_binomial(X, y, np.ones(n))
    if fit.separated:
        return
    assert fit.converged and fit.status is Estimability.OK and fit.warnings == ()
    score = X.T @ (y - fit.fitted)
    info = (X.T * fit.fitted * (1 - fit.fitted)) @ X
    assert float(score @ np.linalg.solve(info, score)) < 1e-6
