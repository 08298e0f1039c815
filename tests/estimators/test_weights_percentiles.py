"""The truncation percentiles of ``iptw_weights`` equal numpy's (and R's type 7) exactly.

``estimators.weights.weight_percentiles`` replaces ``np.percentile`` inside the Monte Carlo hot
path with one partition and numpy's own interpolation arithmetic; this pins it to numpy
bit for bit, so a numpy change in that arithmetic shows up here.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from tacebench.estimators.kernels import weight_percentiles


@settings(max_examples=300, deadline=None)
@given(n=st.integers(1, 500), seed=st.integers(0, 2**31 - 1),
       lo=st.floats(0, 50), hi=st.floats(50, 100), digits=st.sampled_from([None, 0, 1]))
def test_type7_percentiles_equal_numpy_bit_for_bit(n, seed, lo, hi, digits):
    w = np.random.default_rng(seed).lognormal(size=n)
    if digits is not None:
        w = np.round(w, digits)  # ties
    q = (lo, hi)
    assert np.array_equal(weight_percentiles(w, q, 7), np.percentile(w, q))


def test_type3_is_numpys_closest_observation():
    w = np.random.default_rng(1).lognormal(size=101)
    assert np.array_equal(weight_percentiles(w, (1, 99), 3),
                          np.percentile(w, (1, 99), method="closest_observation"))
