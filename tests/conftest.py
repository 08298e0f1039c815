"""Shared test fixtures: project paths and the optional seed texts."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw their examples from a fixed seed by default, so a test run (and CI
# on a clean clone) gives the same verdict every time; HYPOTHESIS_PROFILE=explore searches
# afresh on each run (and keeps failing examples in .hypothesis/ to replay).
settings.register_profile("reproducible", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))

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
