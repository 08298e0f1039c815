"""The reading choice's and the verdicts' shortcuts give the doubles of the library calls
they replace: scipy's logsumexp, np.unique's ladder of distinct draws, np.median of the
sorted draws (a study's summary makes thousands of these calls)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st
from scipy import special

from tacebench.replications.log_sum import logsumexp_1d
from tacebench.replications.midrank import sorted_ladder
from tacebench.replications.verdicts import judge

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
#: draws as a study gives them: ties (rounded), infinite ends (a median not reached)
draws = st.lists(st.one_of(finite, st.sampled_from([0.0, -0.0, 1.5, np.inf, -np.inf])),
                 min_size=1, max_size=60)


def _ladder_by_unique(v):
    u, counts = np.unique(v, return_counts=True)
    cum = np.cumsum(counts)
    return u, (cum - counts / 2.0) / v.size, cum / v.size


@settings(max_examples=300, deadline=None)
@given(st.lists(finite, min_size=1, max_size=300), st.integers(0, 3))
def test_logsumexp_is_scipys_double(values, ties):
    a = np.asarray(values)
    a[:ties] = a.max()                  # several largest terms, set apart together
    assert logsumexp_1d(a) == float(special.logsumexp(a))


def test_logsumexp_of_a_kernel_density_and_of_infinite_terms():
    rng = np.random.default_rng(7)
    for h in (1e-4, 0.05, 3.0):
        logk = -0.5 * ((0.3 - rng.normal(size=400)) / h) ** 2 - np.log(h * np.sqrt(2 * np.pi))
        assert logsumexp_1d(logk) == float(special.logsumexp(logk))
    for a in ([-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 2.0]):
        assert logsumexp_1d(np.array(a)) == float(special.logsumexp(np.array(a)))


@settings(max_examples=300, deadline=None)
@given(draws)
def test_ladder_of_sorted_draws_is_np_uniques(values):
    v = np.sort(np.asarray(values))
    for got, want in zip(sorted_ladder(v), _ladder_by_unique(v)):
        np.testing.assert_array_equal(got, want)


@settings(max_examples=300, deadline=None)
@given(draws)
def test_judged_median_is_np_median(values):
    x = np.asarray(values)
    with np.errstate(invalid="ignore", over="ignore"):
        want = float(np.median(x))
    j = judge(x, 0.25)
    assert j.median == want or (np.isnan(j.median) and np.isnan(want))
