"""CBPS refuses linearly dependent covariates as entropy balancing does (they leave the
propensity coefficients unidentified; the solver stopped as if the arms were separated,
or returned arbitrary coefficients with status OK), and empty input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators import balancing_weights, cbps_weights, entropy_balancing
from tacebench.estimators.balancing_weights import balancing_weights_checked
from tacebench.estimators.weights_cbps import cbps_weights_kernel


def _report_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    return x, (rng.random(60) < .5).astype(int)


def test_collinear_covariates_of_the_report():
    x, z = _report_data()
    with pytest.raises(ValueError, match=r"the propensity model's covariates \['x0', 'x1'\] "
                                         r"are linearly dependent \(rank 1 of 2\); drop "
                                         r"redundant covariates"):
        cbps_weights(np.c_[x, x], z)   # was: "not solved (separated arms?)"


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["ATE", "ATT", "ATC"]),
       st.floats(-3, 3).filter(lambda a: abs(a) > 0.1), st.floats(-2, 2))
def test_dependent_columns_are_refused_as_entropy_balancing_refuses_them(seed, estimand,
                                                                         a, b):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, 2))
    z = np.r_[np.ones(20, int), np.zeros(30, int)]
    Xd = np.c_[X, a * X[:, 0] + b]   # an affine function of a column: dependent with 1
    with pytest.raises(ValueError) as cbps:
        cbps_weights(Xd, z, estimand=estimand)
    with pytest.raises(ValueError) as ebal:
        entropy_balancing(Xd, z)
    assert str(cbps.value).split(" are linearly dependent")[1] == \
        str(ebal.value).split(" are linearly dependent")[1]
    # and the benchmark's path (kernel, then the public checks) raises the same error
    solved = cbps_weights_kernel(Xd, z, estimand, ("x0", "x1", "x2"))
    with pytest.raises(ValueError) as checked:
        balancing_weights_checked(solved, Xd, z)
    assert str(checked.value) == str(cbps.value)


def test_empty_input_names_the_arms():
    for call in (lambda: cbps_weights(np.empty((0, 2)), []),
                 lambda: balancing_weights(np.empty((0, 2)), [], method="cbps")):
        with pytest.raises(ValueError, match="treated must contain both arms; got no rows"):
            call()
