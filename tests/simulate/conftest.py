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


TWO_ARM = {
    "study": {"id": "two_arm", "title": "two arms", "source": "test"},
    "cohorts": {"main": {
        "assignment": "arm_marginals",
        "arms": [{"label": "TACE", "n": 120, "treated": False}, {"label": "TACEX", "n": 80, "treated": True}],
        "variables": [
            {"name": "age", "type": "continuous",
             "arms": {"TACE": {"mean": 58.0, "sd": 10.0}, "TACEX": {"mean": 56.0, "sd": 9.0}}},
            {"name": "male", "type": "binary", "arms": {"TACE": {"count": 100}, "TACEX": {"count": 64}}},
        ],
        "correlation": {"default": "independent"},
        "outcomes": {
            "os": {"knots": [0, 3, 6, 12, 24], "treatment_hr": "calibrate",
                   "effects": [{"variable": "male", "hr": 1.2}],
                   "calibrate": [{"arm": "TACE", "kind": "median", "value": 10.0},
                                 {"arm": "TACEX", "kind": "median", "value": 14.0}]},
            "pfs": {"knots": [0, 3, 6, 12], "treatment_hr": "calibrate",
                    "calibrate": [{"arm": "TACE", "kind": "median", "value": 5.0},
                                  {"arm": "TACEX", "kind": "median", "value": 7.0}]},
        },
        "censoring": {"accrual": 24, "follow_up": 12, "loss_rate": 0.01},
    }}}


def scale_arms(main: dict, k: int) -> None:
    """Multiply a raw cohort's arm sizes and its variables' counts by ``k`` (in place): the
    same shares in a cohort ``k`` times as large."""
    for a in main["arms"]:
        a["n"] *= k
    for v in main["variables"]:
        for s in v["arms"].values():
            if "count" in s:
                s["count"] *= k
            if "counts" in s:
                s["counts"] = [n * k for n in s["counts"]]


@pytest.fixture()
def two_arm() -> dict:
    """A fresh minimal two-arm spec as a dict (OS and PFS medians; follow-up ends at 36 months)."""
    import copy
    return copy.deepcopy(TWO_ARM)
