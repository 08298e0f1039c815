"""The shortcuts taken at the public edges of the IPTW replicate give what the plain
definitions give, number for number: the logistic Newton loop that bounds ``max |beta|``
instead of computing it on large steps (against the loop that computes it every time,
kept here), the one-coefficient monotone-likelihood rule on Python floats (against the
array rule), the one-byte 0/1 check, the truncation by maximum and minimum (against
``np.clip``) and the cached normal quantile."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import special
from scipy.special import ndtri

from tacebench.estimators import iptw_weights, kaplan_meier
from tacebench.estimators.kernels import fit_logistic
from tacebench.estimators.logistic_fit import _CHORD
from tacebench.estimators.survival._ci import z_value
from tacebench.estimators.survival.cox_estimability import _diverges, diverging
from tacebench.estimators.weights import _clip

SPECIAL = [0.0, -0.0, 1e-320, 1e-4, 1e-3, 0.5, 1.0, 25.0, 1e4, 1e300, np.inf, np.nan]


def _loglik(eta, y, w):
    soft = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
    return float(w @ (y * eta - soft))


def newton_computing_scale(X, y, w, tol, max_iter=100):
    """The logistic Newton loop with ``1 + max |beta|`` computed after every step (the
    loop before the bound; Cholesky, LU and least squares as there)."""
    from scipy.linalg import lapack
    XT = np.ascontiguousarray(X.T)
    beta = np.zeros(X.shape[1])
    eta = X @ beta
    ll = _loglik(eta, y, w)
    wt = None if np.all(w == 1.0) else w
    converged, factor, it = False, None, 0
    for it in range(1, max_iter + 1):
        mu = special.expit(eta)
        resid = y - mu
        grad = XT @ (resid if wt is None else wt * resid)
        if factor is not None:
            step, failed = lapack.dpotrs(factor, grad)
        else:
            v = mu * (1.0 - mu) if wt is None else wt * mu * (1.0 - mu)
            info = (XT * v) @ X
            chol, step, failed = lapack.dposv(info, grad)
        if failed:
            try:
                step = np.linalg.solve(info, grad)
            except np.linalg.LinAlgError:
                try:
                    step = np.linalg.lstsq(info, grad, rcond=None)[0]
                except (np.linalg.LinAlgError, ValueError):
                    step = np.full(X.shape[1], np.nan)
        t = 1.0
        for _ in range(30):
            new_beta = beta + step if t == 1.0 else beta + t * step
            new_eta = X @ new_beta
            new_ll = _loglik(new_eta, y, w)
            if new_ll >= ll - 1e-12 * (1.0 + abs(ll)) and math.isfinite(new_ll):
                break
            t *= 0.5
        else:
            converged = bool(np.max(np.abs(step)) <= tol * (1.0 + np.max(np.abs(beta))))
            break
        beta, eta, ll = new_beta, new_eta, new_ll
        size, scale = t * np.max(np.abs(step)), 1.0 + np.max(np.abs(beta))
        if size <= tol * scale:
            converged = True
            break
        factor = chol if (t == 1.0 and not failed and size <= _CHORD * scale) else None
    return beta, special.expit(eta), converged, it, ll


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(8, 120), k=st.integers(1, 6),
       scale=st.floats(0.1, 6.0), tol=st.sampled_from([1e-12, 1e-9, 1e-7, 1e-5, 1e-3]),
       weighted=st.booleans())
def test_newton_bound_takes_the_same_steps(seed, n, k, scale, tol, weighted):
    """Random designs (strong effects: some fits separate or need step halving), unit or
    random weights, tolerances above and below the chord threshold: the fit's
    coefficients, fitted values, iteration count, convergence and log-likelihood equal
    the loop's that computes the scale after every step, bit for bit."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, k))])
    y = (rng.random(n) < special.expit(X @ (scale * rng.normal(size=k + 1)))).astype(float)
    w = rng.uniform(0.2, 3.0, n) if weighted else np.ones(n)
    with np.errstate(all="ignore"):
        fit = fit_logistic(X, y, w, tol=tol)
        beta, mu, converged, it, ll = newton_computing_scale(X, y, w, tol)
    np.testing.assert_array_equal(fit.coef, beta)
    np.testing.assert_array_equal(fit.fitted, mu)
    assert (fit.newton_converged, fit.n_iter) == (converged, it)
    assert fit.loglik == ll or (math.isnan(fit.loglik) and math.isnan(ll))


