"""varying_columns, the range-certified test of which columns a Cox model can estimate,
against the standard deviation it replaces: the same verdict on every column, constant
columns whose mean rounds away from their value and tiny ranges included."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tacebench.replications.analysis.models import varying_columns

_VALUES = st.one_of(st.floats(-1e6, 1e6, allow_nan=False, width=64),
                    st.sampled_from([0.0, 1.0, 0.1, 1e-300, 2e-300, -5e-324, 1e300]))


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(0, 30), st.integers(1, 5)),
                  elements=_VALUES),
       st.lists(st.sampled_from([0.1, 0.7, 1e-300, 3.0]), max_size=3))
def test_same_verdict_as_standard_deviation(X, constants):
    X = X.copy()
    for j, c in enumerate(constants[:X.shape[1]]):
        X[:, j] = c     # a constant column (0.1 * n does not sum to n * 0.1 exactly)
    with np.errstate(all="ignore"):
        want = X.std(axis=0) > 0 if X.shape[0] else np.zeros(X.shape[1], dtype=bool)
        got = varying_columns(X)
    assert got.dtype == bool and np.array_equal(got, want)


def test_constant_column_with_rounded_mean_is_judged_by_its_deviation():
    X = np.column_stack([np.full(7, 0.1), np.arange(7.0)])
    assert np.array_equal(varying_columns(X), X.std(axis=0) > 0)
