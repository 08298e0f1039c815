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
#: Most test processes ``-n auto`` starts (pytest-xdist). Each one imports the package and
#: builds its own session fixtures (the largest process of a run on 2 cores reached 0.8
#: GB), besides the engine workers that some tests start: more would trade memory for
#: little.
MAX_TEST_PROCESSES = 8


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto``: one test process per core this process may run on (its CPU affinity,
    which a container or ``taskset`` narrows, where ``os.cpu_count`` counts the machine's),
    at most :data:`MAX_TEST_PROCESSES`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_TEST_PROCESSES))


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The folder with the five seed papers' text; tests skip where it is absent."""
    if not SEEDS.is_dir():
        pytest.skip(f"seed texts not found at {SEEDS}")
    return SEEDS


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE
