"""The shortcuts taken at the public edges of the IPTW replicate give what the plain
definitions give, number for number: the logistic Newton loop that bounds ``max |beta|``
instead of computing it on large steps (against the same loop with an infinite bound,
which computes it after every step), the one-coefficient monotone-likelihood rule on Python floats (against the
array rule), the one-byte 0/1 check, the truncation by maximum and minimum (against
``np.clip``) and the cached normal quantile."""
from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import special
from scipy.special import ndtri

from tacebench.estimators import cox_ph, iptw_weights, kaplan_meier, logistic_fit
from tacebench.estimators.kernels import fit_logistic
from tacebench.estimators.survival.cox_estimability import diverges_scalar, diverging
from tacebench.estimators.weights import clip_weights

SPECIAL = [0.0, -0.0, 1e-320, 1e-4, 1e-3, 0.5, 1.0, 25.0, 1e4, 1e300, np.inf, np.nan]


def without_bound(fit, *args, **kwargs):
    """``fit`` with the Newton loop's bound on ``max |beta|`` infinite: the loop then
    computes ``1 + max |beta|`` after every step (the loop before the bound)."""
    with mock.patch.object(logistic_fit, "_BOUND_SLACK", math.inf):
        return fit(*args, **kwargs)


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
        ref = without_bound(fit_logistic, X, y, w, tol=tol)
    np.testing.assert_array_equal(fit.coef, ref.coef)
    np.testing.assert_array_equal(fit.fitted, ref.fitted)
    assert (fit.newton_converged, fit.n_iter) == (ref.newton_converged, ref.n_iter)
    assert fit.loglik == ref.loglik or (math.isnan(fit.loglik) and math.isnan(ref.loglik))


@given(beta=st.sampled_from(SPECIAL + [-v for v in SPECIAL]) | st.floats(-60, 60),
       step=st.sampled_from(SPECIAL) | st.floats(0, 1),
       se=st.sampled_from(SPECIAL) | st.floats(0, 1e5),
       sd=st.sampled_from(SPECIAL) | st.floats(0, 10))
def test_one_coefficient_rule_is_the_array_rule(beta, step, se, sd):
    """Thresholds, zeros, subnormals, infinities and NaN in every argument."""
    with np.errstate(all="ignore"):
        want = diverging(np.array([beta]), np.array([step]), np.array([se]), np.array([sd]))
    assert diverges_scalar(beta, step, se, sd) == bool(want[0])


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
    got, want = clip_weights(w, np.float64(lo), np.float64(hi)), np.clip(w, lo, hi)
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
def test_cached_quantile_gives_the_intervals(level):
    """Cached or not (a 0-d array is not hashable), a Cox fit's interval is the Wald
    interval with the normal quantile of its level, the same doubles on a second fit."""
    rng = np.random.default_rng(1)
    t, e, x = rng.exponential(size=80), (rng.random(80) < 0.7).astype(int), rng.integers(0, 2, 80)
    z = float(ndtri(0.5 + level / 2.0))
    for _ in range(2):
        fit = cox_ph(t, e, x, conf_level=level)
        np.testing.assert_array_equal(
            fit.ci, np.exp(fit.coef[:, None] + np.multiply.outer(fit.se, (-z, z))))
