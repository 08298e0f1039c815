"""The five seed studies' cohort.toml files (tacebench/studies/<id>/cohort.toml)."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench import simulate
from tacebench.simulate.studies import studies_root
from tacebench.simulate.table import baseline_table, compare_table

from .conftest import SEED_IDS


def _cohorts():
    root = studies_root()
    out = []
    for sid in SEED_IDS:
        if root is None or not (root / sid / "cohort.toml").is_file():
            continue
        for name in simulate.load_spec(sid).cohorts:
            out.append((sid, name))
    return out


COHORTS = _cohorts()


@pytest.mark.parametrize("sid,name", COHORTS)
def test_seed_spec_compiles_and_generates(sid, name):
    plan = simulate.compile_plan(sid, name)
    c = simulate.generate_cohort(plan, seed=0)
    assert np.bincount(c.columns["arm"]).tolist() == [a.n for a in plan.spec.arms]
    tab = baseline_table(c, plan.spec).to_frame()
    assert set(plan.arm_labels) <= set(tab.columns)


@pytest.mark.slow
@pytest.mark.parametrize("sid,name", COHORTS)
def test_seed_table1_within_central_95_of_200_cohorts(sid, name):
    tc = compare_table(sid, n_cohorts=200, seed=2024, cohort=name)
    assert tc.arm_sizes_exact
    assert not tc.outside, tc.to_frame()[~tc.to_frame()["inside_95"]].to_string()
