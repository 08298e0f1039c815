"""Integrity of the committed R fixtures: every case is complete and its data reproducible."""
from __future__ import annotations

import importlib.util
import io

import numpy as np
import pandas as pd
import pytest

from tests.reference.cases import HERE, case_names, load_expected


@pytest.mark.parametrize("case", case_names())
def test_case_is_complete(case):
    folder = HERE / case
    assert (folder / "reference.R").is_file(), f"{case}: reference.R missing"
    assert (folder / "expected.json").is_file() or list(folder.glob("expected*")), \
        f"{case}: no expected output committed"
    if (folder / "expected.json").is_file():
        assert "_meta" in load_expected(case), f"{case}: expected.json lacks _meta (use write_expected)"


#: How far a regenerated float may lie from the committed one, in units in the last place.
#: numpy computes exp and log with other kernels on a CPU with AVX-512 than on one without
#: (https://github.com/numpy/numpy/issues/23523; each within about an ULP of the true
#: value), so a generator's data differ by a few ULPs between machines: at most 4 between
#: the AVX-512 machine that wrote these files and an AVX2-only one. A hand edit, another
#: seed or a changed generator moves values by far more, and every other column (events,
#: arms, codes) must match exactly.
MAX_ULP = 8


def frame_mismatches(fresh: pd.DataFrame, committed: pd.DataFrame) -> list[str]:
    """What keeps ``fresh`` from being ``committed``: other columns or dtypes, a non-float
    cell that differs, NaN in other places, a float more than :data:`MAX_ULP` away."""
    if list(fresh.columns) != list(committed.columns) or fresh.shape != committed.shape:
        return [f"columns {list(fresh.columns)} x {len(fresh)} rows, committed "
                f"{list(committed.columns)} x {len(committed)}"]
    out = []
    for name in fresh.columns:
        a, b = fresh[name].to_numpy(), committed[name].to_numpy()
        if a.dtype != b.dtype:
            out.append(f"{name}: dtype {a.dtype}, committed {b.dtype}")
        elif a.dtype.kind != "f":
            if not fresh[name].equals(committed[name]):  # (NaN of an object column equal)
                same = (a == b) | (pd.isna(a) & pd.isna(b))
                out.append(f"{name}: {int((~same).sum())} cells differ")
        elif not np.array_equal(np.isnan(a), np.isnan(b)):
            out.append(f"{name}: NaN in other rows")
        else:
            ok = ~np.isnan(a)
            # ULPs apart, for values of one sign (the integer views of a sign's doubles
            # are in their order); values of two signs count as far apart whatever their size
            x, y = a[ok], b[ok]
            other_sign = np.signbit(x) != np.signbit(y)
            ulps = np.where(other_sign, 0, np.abs(x.view(np.int64) - y.view(np.int64)))
            far = other_sign | (ulps > MAX_ULP)
            if far.any():
                out.append(f"{name}: {int(far.sum())} values more than {MAX_ULP} ULPs away "
                           f"or of the other sign (at most {int(ulps.max())} ULPs)")
    return out


@pytest.mark.parametrize("case", [c for c in case_names() if (HERE / c / "make_data.py").is_file()])
def test_make_data_reproduces_committed_csv(case):
    spec = importlib.util.spec_from_file_location(f"_make_data_{case}", HERE / case / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Round-trip through CSV exactly as make_data.py writes it, then compare cell by cell.
    fresh = pd.read_csv(io.StringIO(module.make().to_csv(index=False, float_format="%.17g")))
    committed = pd.read_csv(HERE / case / "data.csv")
    assert frame_mismatches(fresh, committed) == []


def test_frame_mismatches_allows_ulps_only_in_floats():
    committed = pd.DataFrame({"time": [1.5, 2.25, np.nan], "event": [1, 0, 1],
                              "grade": ["a", np.nan, "b"]})
    near = committed.assign(time=[np.nextafter(1.5, 2.0), 2.25, np.nan])
    assert frame_mismatches(near, committed) == []
    far = committed.assign(time=[1.5 * (1 + 1e-13), 2.25, np.nan])
    assert frame_mismatches(far, committed) == [
        f"time: 1 values more than {MAX_ULP} ULPs away or of the other sign (at most 675 ULPs)"]
    assert frame_mismatches(committed.assign(time=[-1.5, 2.25, np.nan]), committed) == [
        f"time: 1 values more than {MAX_ULP} ULPs away or of the other sign (at most 0 ULPs)"]
    assert frame_mismatches(committed.assign(event=[1, 1, 1]), committed) == [
        "event: 1 cells differ"]
    assert frame_mismatches(committed.assign(time=[1.5, 2.25, 3.0]), committed) == [
        "time: NaN in other rows"]
    assert frame_mismatches(committed.assign(grade=["a", np.nan, "c"]), committed) == [
        "grade: 1 cells differ"]
    assert frame_mismatches(committed.copy(), committed) == []  # (NaN of an object column)
