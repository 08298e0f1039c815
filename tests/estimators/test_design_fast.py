"""The one-pass design_matrix equals the previous per-column implementation (a frozen copy
in ``_design_previous.py``): same values, names, levels and references on valid frames,
the same ValueError message on invalid ones (missing values, inf, constant columns,
non-numeric columns, single-level categoricals, unknown references)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacebench.estimators import design as current
from tests.estimators import _design_previous as previous


def _outcome(module, frame, covariates, categorical, reference):
    try:
        d = module.design_matrix(frame, covariates, categorical=categorical, reference=reference)
    except ValueError as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", d)


def _assert_same(frame, covariates, categorical=None, reference=None):
    new = _outcome(current, frame, covariates, categorical, reference)
    old = _outcome(previous, frame, covariates, categorical, reference)
    if old[0] == "error":
        assert new == old
        return None
    assert new[0] == "ok", new
    a, b = new[1], old[1]
    assert a.values.dtype == b.values.dtype == np.float64
    assert a.values.shape == b.values.shape
    np.testing.assert_array_equal(a.values, b.values)
    assert a.names == b.names
    assert a.covariates == b.covariates
    assert a.levels == b.levels
    assert {k: (type(v), v) for k, v in a.levels.items()} == \
        {k: (type(v), v) for k, v in b.levels.items()}
    assert a.reference == b.reference
    assert [type(v) for v in a.reference.values()] == [type(v) for v in b.reference.values()]
    return a


@st.composite
def _column(draw, n):
    """(kind, values) of one column of length n."""
    kind = draw(st.sampled_from(["float", "int", "bool", "binary", "str", "category",
                                 "int_cat"]))
    if kind == "float":
        vals = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))
        x = np.array(vals, dtype=np.float64)
        bad = draw(st.sampled_from([None, None, None, np.nan, np.inf, -np.inf, "const"]))
        if bad == "const":
            x[:] = x[0]
        elif bad is not None:
            x[draw(st.integers(0, n - 1))] = bad
        return kind, x
    if kind == "int":
        return kind, np.array(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)),
                              dtype=np.int64)
    if kind in ("bool", "binary"):
        x = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        return kind, x if kind == "bool" else x.astype(np.float64)
    labels = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=n, max_size=n))
    missing = draw(st.booleans()) and draw(st.integers(0, 4)) == 0
    if missing:
        labels[draw(st.integers(0, n - 1))] = None
    if kind == "str":
        return kind, pd.Series(labels, dtype=object)
    if kind == "int_cat":
        return kind, pd.Series([None if v is None else "abcd".index(v) for v in labels],
                               dtype=object if missing else np.int64)
    cats = draw(st.permutations(["a", "b", "c", "d", "unused"]))
    return kind, pd.Categorical(labels, categories=list(cats))


@st.composite
def _case(draw):
    n = draw(st.integers(1, 12))
    k = draw(st.integers(1, 5))
    cols = {f"v{j}": draw(_column(n)) for j in range(k)}
    frame = pd.DataFrame({name: vals for name, (_, vals) in cols.items()})
    covariates = list(draw(st.permutations(list(cols))))
    categorical = [c for c in covariates if cols[c][0] in ("str", "int_cat")
                   or (cols[c][0] in ("int", "bool") and draw(st.booleans()))]
    reference = {}
    for c in covariates:
        if cols[c][0] in ("str", "category", "int_cat", "int", "bool") and (
                c in categorical or cols[c][0] == "category") and draw(st.booleans()):
            observed = pd.Series(frame[c]).dropna().astype(object).unique().tolist()
            pool = observed + ["zz", 7]
            reference[c] = draw(st.sampled_from(pool)) if pool else "zz"
    return frame, covariates, categorical, reference


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_fast_design_matrix_equals_previous(case):
    frame, covariates, categorical, reference = case
    _assert_same(frame, covariates, categorical, reference)


def _seed_like(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.normal(60, 10, n),
        "male": rng.integers(0, 2, n).astype(np.float64),
        "n": rng.integers(1, 5, n),
        "flag": rng.integers(0, 2, n).astype(bool),
        "cp": pd.Categorical(rng.choice(["A5", "A6"], n), categories=["A5", "A6"]),
        "site": rng.choice(["lung", "bone", "adrenal"], n),
        "grade": rng.integers(1, 4, n),
        "treated": rng.integers(0, 2, n),
    })


def test_clean_frame_takes_the_fast_path(monkeypatch):
    f = _seed_like()
    covs = ["age", "male", "n", "flag", "cp", "site", "grade"]
    ref = _assert_same(f, covs, ["site", "grade"], {"site": "lung", "grade": 2})
    assert ref.names == ("age", "male", "n", "flag", "cp[A6]", "site[adrenal]", "site[bone]",
                         "grade[1]", "grade[3]")

    def boom(*args, **kwargs):
        raise AssertionError("the per-column path ran on a clean frame")

    monkeypatch.setattr(current, "_design_by_column", boom)
    d = current.design_matrix(f, covs, categorical=["site", "grade"],
                              reference={"site": "lung", "grade": 2})
    np.testing.assert_array_equal(d.values, ref.values)
    assert d.values.flags.c_contiguous


@pytest.mark.parametrize("edit, covs, cat, ref", [
    (lambda f: f.assign(age=np.where(np.arange(len(f)) % 7 == 3, np.nan, f["age"])),
     ["male", "age"], None, None),
    (lambda f: f.assign(age=np.where(np.arange(len(f)) == 5, np.inf, f["age"])),
     ["age"], None, None),
    (lambda f: f.assign(male=1.0), ["age", "male"], None, None),
    (lambda f: f.assign(cp=f["cp"].cat.set_categories(["A5", "A6", "B7"]).where(
        np.arange(len(f)) != 2)), ["age", "cp"], None, None),
    (lambda f: f.assign(site=f["site"].where(np.arange(len(f)) != 4)), ["site"], ["site"], None),
    (lambda f: f.assign(site="lung"), ["site"], ["site"], None),
    (None, ["site"], None, None),
    (None, ["age", "site"], ["site"], {"site": "liver"}),
    (None, ["grade"], ["grade"], {"grade": 2.0}),
    (lambda f: f.assign(age=f["age"].astype("Float64").where(np.arange(len(f)) != 1)),
     ["age"], None, None),
    (lambda f: f.assign(age=f["age"].astype(object)), ["age"], None, None),
    (lambda f: f.iloc[:0], ["age", "cp"], None, None),
])
def test_invalid_frames_raise_the_previous_errors(edit, covs, cat, ref):
    f = _seed_like() if edit is None else edit(_seed_like())
    _assert_same(f, covs, cat, ref)


def test_error_names_column_and_rows():
    f = _seed_like()
    f.loc[[3, 9], "age"] = np.nan
    with pytest.raises(ValueError, match=r"frame\['age'\] has 2 missing value\(s\) \(rows \[3, 9\]"):
        current.design_matrix(f, ["male", "age"])


def test_wide_and_narrow_frames_code_alike():
    """A frame not much wider than the covariates and a wide one (its columns read from
    the blocks either way) give the same design."""
    rng = np.random.default_rng(4)
    n = 60
    narrow = pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 3, n),
                           "g": pd.Categorical(rng.choice(["a", "b", "c"], n)),
                           "b": rng.random(n) < 0.5})
    wide = narrow.assign(**{f"noise{j}": rng.normal(size=n) for j in range(20)})
    for frame in (narrow, wide):
        d = current.design_matrix(frame, ["x", "k", "g", "b"], categorical=["k"])
        assert d.names == ("x", "k[1]", "k[2]", "g[b]", "g[c]", "b")
        np.testing.assert_array_equal(
            d.values, current.design_matrix(narrow[["x", "k", "g", "b"]], ["x", "k", "g", "b"],
                                            categorical=["k"]).values)
