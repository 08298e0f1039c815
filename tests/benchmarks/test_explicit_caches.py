"""The benchmarks' caches are explicit objects: prepared scenarios, lesson runs, lesson truths."""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest

from tacebench.benchmarks import cohort_dgm, dgm
from tacebench.benchmarks.lessons import LESSONS, _core as core, lesson_module
from tacebench.benchmarks.lessons import worlds as lesson_worlds
from tacebench.simulate import CacheFileWarning, LRUCache, compile_plan

SMALL = Path(__file__).resolve().parents[1] / "simulate" / "specs" / "small.toml"


@pytest.fixture(scope="module")
def plan():
    return compile_plan(SMALL)


def test_no_hidden_memo_is_left():
    assert not hasattr(dgm, "_CACHE") and isinstance(dgm.DGM_CACHE, LRUCache)
    assert not isinstance(cohort_dgm._raw_spec, functools._lru_cache_wrapper)
    for name in LESSONS:
        compute = lesson_module(name).compute
        assert not hasattr(compute, "cache_info"), name


def test_lesson_runs_go_through_the_cache_passed():
    calls = []
    mine = LRUCache(max_size=1)
    run = lambda: calls.append(1) or len(calls)
    assert core.memo(mine, ("k", 1), run) == 1 and core.memo(mine, ("k", 1), run) == 1
    assert core.memo(None, ("k", 1), run) == 2                 # None: no cache
    assert core.memo(mine, ("k", 2), run) == 3 and len(mine) == 1   # bounded
    with pytest.raises(TypeError, match="LRUCache or None"):
        core.memo({}, ("k", 1), run)


def test_lesson_truths_are_not_on_disk_unless_a_folder_is_given(plan, tmp_path, monkeypatch):
    monkeypatch.setattr(lesson_worlds, "TRUTH_DIR", None)
    out = lesson_worlds.true_hrs(plan)
    assert out == lesson_worlds.true_hrs(plan, cache_dir=None)
    assert list(tmp_path.iterdir()) == []
    assert lesson_worlds.true_hrs(plan, cache_dir=tmp_path) == out
    path = tmp_path / f"truths-{plan.spec_hash}.json"
    assert json.loads(path.read_text()) == out
    assert lesson_worlds.true_hrs(plan, cache_dir=tmp_path) == out     # read back


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_a_corrupt_lesson_truth_file_warns_naming_it_then_recomputes(plan, tmp_path, content):
    path = tmp_path / f"truths-{plan.spec_hash}.json"
    path.write_text(content)
    with pytest.warns(CacheFileWarning, match=re.escape(str(path))):
        out = lesson_worlds.true_hrs(plan, cache_dir=tmp_path)
    assert out == lesson_worlds.true_hrs(plan, cache_dir=None)
    assert json.loads(path.read_text()) == out               # rewritten


def test_prepared_scenarios_use_the_cache_passed():
    from tacebench.benchmarks.study import load_study

    study = load_study(Path(__file__).with_name("data") / "variance.toml")
    s = study.scenarios[0]
    mine = LRUCache(max_size=1)
    first = dgm.prepared(study.fingerprint, s, cache=mine)
    assert dgm.prepared(study.fingerprint, s, cache=mine) is first and (mine.hits, mine.misses) == (1, 1)
    assert dgm.prepared(study.fingerprint, s, cache=None) is not first
    with pytest.raises(TypeError, match="LRUCache or None"):
        dgm.prepared(study.fingerprint, s, cache={})
