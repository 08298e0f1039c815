"""Covariate terms: parsing, binding to a cohort schema, design matrices from arrays."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.replications.analysis.schema import Column, Schema
from tacebench.replications.analysis.terms import TermError, bind_terms, in_codes, parse_term


def _schema():
    cols = {
        "age": Column("age", "continuous"),
        "male": Column("male", "binary"),
        "child_pugh": Column("child_pugh", "categorical", ("A5", "A6")),
        "pvtt_type": Column("pvtt_type", "categorical", ("none", "I-II", "III-IV")),
        "u_ses": Column("u_ses", "continuous", unmeasured=True),
        "true_ps": Column("true_ps", "continuous"),
    }
    return Schema("main", cols, ("TACE", "TACES"), "TACES")


COLS = {
    "age": np.array([45.0, 60.0, 72.0, np.nan]),
    "male": np.array([1.0, 0.0, 1.0, 1.0]),
    "child_pugh": np.array([0.0, 1.0, 1.0, 0.0]),
    "pvtt_type": np.array([0.0, 1.0, 2.0, -1.0]),
}


@pytest.mark.parametrize("text, var, op", [
    ("age", "age", None), ("age>=60", "age", ">="), (" afp > 400 ", "afp", ">"),
    ("child_pugh==A6", "child_pugh", "=="), ("pvtt_type!=none", "pvtt_type", "!="),
])
def test_parse(text, var, op):
    t = parse_term(text)
    assert (t.variable, t.op) == (var, op)


@pytest.mark.parametrize("bad", ["", "age>=", "age>=old", "3age", 12, {"variable": "age"},
                                 {"variable": "age", "cut": [60, 50]}])
def test_parse_rejects(bad):
    with pytest.raises(TermError):
        parse_term(bad)


def test_matrix_columns_and_missing():
    terms = [parse_term(x) for x in ("age>=60", "male", "child_pugh", "pvtt_type",
                                     "pvtt_type==III-IV|I-II")]
    b = bind_terms(terms, _schema())
    assert b.names == ("age>=60", "male", "child_pugh[A6]", "pvtt_type[I-II]",
                       "pvtt_type[III-IV]", "pvtt_type==III-IV|I-II")
    X = b.matrix(COLS)
    np.testing.assert_array_equal(X[:3], [[0, 1, 0, 0, 0, 0], [1, 0, 1, 1, 0, 1],
                                          [1, 1, 1, 0, 1, 1]])
    # a missing age and a missing (negative) categorical code propagate as NaN
    assert np.isnan(X[3, 0]) and np.isnan(X[3, 3:]).all()
    assert b.columns_of("pvtt_type") == [3, 4]
    assert b.without("male").names[1] == "child_pugh[A6]"


def test_cut_term():
    b = bind_terms([parse_term({"variable": "age", "cut": [50, 65]})], _schema())
    assert b.names == ("age>=50", "age>=65")
    np.testing.assert_array_equal(b.matrix(COLS)[:3], [[0, 0], [1, 0], [0, 1]])


@pytest.mark.parametrize("text, message", [
    ("albumin", "does not generate a column 'albumin'$"),
    # a mis-cased or misspelt name gets the column it must mean
    ("Male", "does not generate a column 'Male'; did you mean 'male'\\?"),
    ("child_pough", "did you mean 'child_pugh'\\?"), ("u_ses", "not observable"),
    ("true_ps", "not observable"), ("child_pugh==C", "no level 'C'"),
    ("child_pugh>1", "categorical"), ("male==yes", "numeric"),
])
def test_bind_errors_name_the_problem(text, message):
    with pytest.raises(TermError, match=message):
        bind_terms([parse_term(text)], _schema())


def _reference_column(part, x):
    """A term's columns written out the plain way (np.isin, one temporary per step): the
    reference the preallocated BoundTerms.matrix must equal exactly."""
    if part.kind == "raw":
        return x[:, None]
    missing = ~np.isfinite(x) | ((x < 0) if part.kind in ("dummies", "indicator_levels")
                                 else False)
    codes = np.asarray(part.codes, dtype=float)
    if part.kind == "dummies":
        out = (x[:, None] == codes[None, :]).astype(float)
    elif part.kind == "indicator_levels":
        hit = np.isin(x, codes)
        out = (hit if part.term.op == "==" else ~hit).astype(float)[:, None]
    elif part.kind == "indicator_num":
        ops = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less,
               "==": np.equal, "!=": np.not_equal}
        out = ops[part.term.op](x, part.term.value).astype(float)[:, None]
    else:
        band = np.searchsorted(np.asarray(part.term.cut), x, side="right")
        out = (band[:, None] == np.arange(1, len(part.term.cut) + 1)).astype(float)
    out[missing] = np.nan
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_matrix_equals_the_plain_construction(seed, subset):
    """Every kind of term, with missing values and negative codes, on all rows or a
    subset: bit-identical to the term-by-term construction."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    cols = {"age": np.where(rng.random(n) < 0.2, np.nan, rng.normal(60, 10, n)),
            "male": rng.integers(0, 2, n).astype(np.int8),
            "child_pugh": rng.integers(-1, 2, n).astype(float),
            "pvtt_type": rng.integers(-1, 3, n).astype(np.int8)}
    texts = ["age", "male", "child_pugh", "pvtt_type", "age>=60", "age<55", "age!=60",
             "male==1", "pvtt_type==I-II|III-IV", "pvtt_type!=none", "child_pugh==A6",
             {"variable": "age", "cut": [50, 60, 70]}]
    chosen = [texts[i] for i in rng.permutation(len(texts))[:int(rng.integers(1, 7))]]
    bound = bind_terms([parse_term(t) for t in chosen], _schema())
    index = np.sort(rng.choice(n, int(rng.integers(0, n + 1)), replace=True)) \
        if subset else None
    got = bound.matrix(cols, index)
    want = np.column_stack([_reference_column(
        p, np.asarray(cols[p.term.variable], dtype=float)[slice(None) if index is None
                                                           else index])
        for p in bound.parts])
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 1, 2, 3]), max_size=30),
       st.lists(st.sampled_from([0.0, 1.0, 2.0, 5.0]), max_size=3, unique=True),
       st.booleans())
