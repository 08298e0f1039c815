"""Optimal matching refuses by name what failed deep inside: empty input and a pooled
covariance without degrees of freedom (one unit per arm); dependent covariates get
MatchIt's pseudo-inverse (see test_matching_mahalanobis)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tacebench.estimators import match_optimal


@pytest.mark.parametrize("call", [
    lambda: match_optimal([], []),
    lambda: match_optimal(np.empty((0, 2)), [], distance="mahalanobis"),
])
def test_empty_input_names_the_arms(call):
    with pytest.raises(ValueError, match="treated must contain both arms; got no rows"):
        call()


def test_pooled_covariance_needs_three_units():
    X = np.random.default_rng(0).normal(size=(6, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # was: RuntimeWarnings, then "invalid numeric entries"
        with pytest.raises(ValueError, match=r"covariance='pooled'.*n - 2.*got 2"):
            match_optimal(X[:2], [1, 0], distance="mahalanobis", covariance="pooled")
        assert match_optimal(X[:2], [1, 0], distance="mahalanobis",
                             covariance="overall").n_sets == 1
        # one treated unit: MatchIt's pooled covariance is the controls' (it adds nothing)
        z = np.array([1, 0, 0, 0, 0, 0])
        d = X[z == 0] - X[0]
        S0 = np.cov(X[z == 0], rowvar=False)
        nearest = np.einsum("jk,kl,jl->j", d, np.linalg.inv(S0), d).argmin() + 1
        m = match_optimal(X, z, distance="mahalanobis", covariance="pooled")
        assert m.control_index[:, 0].tolist() == [nearest]


@pytest.mark.parametrize("covariance", ["overall", "pooled"])
@pytest.mark.parametrize("extra", [lambda X: X[:, 0], lambda X: X[:, 0] + X[:, 1]])
def test_dependent_covariates_pair_as_without_the_redundant_one(covariance, extra):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 2))
    z = np.r_[np.ones(10, int), np.zeros(20, int)]
    Xd = np.c_[X, extra(X)]   # a copied column was a LinAlgError
    a = match_optimal(X, z, distance="mahalanobis", covariance=covariance)
    b = match_optimal(Xd, z, distance="mahalanobis", covariance=covariance)
    assert a.rows.tolist() == b.rows.tolist()