@given(beta=st.sampled_from(SPECIAL + [-v for v in SPECIAL]) | st.floats(-60, 60),
       step=st.sampled_from(SPECIAL) | st.floats(0, 1),
       se=st.sampled_from(SPECIAL) | st.floats(0, 1e5),
       sd=st.sampled_from(SPECIAL) | st.floats(0, 10))
def test_one_coefficient_rule_is_the_array_rule(beta, step, se, sd):
    """Thresholds, zeros, subnormals, infinities and NaN in every argument."""
    with np.errstate(all="ignore"):
        want = diverging(np.array([beta]), np.array([step]), np.array([se]), np.array([sd]))
    assert _diverges(beta, step, se, sd) == bool(want[0])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.bool_, np.int64])
@given(values=st.lists(st.integers(-128, 127), min_size=1, max_size=12))
def test_binary_check_of_integers_is_the_definition(dtype, values):
    """One-byte and wider integer (and bool) events: accepted exactly when every entry is 0
    or 1 (as stored: int8 -1 is refused, uint8 255 is refused), refused with the message
    naming the first other entry."""
    x = np.array(values).astype(dtype)
    valid = bool(np.all((x == 0) | (x == 1)))
    t = np.arange(1.0, x.size + 1.0)
    if valid:
        km = kaplan_meier(t, x)
        assert km.n_event.sum() == x.astype(np.int64).sum()
    else:
        i = int(np.flatnonzero((x != 0) & (x != 1))[0])
        with pytest.raises(ValueError, match=rf"event must be 0/1; got \[{i}\]="):
            kaplan_meier(t, x)


@given(w=st.lists(st.sampled_from([0.0, 1e-320, 1.0, 2.5, np.inf, np.nan]) | st.floats(0, 50),
                  min_size=1, max_size=10),
       lo=st.sampled_from([np.nan, 0.0, 1.0]) | st.floats(0, 10),
       width=st.sampled_from([np.nan, 0.0]) | st.floats(0, 40))
def test_clip_is_numpys(w, lo, width):
    """Weights as the kernel forms them (positive quotients, 0 by underflow, inf or NaN;
    never -0.0), NaN bounds included, ``lo <= hi`` (percentiles in order)."""
    w = np.array(w)
    hi = lo + width
    got, want = _clip(w, np.float64(lo), np.float64(hi)), np.clip(w, lo, hi)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_truncated_weights_unchanged():
    rng = np.random.default_rng(3)
    ps = rng.uniform(0.02, 0.98, 300)
    z = (rng.random(300) < ps).astype(int)
    for est in ("ATE", "ATT", "ATC"):
        w = iptw_weights(ps, z, estimand=est, truncate=(1, 99))
        raw = iptw_weights(ps, z, estimand=est)
        sel = np.ones(300, bool) if est == "ATE" else z != (est == "ATT")
        lo, hi = np.percentile(raw[sel], [1, 99])
        np.testing.assert_array_equal(w, np.where(sel, np.clip(raw, lo, hi), raw))


@pytest.mark.parametrize("level", [0.95, 0.9, np.float64(0.99), 0.5, np.array(0.8)])
def test_z_value_is_the_quantile(level):
    """Cached or not (a 0-d array is not hashable), the same double twice."""
    want = float(ndtri(0.5 + level / 2.0))
    assert z_value(level) == want
    assert z_value(level) == want
