"""Paired tests of matched pairs against R (tests/reference/paired_tests):
``mcnemar.test(factor(x, 0:1), factor(y, 0:1))``, ``t.test(x, y, paired = TRUE)`` and
``wilcox.test(x, y, paired = TRUE)``; and invariants of the pairing."""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.paired_tests import (mcnemar_test, paired_t_test, pairs_from_sets,
                                               wilcoxon_signed_rank)
from tests.reference.cases import load_case

DATA, EXPECTED = load_case("paired_tests")


def _case(name):
    s = DATA[DATA.case == name]
    return s.x.to_numpy(), s.y.to_numpy()


def _close(a, b, rel=1e-10):
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=rel, abs=1e-13)


@pytest.mark.parametrize("name", ["bin_many", "bin_few", "bin_equal", "bin_concordant"])
def test_mcnemar_matches_r(name):
    r = mcnemar_test(*_case(name))
    e = EXPECTED[name]
    assert _close(r.statistic, e["statistic"]) and _close(r.p_value, e["p"])


@pytest.mark.parametrize("name", ["cont_exact", "cont_large", "cont_ties"])
def test_paired_t_and_wilcoxon_match_r(name):
    x, y = _case(name)
    e = EXPECTED[name]
    t = paired_t_test(x, y)
    assert _close(t.statistic, e["t"]) and t.df == e["t_df"] and _close(t.p_value, e["t_p"])
    w = wilcoxon_signed_rank(x, y)
    assert w.statistic == e["v"] and _close(w.p_value, e["w_p"], rel=1e-9)
    assert ("exact" in w.method) == ("exact" in e["w_method"])


def test_mcnemar_without_correction_is_the_plain_chi_square():
    x = np.array([1] * 10 + [0] * 4 + [1] * 5 + [0] * 7)
    y = np.array([0] * 10 + [1] * 4 + [1] * 5 + [0] * 7)
    assert mcnemar_test(x, y, correct=False).statistic == pytest.approx(36 / 14)


def test_constant_differences_have_no_t_test():
    assert math.isnan(paired_t_test([3.0, 4.0, 5.0], [1.0, 2.0, 3.0]).p_value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-20, 20), st.integers(-20, 20)), min_size=3, max_size=60))
def test_swapping_the_members_keeps_every_p_value(pairs):
    x, y = np.array(pairs, float).T
    for test in (paired_t_test, wilcoxon_signed_rank):
        a, b = test(x, y).p_value, test(y, x).p_value
        assert _close(a, b, rel=1e-9)
    xb, yb = (x > 0).astype(int), (y > 0).astype(int)
    assert _close(mcnemar_test(xb, yb).p_value, mcnemar_test(yb, xb).p_value)


def test_pairs_from_sets_keeps_one_to_one_sets_treated_first():
    set_id = np.array([0, 0, 1, 1, 2, 2, 2, 3])
    treated = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    t, c = pairs_from_sets(set_id, treated)
    assert list(t) == [1, 2] and list(c) == [0, 3]


# ----------------------------------------------------------------- input the tests refuse

@pytest.mark.parametrize("x, y, name, shown", [
    ([2, 2, 2, 1, 0], [0, 0, 0, 0, 1], "x", "[0]=2.0"),     # was: statistic 0, p = 1
    ([0.5, 1, 1, 0], [0, 0, 0, 1], "x", "[0]=0.5"),
    ([1, 0, 1], [0, -1, np.inf], "y", "[1]=-1.0"),
])
def test_mcnemar_refuses_values_other_than_0_1(x, y, name, shown):
    with pytest.raises(ValueError, match=rf"^{name} must be 0/1.*{re.escape(shown)}"):
        mcnemar_test(x, y)


def test_mcnemar_still_drops_a_pair_with_nan():
    full = mcnemar_test([1, 1, 0, 1], [0, 0, 1, 0])
    assert mcnemar_test([1, 1, 0, np.nan, 1], [0, 0, 1, 1, 0]) == full


@pytest.mark.parametrize("test", [mcnemar_test, paired_t_test, wilcoxon_signed_rank])
@pytest.mark.parametrize("x, y", [([], []), ([np.nan, 1.0], [0.0, np.nan])])
def test_no_complete_pair_is_an_error(test, x, y):
    with pytest.raises(ValueError, match="x and y must hold at least .* complete pair"):
        test(x, y)


def test_paired_t_needs_two_pairs_as_r():
    # R: t.test(1, 2, paired = TRUE) stops with "not enough 'x' observations"
    with pytest.raises(ValueError, match="at least 2 complete pairs.*got 1"):
        paired_t_test([1.0], [2.0])


def test_paired_t_refuses_infinity_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^x must be finite.*\[0\]=inf"):
            paired_t_test([np.inf, 1, 2], [0, 1, 3])


def test_wilcoxon_ranks_an_infinite_difference_but_refuses_inf_minus_inf():
    assert wilcoxon_signed_rank([np.inf, 1, 2], [0, 1, 3]).statistic == 2.0  # as R
    with pytest.raises(ValueError, match=r"x - y must be defined.*x\[1\]=inf"):
        wilcoxon_signed_rank([1, np.inf, 2], [0, np.inf, 3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=40),
       st.integers(0, 39), st.sampled_from([2.0, -1.0, 0.5, np.inf]))
def test_mcnemar_accepts_exactly_the_0_1_pairs(pairs, at, bad):
    x, y = np.array(pairs, float).T
    assert repr(mcnemar_test(x.astype(bool), y)) == repr(mcnemar_test(x, y))  # (NaN != NaN)
    x[at % x.size] = bad
    with pytest.raises(ValueError, match="x must be 0/1"):
        mcnemar_test(x, y)


@pytest.mark.parametrize("set_id, treated, message", [
    ([0, 0, 1], [1, 0, 0, 1], "mismatched lengths"),   # was numpy's "all keys need to be the same shape"
    ([0, 0], [2, 0], r"treated must be 0/1; got \[0\]=2"),
    ([0.0, np.nan], [1, 0], "set_id must be finite"),
    (["a", "b"], [1, 0], "set_id must be a 1-d array of set ids"),
])
def test_pairs_from_sets_names_bad_input(set_id, treated, message):
    with pytest.raises(ValueError, match=message):
        pairs_from_sets(set_id, treated)

