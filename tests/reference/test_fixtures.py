"""Integrity of the committed R fixtures: every case is complete and its data reproducible."""
from __future__ import annotations

import importlib.util
import io

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


@pytest.mark.parametrize("case", [c for c in case_names() if (HERE / c / "make_data.py").is_file()])
def test_make_data_reproduces_committed_csv(case):
    spec = importlib.util.spec_from_file_location(f"_make_data_{case}", HERE / case / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Round-trip through CSV exactly as make_data.py writes it, then compare cell by cell.
    fresh = pd.read_csv(io.StringIO(module.make().to_csv(index=False, float_format="%.17g")))
    committed = pd.read_csv(HERE / case / "data.csv")
    pd.testing.assert_frame_equal(fresh, committed, check_exact=True)
