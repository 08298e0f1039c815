"""The (weighted) median of a Table 1 covariate against R (tests/reference/weighted_median)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tacebench.estimators.quantiles import weighted_median
from tests.reference.cases import load_case


def test_matches_r():
    """``median(x)``; ``median(rep(x, w))`` for frequency weights; ``svyquantile(~x,
    svydesign(ids = ~1, weights = ~w), 0.5, qrule = "math")`` for other weights."""
    data, expected = load_case("weighted_median")
    for case, s in data.groupby("case", sort=False):
        w = None if s.kind.iloc[0] == "none" else s.w.to_numpy()
        assert weighted_median(s.x.to_numpy(), w) == pytest.approx(expected[case]["median"], rel=1e-13), case


values = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=40)


@given(values, st.floats(0.01, 100))
def test_equal_weights_give_the_median(x, w):
    assert weighted_median(x, np.full(len(x), w)) == pytest.approx(float(np.median(x)), abs=1e-9)


@given(st.lists(st.tuples(st.floats(-1e3, 1e3, allow_nan=False), st.integers(1, 5)), min_size=1, max_size=30))
def test_integer_weights_repeat_the_values(pairs):
    x, w = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs], float)
    assert weighted_median(x, w) == float(np.median(np.repeat(x, w.astype(int))))


@given(values, st.data())
def test_invariant_to_order_and_to_the_scale_of_the_weights(x, data):
    w = np.array(data.draw(st.lists(st.floats(0.1, 10), min_size=len(x), max_size=len(x))))
    perm = np.random.default_rng(0).permutation(len(x))
    m = weighted_median(x, w)
    assert weighted_median(np.asarray(x)[perm], w[perm]) == m
    assert weighted_median(x, 7.0 * w) == pytest.approx(m)
    assert min(x) <= m <= max(x)
