"""Explicit caches of simulate: PlanCache (memory LRU + opt-in disk), the truth cache."""
from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tacebench import simulate
from tacebench.simulate import cache as cache_mod
from tacebench.simulate.cache import (CODE_FINGERPRINT, CacheFileWarning, LRUCache, PlanCache,
                                      source_fingerprint)

SIMULATE_DIR = Path(cache_mod.__file__).resolve().parent


def _same_cohort(a, b, seed=3):
    ca, cb = simulate.generate_cohort(a, seed=seed), simulate.generate_cohort(b, seed=seed)
    assert ca.columns.keys() == cb.columns.keys()
    for k in ca.columns:
        np.testing.assert_array_equal(ca.columns[k], cb.columns[k], err_msg=k)


def test_memory_hit_and_miss(small_spec_path):
    cache = PlanCache(max_size=4)
    assert cache.disk_dir is None and len(cache) == 0
    first = simulate.compile_plan(small_spec_path, cache=cache)
    assert (cache.misses, cache.hits, len(cache)) == (1, 0, 1)
    again = simulate.compile_plan(small_spec_path, cache=cache)
    assert again is first and (cache.misses, cache.hits) == (1, 1)
    # a cached plan is the plan a fresh compile gives: same cohorts, bit for bit
    fresh = simulate.compile_plan(small_spec_path, cache=None)
    assert fresh is not first and fresh.spec_hash == first.spec_hash
    _same_cohort(first, fresh)
    cache.clear()
    assert len(cache) == 0


def test_memory_layer_is_a_bounded_lru():
    cache = PlanCache(max_size=2)
    calls = []

    def compile_(name):
        def run():
            calls.append(name)
            return name
        return run

    for name in ("a", "b", "a", "c"):  # "a" used last before "c": "b" is the one dropped
        cache.get_or_compile(name, compile_(name))
    assert calls == ["a", "b", "c"] and len(cache) == 2
    cache.get_or_compile("a", compile_("a"))
    assert calls == ["a", "b", "c"]
    cache.get_or_compile("b", compile_("b"))
    assert calls == ["a", "b", "c", "b"] and len(cache) == 2
    assert PlanCache().max_size == PlanCache.DEFAULT_MAX_SIZE == 64
    with pytest.raises(ValueError, match="max_size"):
        LRUCache(0)


def test_lru_cache_counts_and_evicts():
    c = LRUCache(max_size=2)
    assert c.get_or_compute("x", lambda: 1) == 1
    assert c.get_or_compute("x", lambda: 2) == 1
    c.put("y", 2)
    c.put("z", 3)
    assert "x" not in c and len(c) == 2 and (c.hits, c.misses) == (1, 1)


def test_cache_none_compiles_afresh_and_bad_caches_are_rejected(small_spec_path):
    a = simulate.compile_plan(small_spec_path, cache=None)
    b = simulate.compile_plan(small_spec_path, cache=None)
    assert a is not b
    with pytest.raises(TypeError, match="PlanCache or None"):
        simulate.compile_plan(small_spec_path, cache=False)
    with pytest.raises(TypeError, match="PlanCache"):
        simulate.set_default_plan_cache({})


def test_default_cache_is_an_explicit_replaceable_object(small_spec_path):
    mine = PlanCache(max_size=1)
    old = simulate.set_default_plan_cache(mine)
    try:
        assert simulate.default_plan_cache() is mine
        plan = simulate.compile_plan(small_spec_path)
        assert mine.misses == 1 and simulate.compile_plan(small_spec_path) is plan
    finally:
        assert simulate.set_default_plan_cache(old) is mine
    assert simulate.default_plan_cache() is old


def test_disk_layer_round_trip(small_spec_path, tmp_path):
    first = PlanCache(disk_dir=tmp_path)
    plan = simulate.compile_plan(small_spec_path, cache=first)
    path = first.path(plan.spec_hash)
    assert path.is_file() and path.name == f"{plan.spec_hash}-{CODE_FINGERPRINT}.pkl"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    second = PlanCache(disk_dir=tmp_path)
    loaded = simulate.compile_plan(small_spec_path, cache=second)
    assert (second.disk_hits, second.misses) == (1, 0) and loaded is not plan
    _same_cohort(plan, loaded)


def test_a_changed_code_fingerprint_forces_a_recompute(small_spec_path, tmp_path):
    old = PlanCache(disk_dir=tmp_path, fingerprint="old-code")
    simulate.compile_plan(small_spec_path, cache=old)
    same = PlanCache(disk_dir=tmp_path, fingerprint="old-code")
    simulate.compile_plan(small_spec_path, cache=same)
    assert (same.disk_hits, same.misses) == (1, 0)
    new = PlanCache(disk_dir=tmp_path, fingerprint="new-code")
    simulate.compile_plan(small_spec_path, cache=new)
    assert (new.disk_hits, new.misses) == (0, 1)
    assert len(list(tmp_path.glob("*.pkl"))) == 2


