"""Fixtures for the simulate tests: the fixture specs (plans are cached in memory only,
by simulate's default PlanCache, unless TACEBENCH_CACHE_DIR is set)."""
from __future__ import annotations

from pathlib import Path

import pytest

SPECS = Path(__file__).resolve().parent / "specs"
SEED_IDS = ("tace_sorafenib_ehs", "tace_regorafenib", "tace_sorafenib_matched",
            "tace_mtt_pd1_lung", "len_sora_pd1_ehm")


@pytest.fixture(scope="session")
def small_spec_path() -> Path:
    return SPECS / "small.toml"


@pytest.fixture(scope="session")
def small_plan(small_spec_path):
    from tacebench import simulate
    return simulate.compile_plan(small_spec_path)
