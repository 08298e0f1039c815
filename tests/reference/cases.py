"""Read a committed R reference case: ``data.csv`` and ``expected.json`` (see README.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
_SPECIAL = {"NA": float("nan"), "NaN": float("nan"), "Inf": float("inf"), "-Inf": float("-inf")}


def _restore(x):
    # _common.R writes non-finite doubles as strings; turn them back into floats.
    if isinstance(x, str):
        return _SPECIAL.get(x, x)
    if isinstance(x, list):
        return [_restore(v) for v in x]
    if isinstance(x, dict):
        return {k: _restore(v) for k, v in x.items()}
    return x


def case_names() -> list[str]:
    return sorted(p.name for p in HERE.iterdir()
                  if p.is_dir() and not p.name.startswith(("_", ".")))


def load_expected(case: str, filename: str = "expected.json") -> dict:
    with open(HERE / case / filename, encoding="utf-8") as fh:
        return _restore(json.load(fh))


def load_case(case: str, filename: str = "expected.json") -> tuple[pd.DataFrame | None, dict]:
    """Return ``(data, expected)``; ``data`` is None when the case has no ``data.csv``."""
    csv = HERE / case / "data.csv"
    data = pd.read_csv(csv) if csv.exists() else None
    return data, load_expected(case, filename)
