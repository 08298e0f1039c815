"""design_matrix: explicit dummy coding and clear errors."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tacebench.estimators.design import design_matrix


def _frame():
    return pd.DataFrame({
        "x": [1.0, 2.0, 3.0, 4.0, 5.0],
        "g": ["b", "a", "c", "a", "b"],
        "cat": pd.Categorical(["hi", "lo", "lo", "hi", "lo"], categories=["lo", "hi", "unused"]),
        "k": [0, 1, 1, 0, 1],
    })


def test_dummy_coding_first_level_reference():
    d = design_matrix(_frame(), ["x", "g", "cat"], categorical=["g"])
    assert d.names == ("x", "g[b]", "g[c]", "cat[hi]")
    np.testing.assert_array_equal(d.values[:, 1], [1, 0, 0, 0, 1])
    np.testing.assert_array_equal(d.values[:, 3], [1, 0, 0, 1, 0])
    assert d.reference == {"g": "a", "cat": "lo"}


def test_explicit_reference_and_numeric_categorical():
    d = design_matrix(_frame(), ["g", "k"], categorical=["g", "k"], reference={"g": "c", "k": 1})
    assert d.names == ("g[a]", "g[b]", "k[0]")
    np.testing.assert_array_equal(d.values[:, 2], [1, 0, 0, 1, 0])


def test_transform_reuses_coding():
    d = design_matrix(_frame(), ["x", "g"], categorical=["g"])
    new = d.transform(pd.DataFrame({"x": [9.0], "g": ["c"]}))
    np.testing.assert_array_equal(new.values, [[9.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=r"levels \['z'\] unseen"):
        d.transform(pd.DataFrame({"x": [9.0], "g": ["z"]}))


@pytest.mark.parametrize(
    "frame_edit, covs, cat, match",
    [
        (None, ["x", "nope"], None, r"\['nope'\] are not columns"),
        (lambda f: f.assign(x=[1.0, np.nan, 3, 4, 5]), ["x"], None, r"frame\['x'\] has 1 missing"),
        (lambda f: f.assign(x=2.0), ["x"], None, r"frame\['x'\] is constant"),
        (None, ["g"], None, r"frame\['g'\] is not numeric.*categorical="),
        (lambda f: f.assign(g="a"), ["g"], ["g"], "single observed level"),
        (None, ["x"], ["g"], r"categorical lists \['g'\]"),
        (None, "x", None, "sequence of column names"),
    ],
)
def test_errors(frame_edit, covs, cat, match):
    f = _frame() if frame_edit is None else frame_edit(_frame())
    with pytest.raises(ValueError, match=match):
        design_matrix(f, covs, categorical=cat)


def test_unknown_reference():
    with pytest.raises(ValueError, match=r"reference\['g'\] = 'q'"):
        design_matrix(_frame(), ["g"], categorical=["g"], reference={"g": "q"})


@pytest.mark.parametrize("column, message", [
    ([1, 1, 1], "treated must contain both arms; got only 1"),
    ([], "treated must contain both arms; got no rows"),
])
def test_treatment_indicator_needs_both_arms(column, message):
    from tacebench.estimators.design import treatment_indicator

    frame = pd.DataFrame({"arm": pd.Series(column, dtype=np.int8)})
    with pytest.raises(ValueError, match=message):
        treatment_indicator(frame, "arm")


@pytest.mark.parametrize("as_category", [False, True])
def test_arm_labels_as_treatment_are_named_with_the_fix(as_category):
    """A column of arm labels ('TACE', 'TACE+sorafenib') gave "treated must be numeric
    (real numbers); got 'TACE+sorafenib' (str) at [0], [1], [2] (and 97 more)"."""
    import pandas as pd

    from tacebench.estimators import InputTypeError, propensity_score

    arm = pd.Series(["TACE", "TACE+sorafenib"] * 10)
    frame = pd.DataFrame({"arm": arm.astype("category") if as_category else arm,
                          "age": np.arange(20.0)})
    with pytest.raises(InputTypeError, match=re.escape(
            "treated column 'arm' holds arm labels ['TACE', 'TACE+sorafenib'], not 0/1: give "
            "the treatment as 0/1, e.g. frame['arm'] == 'TACE+sorafenib'")):
        propensity_score(frame, "arm", ["age"])
    frame["z"] = (frame["arm"] == "TACE+sorafenib").astype(int)
    assert propensity_score(frame, "z", ["age"]).treated.sum() == 10


def test_mixed_case_levels_order_and_how_to_set_it():
    """Strings sort by code point ("A" "B" "a" "b", R's factor() order in the C locale; in
    C.UTF-8 R gives "a" "A" "b" "B"); a pandas Categorical's categories or ``reference=``
    set the order, e.g. to R's locale order, whose first level R's contr.treatment drops."""
    x = ["B", "a", "b", "A", "a", "B", "b", "A"]
    f = pd.DataFrame({"x": x, "z": np.arange(8.0)})
    cols = ["x", "z"]
    d = design_matrix(f, cols, ["x"])
    assert d.levels["x"] == ("A", "B", "a", "b") and d.reference["x"] == "A"
    cat = f.assign(x=pd.Categorical(x, categories=["a", "A", "b", "B"]))
    dc = design_matrix(cat, cols)
    assert dc.reference["x"] == "a" and dc.names[:3] == ("x[A]", "x[b]", "x[B]")
    np.testing.assert_array_equal(dc.values[:, 0], [s == "A" for s in x])
    dr = design_matrix(f, cols, ["x"], reference={"x": "a"})
    assert dr.reference["x"] == "a" and dr.levels["x"] == ("a", "A", "B", "b")
