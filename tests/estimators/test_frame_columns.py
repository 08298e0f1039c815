"""Columns read from a frame's blocks are the arrays pandas' own access gives (same dtype,
same memory), and every frame the reader cannot vouch for is left to pandas (None)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tacebench.estimators import design as design_module
from tacebench.estimators import design_matrix
from tacebench.estimators.frame_access import frame_columns, frame_layout, series_layout
from tacebench.estimators.design import treatment_indicator


def _mixed(n=30, seed=0):
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 3, n),
                      "g": pd.Categorical(rng.choice(["a", "b"], n)),
                      "s": rng.choice(["u", "v"], n), "b": rng.random(n) < 0.5,
                      "z": rng.integers(0, 2, n).astype(np.int8)})
    # columns added one by one live in blocks of their own (an unconsolidated frame)
    f["x2"] = f["x"] * 2.0
    f["i16"] = rng.integers(0, 5, n).astype(np.int16)
    f["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 9, n), "D")
    f["nullable"] = pd.array(rng.integers(0, 3, n), dtype="Int64")
    return f


def test_columns_are_pandas_own_arrays():
    f = _mixed()
    labels = ["x", "k", "g", "s", "b", "z", "x2", "i16", "nullable"]
    got = frame_columns(f, labels)
    assert got is not None and list(got) == labels
    for label in labels:
        dtype, values = got[label]
        s = f[label]
        assert dtype == s.dtype
        if isinstance(values, np.ndarray):
            np.testing.assert_array_equal(values, s.to_numpy())
            assert values.dtype == s.to_numpy().dtype
            assert np.shares_memory(values, s.to_numpy())
        else:
            assert values is s.array or values.equals(s.array)


@pytest.mark.parametrize("make, labels", [
    (lambda f: f, ["x", "absent"]),
    (lambda f: f, ["absent"]),
    (lambda f: f, ["x", "when"]),  # a 2-D datetime block: not read here
    (lambda f: pd.concat([f[["x"]], f[["x"]]], axis=1), ["x"]),
])
def test_missing_or_duplicated_labels_are_left_to_pandas(make, labels):
    assert frame_columns(make(_mixed()), labels) is None


def test_a_frame_without_blocks_is_left_to_pandas():
    class NotAFrame:
        columns = pd.Index(["x"])

    assert frame_columns(NotAFrame(), ["x"]) is None


@pytest.mark.parametrize("covs, cat", [
    (["x", "k", "g", "s", "b", "x2", "i16"], ["k", "s"]),
    (["g", "x2"], None),
    (["i16", "x"], ["i16"]),
])
def test_design_from_blocks_equals_design_through_series(monkeypatch, covs, cat):
    f = _mixed(seed=3)
    fast = design_matrix(f, covs, categorical=cat)
    through_series = []
    monkeypatch.setattr(design_module, "frame_columns", lambda frame, labels: None)
    monkeypatch.setattr(design_module, "frame_layout", lambda frame, labels: None)
    monkeypatch.setattr(design_module, "series_layout", lambda frame, labels: (
        through_series.append(labels), series_layout(frame, labels))[1])
    slow = design_matrix(f, covs, categorical=cat)
    assert through_series == [tuple(covs)]
    np.testing.assert_array_equal(fast.values, slow.values)
    assert (fast.names, fast.levels, fast.reference) == (slow.names, slow.levels, slow.reference)
    sub = f.assign(k=f["k"] % 2, nullable=f["nullable"] % 2)
    for column in ("z", "b", "k", "nullable"):
        np.testing.assert_array_equal(treatment_indicator(sub, column),
                                      (sub[column].to_numpy() == 1).astype(np.int8))


def test_treatment_indicator_names_a_missing_column():
    with pytest.raises(ValueError, match="treated column 'arm' is not in frame"):
        treatment_indicator(_mixed(), "arm")


def test_runs_of_one_block_are_copied_alike():
    """Consecutive covariates of one float block (copied by one take), of one integer
    block (converted row by row), interrupted by a categorical and by a column of another
    block: the design equals the one built column by column through pandas."""
    rng = np.random.default_rng(5)
    n = 40
    f = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n),
                      "i": rng.integers(0, 9, n), "j": rng.integers(0, 9, n),
                      "g": pd.Categorical(rng.choice(["u", "v", "w"], n))})
    f["late"] = rng.normal(size=n)  # a block of its own
    blocks, where = frame_layout(f, ["a", "b", "i", "j"])
    assert where["a"][0] == where["b"][0] and where["i"][0] == where["j"][0]
    for covs in (["a", "b", "c", "g", "i", "j", "late"], ["c", "a", "late", "b", "j", "i"],
                 ["i", "j", "g", "b", "a"]):
        got = design_matrix(f, covs)
        cols, names = [], []
        for c in covs:
            if c == "g":
                for lev in ("v", "w"):
                    cols.append((f["g"] == lev).to_numpy(dtype=float))
                    names.append(f"g[{lev}]")
            else:
                cols.append(f[c].to_numpy(dtype=float))
                names.append(c)
        np.testing.assert_array_equal(got.values, np.column_stack(cols))
        assert got.names == tuple(names)
