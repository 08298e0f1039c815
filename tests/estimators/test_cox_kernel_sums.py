"""The Cox kernel's paired cumulative sums (two rows summed as the parts of one complex
number) against numpy's cumulative sum: the same additions in the same order, so equal to
the last bit, for any number of rows, with infinities and NaN."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tacebench.estimators.survival._cox_kernel import (RiskSets, paired, paired_prefix_sums,
                                                       risk_sums, term_sums)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 7), st.integers(1, 40)),
                  elements=st.floats(allow_nan=True, allow_infinity=True, width=64)),
       st.data())
def test_paired_prefix_sums_are_cumsum_to_the_bit(A, data):
    k, n = A.shape
    cols = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=12)), dtype=np.intp)
    with np.errstate(all="ignore"):
        want = np.add.accumulate(A, axis=1).take(cols, axis=1)
        got = paired_prefix_sums(paired(A), cols, k)
    assert got.shape == want.shape
    # bitwise: the same doubles, NaN payloads and signed zeros included
    assert np.array_equal(got.view(np.int64), want.view(np.int64))


def test_paired_layout():
    A = np.arange(15.0).reshape(3, 5)
    P = paired(A)
    assert P.shape == (2, 5, 2)
    assert np.array_equal(P[0, :, 0], A[0]) and np.array_equal(P[0, :, 1], A[1])
    assert np.array_equal(P[1, :, 0], A[2]) and not P[1, :, 1].any()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 60), st.integers(1, 6),
       st.sampled_from(["efron", "breslow"]), st.booleans())
def test_risk_sums_equal_term_sums(seed, n, p, ties, with_entry):
    rng = np.random.default_rng(seed)
    time = np.ceil(rng.exponential(1.0, n) * 4) / 4 + 0.25
    event = (rng.random(n) < 0.7).astype(float)
    event[0] = 1.0
    X = rng.normal(size=(n, p))
    w = rng.uniform(0.5, 2.0, n)
    entry = time * rng.uniform(0, 0.9, n) * (rng.random(n) < 0.5) if with_entry else None
    rs = RiskSets(time, event, X, w, ties, entry)
    wr = w[rs.order] * np.exp(rs.XT.T @ rng.normal(size=p) * 0.3)
    want = term_sums(rs, rs.X1T * wr)
    assert np.array_equal(risk_sums(rs, wr), want)
