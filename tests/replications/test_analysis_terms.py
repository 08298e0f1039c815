"""Covariate terms: parsing, binding to a cohort schema, design matrices from arrays."""
import numpy as np
import pytest

from tacebench.replications.analysis.schema import Column, Schema
from tacebench.replications.analysis.terms import TermError, bind_terms, parse_term


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
    ("albumin", "does not generate"), ("u_ses", "not observable"),
    ("true_ps", "not observable"), ("child_pugh==C", "no level 'C'"),
    ("child_pugh>1", "categorical"), ("male==yes", "numeric"),
])
def test_bind_errors_name_the_problem(text, message):
    with pytest.raises(TermError, match=message):
        bind_terms([parse_term(text)], _schema())
