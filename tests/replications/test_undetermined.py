"""Verdicts stable to Monte Carlo error: the MC SE of F, 'undetermined' near |z| = 1.96,
replicates added (up to 4 R) with the same numbers whatever n_jobs."""
from dataclasses import replace
from pathlib import Path

import numpy as np

from tacebench.replications.check import load_study
from tacebench.replications.reproduce import MAX_REPS_FACTOR, reproduce
from tacebench.replications.verdicts import UNDETERMINED, judge, midrank_interval, settle

FICTIONAL = Path(__file__).parent / "fictional_study"


def test_boundary_value_is_undetermined_and_far_inside_is_reproduced():
    x = np.random.default_rng(0).standard_normal(200)
    lo, hi = midrank_interval(x)
    at = settle(judge(x, hi))
    assert at.near_boundary and at.verdict == UNDETERMINED
    assert "undetermined at 200 replicates" in at.reason
    inside = settle(judge(x, 0.1))
    assert inside.verdict == "reproduced" and not inside.near_boundary
    far = settle(judge(x, 6.0))
    assert far.verdict == "not reproduced" and not far.near_boundary
    # binomial MC SE of F at the bound
    assert abs(at.mcse_position - np.sqrt(0.975 * 0.025 / 200)) < 1e-3


def test_batch_means_hold_the_spread_between_worlds():
    rng = np.random.default_rng(1)
    blocks = np.repeat(np.arange(8), 25)
    shifted = rng.standard_normal(200) + rng.normal(0, 1.0, 8)[blocks]   # 8 worlds
    iid = judge(shifted, 1.0)
    bm = judge(shifted, 1.0, blocks=blocks)
    assert bm.position == iid.position and bm.mcse_position > 1.5 * iid.mcse_position


def _with_reported(study, tid, value):
    ts = tuple(replace(t, value=value) if t.id == tid else t for t in study.targets.targets)
    return replace(study, targets=replace(study.targets, targets=ts))


def test_replicates_are_added_then_undetermined_whatever_n_jobs():
    study = load_study(FICTIONAL)
    R = 8
    cap = MAX_REPS_FACTOR * R
    # replicate r does not depend on R: the cap's draws are those the added replicates get
    full = reproduce(study, reps=cap, seed=3, decompose_reps=0, max_reps=cap)
    first = reproduce(study, reps=R, seed=3, decompose_reps=0, max_reps=R)
    lo, hi = midrank_interval(np.log(full.draws[:, full.draw_ids.index("os_hr_crude")]))
    edge = _with_reported(study, "os_hr_crude", float(np.exp(hi)))
    middle = float(np.median(full.draws[:, full.draw_ids.index("os_hr_iptw")]))
    edge = _with_reported(edge, "os_hr_iptw", middle)
    runs = [reproduce(edge, reps=R, seed=3, decompose_reps=0, n_jobs=j) for j in (1, 2)]
    for res in runs:
        assert res.reps == cap
        t = next(t for t in res.targets if t.id == "os_hr_crude")
        assert t.verdict == UNDETERMINED and res.counts()[UNDETERMINED] >= 1
        assert next(t for t in res.targets if t.id == "os_hr_iptw").verdict == "reproduced"
    np.testing.assert_array_equal(runs[0].draws, runs[1].draws)
    # the first R replicates are those of the run that added none
    np.testing.assert_array_equal(runs[0].draws[:R], first.draws)
    np.testing.assert_array_equal(runs[0].draws, full.draws)
