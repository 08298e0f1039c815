"""Worlds set up ahead, two at once (with workers), give the numbers of worlds set up in turn."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from tacebench.replications.check import load_study
from tacebench.replications.reproduce import reproduce
from tacebench.replications.robustness import builtin_worlds, run_worlds

FICTIONAL = Path(__file__).parent / "fictional_study"


def _numbers(result) -> dict:
    d = result.to_dict()
    d.pop("elapsed_seconds", None)
    return d


@pytest.mark.slow
def test_worlds_set_up_ahead_give_the_same_results():
    study = load_study(FICTIONAL)
    worlds = builtin_worlds(study.cohort_raw)[:3]   # two set up at once, then the third
    kw = dict(reps=8, seed=4, max_reps=8)
    inline = run_worlds(study, reproduce, worlds, n_jobs=1, **kw)
    ahead = run_worlds(study, reproduce, worlds, n_jobs=2, **kw)
    assert [asdict(w) for w, _ in inline] == [asdict(w) for w, _ in ahead]
    assert [_numbers(r) for _, r in inline] == [_numbers(r) for _, r in ahead]