def test_in_codes_is_isin(values, codes, as_float):
    x = np.array(values, dtype=float if as_float else np.int8)
    if as_float and x.size:
        x[::3] = np.nan
    c = np.array(codes, dtype=float)
    np.testing.assert_array_equal(in_codes(x, c), np.isin(x, c))


@pytest.mark.parametrize("text, lo_in, hi_in", [
    ("45<=age<72", True, False), ("45 < age <= 72", False, True), ("45<=age<=72", True, True),
])
def test_band_term_is_the_share_between_two_cuts(text, lo_in, hi_in):
    t = parse_term(text)
    assert (t.variable, t.op) == ("age", "band")
    x = bind_terms([t], _schema()).matrix(COLS)[:, 0]
    # ages 45, 60, 72, missing: each bound in or out as its operator says
    np.testing.assert_array_equal(x[:3], [float(lo_in), 1.0, float(hi_in)])
    assert np.isnan(x[3])


@given(st.lists(st.floats(0, 20), min_size=1, max_size=40), st.floats(0, 10), st.floats(0, 10))
@settings(max_examples=50, deadline=None)
def test_band_is_the_difference_of_two_thresholds(values, lo, width):
    cols = {"age": np.array(values)}
    hi = lo + width + 0.5
    band, below_hi, below_lo = (bind_terms([parse_term(s)], _schema()).matrix(cols)[:, 0]
                                for s in (f"{lo!r}<=age<{hi!r}", f"age<{hi!r}", f"age<{lo!r}"))
    np.testing.assert_array_equal(band, below_hi - below_lo)


@pytest.mark.parametrize("bad, message", [
    ("5<=age<3", "lower bound first"), ("3<=age<3", "lower bound first"),
    ("1<=child_pugh<2", "categorical"),
])
def test_band_errors_say_why(bad, message):
    with pytest.raises(TermError, match=message):
        bind_terms([parse_term(bad)], _schema())
