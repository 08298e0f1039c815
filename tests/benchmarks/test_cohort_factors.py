"""Scenario factors that edit a study's cohort file: the therapy inclusion."""
from __future__ import annotations

import pytest

from tacebench.benchmarks.cohort_factors import apply_factors
from tacebench.simulate.overrides import load_cohort_raw


def _primary():
    return load_cohort_raw("tace_sorafenib_matched")["cohorts"]["primary"]


def test_therapy_inclusion_is_kept_unless_a_scenario_drops_it():
    kept = _primary()
    apply_factors(kept, {})
    assert kept["time_varying"]["inclusion"]["min_months"] == 1.0
    apply_factors(kept, {"therapy_inclusion": True})
    assert "inclusion" in kept["time_varying"]
    dropped = _primary()
    apply_factors(dropped, {"therapy_inclusion": False})
    assert "inclusion" not in dropped["time_varying"] and "start" in dropped["time_varying"]
    gone = _primary()  # no therapy at all: nothing to drop
    apply_factors(gone, {"immortal_time": False, "therapy_inclusion": False})
    assert "time_varying" not in gone


def test_keeping_an_inclusion_the_cohort_does_not_state_is_an_error():
    bare = _primary()
    del bare["time_varying"]["inclusion"]
    with pytest.raises(ValueError, match=r"therapy_inclusion = true needs time_varying\.inclusion"):
        apply_factors(bare, {"therapy_inclusion": True})