def test_code_fingerprint_covers_the_simulate_sources(tmp_path):
    assert PlanCache().fingerprint == CODE_FINGERPRINT == source_fingerprint(SIMULATE_DIR)
    copy = tmp_path / "simulate"
    shutil.copytree(SIMULATE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_fingerprint(copy) == CODE_FINGERPRINT
    with open(copy / "cohort.py", "a") as fh:
        fh.write("\n# an edit\n")
    assert source_fingerprint(copy) != CODE_FINGERPRINT
    (copy / "cohort.py").unlink()
    assert source_fingerprint(copy) != CODE_FINGERPRINT


@pytest.mark.parametrize("content", [b"not a pickle", b"", pickle.dumps({"spec_hash": "x"})[:-3]])
def test_a_corrupt_cache_file_warns_naming_it_then_recomputes(small_spec_path, tmp_path, content):
    plan = simulate.compile_plan(small_spec_path, cache=PlanCache(disk_dir=tmp_path))
    path = PlanCache(disk_dir=tmp_path).path(plan.spec_hash)
    path.write_bytes(content)
    cache = PlanCache(disk_dir=tmp_path)
    with pytest.warns(CacheFileWarning, match=re.escape(str(path))) as rec:
        again = simulate.compile_plan(small_spec_path, cache=cache)
    assert rec[0].message.path == path
    assert (cache.disk_hits, cache.misses) == (0, 1)
    _same_cohort(plan, again)
    # the recomputed plan was written back: the next cache reads it without a warning
    fresh = PlanCache(disk_dir=tmp_path)
    simulate.compile_plan(small_spec_path, cache=fresh)
    assert (fresh.disk_hits, fresh.misses) == (1, 0)


def test_a_cache_file_holding_another_object_warns(small_spec_path, tmp_path):
    cache = PlanCache(disk_dir=tmp_path)
    h = simulate.load_spec(small_spec_path).cohort(None)
    path = cache.path(simulate.spec_hash(h))
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.warns(CacheFileWarning, match="does not hold the plan"):
        simulate.compile_plan(small_spec_path, cache=cache)
    assert cache.misses == 1


def test_an_unwritable_cache_folder_warns_and_still_returns_the_plan(small_spec_path, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    cache = PlanCache(disk_dir=blocker / "plans")
    with pytest.warns(CacheFileWarning) as rec:
        plan = simulate.compile_plan(small_spec_path, cache=cache)
    messages = [str(w.message) for w in rec]
    assert any("cannot be opened" in m for m in messages)   # reading: reported, not skipped
    assert any("cannot be written" in m for m in messages)
    assert all(str(blocker) in m for m in messages)
    assert simulate.compile_plan(small_spec_path, cache=cache) is plan  # memory still works


def test_disk_cache_is_off_unless_a_folder_is_given(monkeypatch, tmp_path):
    monkeypatch.delenv("TACEBENCH_CACHE_DIR", raising=False)
    assert PlanCache().disk_dir is None and PlanCache.from_env().disk_dir is None
    monkeypatch.setenv("TACEBENCH_CACHE_DIR", str(tmp_path))
    assert PlanCache.from_env().disk_dir == tmp_path / "simulate"


def test_nothing_is_written_under_home_by_default(small_spec_path, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("TACEBENCH_CACHE_DIR", "TACEBENCH_CACHE", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), MPLCONFIGDIR=str(tmp_path / "mpl"))
    code = ("import sys; from tacebench import simulate;"
            "p = simulate.compile_plan(sys.argv[1]);"
            "simulate.true_estimands(p, n_subjects=500);"
            "assert simulate.default_plan_cache().disk_dir is None;"
            "print(simulate.default_plan_cache().misses)")
    proc = subprocess.run([sys.executable, "-W", "error", "-c", code, str(small_spec_path)],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1"
    assert [p for p in home.rglob("*")] == []


def test_truth_cache_is_explicit_and_changes_no_number(small_plan):
    mine = LRUCache(max_size=1)
    a = simulate.true_estimands(small_plan, n_subjects=800, cache=mine)
    assert (mine.hits, mine.misses) == (0, 1)
    assert simulate.true_estimands(small_plan, n_subjects=800, cache=mine) is a
    assert mine.hits == 1
    fresh = simulate.true_estimands(small_plan, n_subjects=800, cache=None)
    assert fresh is not a and fresh == a
    simulate.true_estimands(small_plan, n_subjects=900, cache=mine)
    assert len(mine) == 1  # bounded
    with pytest.raises(TypeError, match="LRUCache or None"):
        simulate.true_estimands(small_plan, n_subjects=800, cache={})


def test_lru_cache_pickles_with_its_entries_and_a_lock_of_its_own():
    cache = LRUCache(max_size=3)
    cache.put("a", 1)
    copy = pickle.loads(pickle.dumps(cache))
    assert copy.get("a") == 1 and copy._lock is not cache._lock
    copy.put("b", 2)
    assert "b" not in cache


def test_lru_cache_value_found_is_returned_though_another_thread_evicts_it_meanwhile():
    """Deterministic form of the race: the look-up finds the key, then (while it is between
    finding and reading) another thread inserts two keys into a cache of one. Without the
    lock the read misses and returns None; with it the other thread waits."""
    import threading
    from collections import OrderedDict

    go, done = threading.Event(), threading.Event()

    class Racing(OrderedDict):
        armed = True

        def __contains__(self, key):
            found = super().__contains__(key)
            if found and Racing.armed:
                Racing.armed = False
                go.set()
                done.wait(timeout=0.5)    # with the lock held, the evictor cannot finish
            return found

    cache = LRUCache(max_size=1)
    cache.put("k", "value of k")
    cache._data = Racing(cache._data)

    def evict():
        go.wait(timeout=5)
        cache.put("x", 1)
        cache.put("y", 2)
        done.set()

    t = threading.Thread(target=evict)
    t.start()
    got = cache.get_or_compute("k", lambda: "recomputed")
    t.join()
    assert got == "value of k"
    assert len(cache) == 1
