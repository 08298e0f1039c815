"""Shared test fixtures: project paths and the optional seed texts."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The folder with the five seed papers' text; tests skip where it is absent."""
    if not SEEDS.is_dir():
        pytest.skip(f"seed texts not found at {SEEDS}")
    return SEEDS


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE
