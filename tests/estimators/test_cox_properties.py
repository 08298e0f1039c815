"""Hypothesis properties of the Cox fit: row order, label swap, weight scale."""
from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from estimators.survival import cox_ph

cohorts = st.integers(12, 50).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 10), min_size=n, max_size=n),          # tied times
    st.lists(st.integers(0, 1), min_size=n, max_size=n),           # event
    st.lists(st.integers(0, 1), min_size=n, max_size=n),           # treatment
    st.lists(st.floats(-2, 2), min_size=n, max_size=n),            # covariate
    st.lists(st.floats(0.2, 5), min_size=n, max_size=n),           # weights
    st.sampled_from(["efron", "breslow"])))


def fit_or_skip(t, e, X, w, ties, **kw):
    try:
        fit = cox_ph(t, e, X, w, ties=ties, robust=True, **kw)
    except ValueError:  # constant/collinear column or no events: not this property's business
        assume(False)
    assume(fit.converged and not fit.monotone)
    return fit


def arrays(data):
    t, e, z, x, w, ties = data
    t, e, z, x, w = (np.asarray(v, dtype=float) for v in (t, e, z, x, w))
    assume(e.sum() >= 3 and 0 < z.sum() < len(z))
    return t, e, np.column_stack([z, x]), w, ties


@settings(max_examples=60, deadline=None)
@given(cohorts, st.randoms(use_true_random=False))
def test_row_permutation_invariance(data, rnd):
    t, e, X, w, ties = arrays(data)
    perm = np.array(rnd.sample(range(len(t)), len(t)))
    a = fit_or_skip(t, e, X, w, ties)
    b = fit_or_skip(t[perm], e[perm], X[perm], w[perm], ties)
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-7)
    np.testing.assert_allclose(b.robust_se, a.robust_se, rtol=1e-7)
    np.testing.assert_allclose(b.score_residuals, a.score_residuals[perm], atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(cohorts)
def test_swapping_treatment_labels_inverts_hr_and_keeps_se(data):
    t, e, X, w, ties = arrays(data)
    a = fit_or_skip(t, e, X, w, ties)
    swapped = X.copy()
    swapped[:, 0] = 1 - swapped[:, 0]
    b = fit_or_skip(t, e, swapped, w, ties)
    np.testing.assert_allclose(b.hr[0], 1 / a.hr[0], rtol=1e-7)
    np.testing.assert_allclose(b.coef[1], a.coef[1], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-7)
    np.testing.assert_allclose(b.robust_se, a.robust_se, rtol=1e-7)


@settings(max_examples=60, deadline=None)
@given(cohorts, st.floats(0.01, 100))
def test_scaling_weights_leaves_hr_and_robust_se_unchanged(data, scale):
    t, e, X, w, ties = arrays(data)
    a = fit_or_skip(t, e, X, w, ties)
    b = fit_or_skip(t, e, X, scale * w, ties)
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.robust_se, a.robust_se, rtol=1e-7)
    # the model SE treats weights as counts: it scales with 1/sqrt(scale)
    np.testing.assert_allclose(b.se * np.sqrt(scale), a.se, rtol=1e-7)
