"""below_null's certificate: given the kernel's log-likelihood it answers "not below" only
when the direct computation would, and it declines (computing directly) near the
threshold."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.kernels import fit_logistic
from tacebench.estimators.logistic_fit import logistic_loglik
from tacebench.estimators.status import certainly_not_below, below_null


def _data(seed: int, n: int, scale: float, weighted: bool):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), scale * rng.standard_normal((n, 3))])
    y = (rng.random(n) < 0.3).astype(float)
    y[:2] = (0.0, 1.0)
    w = rng.uniform(0.0, 3.0, n) if weighted else np.ones(n)
    return X, y, w


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 400),
       scale=st.sampled_from([1e-3, 1.0, 30.0]), weighted=st.booleans(),
       stop=st.sampled_from([0, 1, 2, 50]),
       beta_scale=st.sampled_from([0.0, 1e-9, 0.1, 3.0]))
def test_certificate_never_changes_the_verdict(seed, n, scale, weighted, stop, beta_scale):
    X, y, w = _data(seed, n, scale, weighted)
    rng = np.random.default_rng(seed + 1)
    # fits stopped early, converged fits and arbitrary coefficients (often below the null)
    fit = fit_logistic(X, y, w, max_iter=stop) if stop else None
    beta = fit.coef if fit is not None else beta_scale * rng.standard_normal(X.shape[1])
    eta = X @ beta
    ll = fit.loglik if fit is not None else logistic_loglik(eta, y, w)
    assert below_null(X, y, w, beta, eta=eta, loglik=ll) is below_null(X, y, w, beta)


def test_certificate_decides_a_converged_fit_and_declines_at_the_threshold():
    X, y, w = _data(3, 423, 1.0, False)
    fit = fit_logistic(X, y, w)
    p = float(np.sum(w * y) / np.sum(w))
    sw = float(np.sum(w))
    assert certainly_not_below(fit.linear_predictor, w, p, sw, fit.loglik)
    ll0 = float(np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))))
    threshold = ll0 - 1e-8 * (1.0 + abs(ll0))
    # a log-likelihood at (or a rounding error above) the threshold is left to the direct
    # computation, as is a non-finite one
    for ll in (threshold, threshold * (1 - 1e-13), np.nextafter(threshold, 0.0), np.nan):
        assert not certainly_not_below(fit.linear_predictor, w, p, sw, ll)
    # and the intercept-only fit's own log-likelihood (the null) is certified, the
    # threshold being 1e-8 (1 + |ll0|) below it
    assert certainly_not_below(np.full(len(y), np.log(p / (1 - p))), w, p, sw, ll0)
