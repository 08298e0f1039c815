"""Mahalanobis matching on input that used to fail deep inside: arms too small for the
pooled covariance, linearly dependent covariates (a singular covariance, replaced by its
pseudo-inverse as MatchIt's ``transform_covariates`` does), malformed covariate calipers
and empty input."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators import match_mahalanobis
from tacebench.estimators.matching_mahalanobis import mahalanobis_coordinates

#: MatchIt's generalized_inverse(sigma, tol = 1e-8) (R/utils.R, a port of MASS::ginv)
MATCHIT_GINV_TOL = 1e-8


@pytest.mark.parametrize("z", [[1, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1]])
def test_pooled_covariance_of_an_arm_of_one_is_the_other_arms(z):
    """MatchIt's pooled_cov centres each unit on its arm's mean: a lone unit adds nothing,
    and ((n1 - 1) S1 + (n0 - 1) S0) / (n - 2) is the other arm's covariance (as
    mahalanobis_dist() computes with one treated unit)."""
    z = np.asarray(z)
    X = np.random.default_rng(0).normal(size=(6, 2))
    S = np.cov(X[z == (0 if z.sum() == 1 else 1)], rowvar=False)
    diff = X[z == 1][:, None, :] - X[z == 0][None, :, :]
    want = np.sqrt(np.einsum("ijk,kl,ijl->ij", diff, np.linalg.inv(S), diff))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(_distances(X, z, "pooled"), want, rtol=1e-12)
        m = match_mahalanobis(X, z, covariance="pooled")
    # one set: the lone treated unit's nearest control, or the lone control taken by
    # the first treated unit in data order
    want_set = ((np.flatnonzero(z == 1)[0], np.flatnonzero(z == 0)[want[0].argmin()])
                if z.sum() == 1 else (1, 0))
    assert (m.treated_index.tolist(), m.control_index[:, 0].tolist()) == (
        [want_set[0]], [want_set[1]])


def test_pooled_covariance_needs_three_units():
    X = np.random.default_rng(0).normal(size=(2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # (n - 2 = 0: MatchIt's pooled_cov is NaN)
        with pytest.raises(ValueError, match=r"covariance='pooled' divides the within-arm "
                                             r"sums of squares by n - 2.*got 2.*'overall'"):
            match_mahalanobis(X, [1, 0], covariance="pooled")
        assert match_mahalanobis(X, [1, 0], covariance="overall").n_sets == 1


def _matchit_distances(X, z, covariance):
    """MatchIt's construction written out: covariates over their SDs, their covariance
    (``pooled_cov``: each unit less its arm's mean, ``cov() * (n - 1) / (n - 2)``),
    ``generalized_inverse`` (MASS::ginv: SVD, singular values above 1e-8 of the largest),
    and the quadratic form of each treated-control difference."""
    Xs = X / X.std(axis=0, ddof=1)
    if covariance == "overall":
        S = np.cov(Xs, rowvar=False)
    else:
        C = Xs.copy()
        for a in (0, 1):
            C[z == a] -= C[z == a].mean(axis=0)
        S = np.cov(C, rowvar=False) * (len(z) - 1) / (len(z) - 2)
    U, d, Vt = np.linalg.svd(S)
    keep = d > MATCHIT_GINV_TOL * d[0]
    G = Vt[keep].T @ np.diag(1 / d[keep]) @ U[:, keep].T
    diff = Xs[z == 1][:, None, :] - Xs[z == 0][None, :, :]
    return np.sqrt(np.einsum("ijk,kl,ijl->ij", diff, G, diff))


def _distances(X, z, covariance):
    Y = mahalanobis_coordinates(X, z, covariance)
    return np.linalg.norm(Y[z == 1][:, None, :] - Y[z == 0][None, :, :], axis=2)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["overall", "pooled"]),
       st.sampled_from(["copy", "combination", "affine"]))
def test_dependent_covariates_match_as_without_the_redundant_one(seed, covariance, kind):
    """A covariate that is an exact linear combination of others adds nothing: the
    distances are MatchIt's pseudo-inverse ones and equal those without it, and so do
    the matched sets (was: LinAlgError, or silently huge distances)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    z = np.r_[np.ones(12, int), np.zeros(28, int)]
    extra = {"copy": X[:, 1], "combination": X[:, 0] - 2 * X[:, 2],
             "affine": 3 * X[:, 0] + 1}[kind]
    Xd = np.c_[X, extra]
    D = _distances(Xd, z, covariance)
    np.testing.assert_allclose(D, _matchit_distances(Xd, z, covariance), rtol=1e-8)
    np.testing.assert_allclose(D, _distances(X, z, covariance), rtol=1e-8)
    assert (match_mahalanobis(Xd, z, covariance=covariance).rows.tolist()
            == match_mahalanobis(X, z, covariance=covariance).rows.tolist())


def test_collinear_example_of_the_report():
    X = np.c_[np.arange(6.0), np.arange(6.0)]
    z = [1, 0, 1, 0, 0, 0]
    m = match_mahalanobis(X, z)   # was: LinAlgError: Singular matrix
    assert m.rows.tolist() == match_mahalanobis(X[:, :1], z).rows.tolist()


def test_a_full_rank_covariance_keeps_its_exact_inverse():
    rng = np.random.default_rng(2)
    X, z = rng.normal(size=(50, 3)), np.r_[np.ones(20, np.int8), np.zeros(30, np.int8)]
    S = np.cov(X, rowvar=False, ddof=1)
    U = np.linalg.cholesky(np.linalg.inv(S)).T
    np.testing.assert_array_equal(mahalanobis_coordinates(X, z, "overall"), X @ U.T)


@pytest.mark.parametrize("caliper, match", [
    ([0.2], r"one entry per covariate \(2\), in SDs; got \[0.2\]"),   # was: broadcast
    ("0.2", "one entry per covariate"),
    ([[0.2, 0.2]], "one entry per covariate"),
    (True, "one entry per covariate"),
    ([0.2, -1.0], r"caliper must be positive SDs \(NaN for none\)"),
    ([0.2, np.inf], "caliper must be positive SDs"),
])
def test_covariate_caliper_is_one_number_or_one_per_covariate(caliper, match):
    rng = np.random.default_rng(1)
    X, z = rng.normal(size=(20, 2)), np.r_[np.ones(8), np.zeros(12)]
    with pytest.raises(ValueError, match=match):
        match_mahalanobis(X, z, caliper=caliper)


def test_covariate_caliper_forms_that_stay_valid():
    rng = np.random.default_rng(1)
    X, z = rng.normal(size=(20, 2)), np.r_[np.ones(8), np.zeros(12)]
    wide = match_mahalanobis(X, z, caliper=[5.0, 5.0]).rows.tolist()
    assert match_mahalanobis(X, z, caliper=5.0).rows.tolist() == wide
    assert match_mahalanobis(X, z, caliper=np.nan).rows.tolist() == \
        match_mahalanobis(X, z).rows.tolist()
    assert match_mahalanobis(X[:, :1], z, caliper=[5.0]).n_sets == 8


def test_empty_input_names_the_arms():
    with pytest.raises(ValueError, match="treated must contain both arms; got no rows"):
        match_mahalanobis(np.empty((0, 2)), [])
