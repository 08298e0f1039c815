"""Fixtures for the simulate tests: a private plan cache and the fixture specs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SPECS = Path(__file__).resolve().parent / "specs"
SEED_IDS = ("tace_sorafenib_ehs", "tace_regorafenib", "tace_sorafenib_matched",
            "tace_mtt_pd1_lung", "len_sora_pd1_ehm")


@pytest.fixture(scope="session", autouse=True)
def _plan_cache(tmp_path_factory):
    """Compiled plans are cached on disk; keep the tests' cache out of the home folder."""
    old = os.environ.get("TACEBENCH_CACHE_DIR")
    os.environ["TACEBENCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("plan_cache"))
    yield
    if old is None:
        os.environ.pop("TACEBENCH_CACHE_DIR", None)
    else:
        os.environ["TACEBENCH_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def small_spec_path() -> Path:
    return SPECS / "small.toml"


@pytest.fixture(scope="session")
def small_plan(small_spec_path):
    from tacebench import simulate
    return simulate.compile_plan(small_spec_path)
