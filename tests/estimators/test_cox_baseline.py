"""fit_cox_breslow against fit_cox and the Breslow risk-set sums computed from the fit with
a sort of their own (the formulas the survival ATE working models used): every number
equal to the last bit, monotone and tied data included."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.survival.cox import fit_cox
from tacebench.estimators.survival.cox_baseline import fit_cox_breslow, fit_cox_breslow_working


def _separate_sums(time, event, X, coef):
    center = X.mean(axis=0)
    Xc = X - center
    with np.errstate(all="ignore"):
        r = np.exp(Xc @ coef)
        order = np.argsort(time, kind="stable")
        ts = time[order]
        times, d = np.unique(ts[event[order] == 1], return_counts=True)
        first = np.searchsorted(ts, times, side="left")
        s0 = np.cumsum(r[order][::-1])[::-1][first]
        s1 = np.cumsum((r[:, None] * Xc)[order[::-1]], axis=0)[::-1][first]
    return center, r, times, d.astype(np.float64), s0, s1


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(3, 80), st.integers(1, 5), st.booleans(),
       st.booleans())
def test_fit_and_sums_equal_separate_computation(seed, n, p, tied, one_arm_events):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, 0] = rng.integers(0, 2, n)
    time = rng.exponential(1.0, n)
    if tied:
        time = np.ceil(time * 3) / 3
    event = (rng.random(n) < 0.7).astype(float)
    if one_arm_events:  # monotone likelihood: no events in one arm
        event[X[:, 0] == 0] = 0.0
    event[0] = 1.0
    want = fit_cox(time, event, X, np.ones(n), ties="breslow")
    got, sums = fit_cox_breslow(time, event, X)
    for name in ("coef", "se", "robust_se", "var", "information", "score_residuals", "ci",
                 "loglik", "loglik_null", "infinite"):
        assert _same(getattr(got, name), getattr(want, name)), name
    assert got.status is want.status and got.message == want.message
    center, r, times, d, s0, s1 = _separate_sums(time, event, X, want.coef)
    for a, b in ((sums.center, center), (sums.r, r), (sums.times, times),
                 (sums.deaths, d), (sums.s0, s0), (sums.s1, s1)):
        assert _same(a, b)
    assert sums.s1.flags.c_contiguous


def test_no_rows():
    fit, sums = fit_cox_breslow(np.empty(0), np.empty(0), np.empty((0, 2)))
    assert fit.n_events == 0 and sums.times.size == 0 and sums.s1.shape == (0, 2)


def _old_if_beta(fit):
    # fit_breslow_cox's IF of the coefficients from fit_cox_breslow's full result
    with np.errstate(all="ignore"):
        try:
            return fit.score_residuals @ np.linalg.inv(fit.information)
        except np.linalg.LinAlgError:
            return np.full(fit.score_residuals.shape, np.nan)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 80), st.integers(1, 5),
       st.sampled_from(["plain", "tied", "monotone", "singular", "collinear", "one_event",
                        "no_events"]))
def test_working_fit_equals_the_full_fit(seed, n, p, kind):
    """fit_cox_breslow_working: the coefficients, status, IF of the coefficients and sums
    of fit_cox_breslow, bit for bit, monotone, singular and event-free data included."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, 0] = rng.integers(0, 2, n)
    time = rng.exponential(1.0, n)
    event = (rng.random(n) < 0.7).astype(float)
    event[0] = 1.0
    if kind == "tied":
        time = np.ceil(time * 3) / 3
    elif kind == "monotone":
        event[X[:, 0] == 0] = 0.0
    elif kind == "singular":
        X[:, -1] = 1.5
    elif kind == "collinear" and p > 1:
        X[:, 1] = 2 * X[:, 0]
    elif kind == "one_event":
        event[:] = 0.0
        event[0] = 1.0
    elif kind == "no_events":
        event[:] = 0.0
    want, want_sums = fit_cox_breslow(time, event, X)
    got, sums = fit_cox_breslow_working(time, event, X)
    assert _same(got.coef, want.coef) and got.status is want.status
    assert _same(got.if_beta, _old_if_beta(want))
    for name in ("center", "r", "times", "deaths", "s0", "s1"):
        assert _same(getattr(sums, name), getattr(want_sums, name)), name
