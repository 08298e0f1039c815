"""tacebench.engine.blas: every computation runs with one BLAS thread, so numbers do not
depend on n_jobs (OpenBLAS adds partial sums in an order set by its thread count, and the
plan solvers amplify that last-bit difference)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import tacebench.api
from tacebench.engine import (Design, blas_threads, map_calls, run_design, set_blas_threads,
                              single_threaded_blas)
from tacebench.engine.run import ChunkResult

pytestmark = pytest.mark.skipif(not blas_threads(), reason="no OpenBLAS thread API here")


@pytest.fixture
def two_threads():
    before = blas_threads()
    set_blas_threads(2)
    yield
    for n in set(before.values()):
        set_blas_threads(n)


def _threads() -> set[int]:
    return set(blas_threads().values())


def test_the_context_sets_one_thread_and_restores_the_count(two_threads):
    with single_threaded_blas():
        assert _threads() == {1}
    assert _threads() == {2}


def test_blocks_of_two_threads_hold_one_thread_until_the_last_closes(two_threads):
    # the caller's block opens first and closes first, while the other thread's block (a
    # set-up running beside the caller's run) still computes
    opened, closed, seen = threading.Event(), threading.Event(), []

    def set_up():
        with single_threaded_blas():
            opened.set()
            closed.wait(10)
            seen.append(_threads())

    thread = threading.Thread(target=set_up)
    with single_threaded_blas():
        thread.start()
        assert opened.wait(10)
    closed.set()
    thread.join(10)
    assert seen == [{1}]
    assert _threads() == {2}   # restored by the last block to close


def test_nested_blocks_restore_the_count_once_all_are_closed(two_threads):
    with single_threaded_blas():
        with single_threaded_blas():
            assert _threads() == {1}
        assert _threads() == {1}
    assert _threads() == {2}


def _report(cell, chunk, batch_size):
    return ChunkResult(chunk, _threads())


@pytest.mark.parametrize("n_jobs, backend", [(1, None), (2, "threading"), (2, "loky")])
def test_every_chunk_runs_with_one_thread_inline_or_in_a_worker(two_threads, n_jobs, backend):
    out = run_design(Design.of({"a": ("a",)}, 6, seed=1), _report, n_jobs=n_jobs,
                     backend=backend, chunk_size=2)
    assert [p for p in out.payloads()] == [{1}] * 3
    assert _threads() == {2}  # the caller's count is back


def test_set_up_calls_run_with_one_thread(two_threads):
    assert list(map_calls([(_threads, ())] * 2)) == [{1}, {1}]
    assert _threads() == {2}


def test_simulate_cohorts_compiles_its_plan_with_one_thread(two_threads, monkeypatch):
    seen = []
    compile_plan = tacebench.api.compile_plan

    def spy(*args, **kwargs):
        seen.append(_threads())
        return compile_plan(*args, **kwargs)

    monkeypatch.setattr(tacebench.api, "compile_plan", spy)
    tacebench.api.simulate_cohorts("tace_regorafenib", n_cohorts=1, seed=3)
    assert seen == [{1}]
    assert _threads() == {2}


def test_the_public_compile_plan_runs_with_one_thread(two_threads, monkeypatch):
    import tacebench.simulate as simulate
    seen = []
    compile_plan = simulate.compile_plan

    def spy(*args, **kwargs):
        seen.append(_threads())
        return compile_plan(*args, **kwargs)

    monkeypatch.setattr(tacebench.api, "_compile_plan", spy)
    tacebench.api.compile_plan("tace_regorafenib")
    assert seen == [{1}]
    assert _threads() == {2}


def test_a_scenarios_truths_and_its_generator_run_with_one_thread(two_threads, monkeypatch):
    # called outside a study run (the Python API), a seed-000 truth moved by 2.4e-11
    # relative between one BLAS thread and the machine's default
    from tacebench.benchmarks import dgm, truths
    from tacebench.benchmarks.study import load_study

    study = load_study("default")
    seen = []
    monkeypatch.setattr(dgm, "DGM_CACHE", dgm.LRUCache(max_size=4))  # prepared afresh
    monkeypatch.setattr(dgm, "_prepare", lambda sc: seen.append(("prepare", _threads())) or
                        dgm.PreparedDGM(None, lambda e, s: seen.append(("truth", _threads()))
                                        or 0.0))
    truths.scenario_truths(study, 0)
    assert {kind for kind, _ in seen} == {"prepare", "truth"}
    assert {frozenset(t) for _, t in seen} == {frozenset({1})}
    assert _threads() == {2}


@pytest.mark.slow
def test_a_study_draws_the_same_cohorts_whatever_the_callers_threads():
    # seed 000's plan moved by up to 1.7e-10 in its survival times between one and two
    # BLAS threads before every computation ran with one
    from tacebench.simulate.cache import PlanCache, default_plan_cache, set_default_plan_cache

    frames = []
    saved = default_plan_cache()
    try:
        for n in (1, 2):
            set_default_plan_cache(PlanCache())  # compile again, not from memory
            set_blas_threads(n)
            frames.append(tacebench.api.simulate_cohorts("tace_sorafenib_ehs", seed=5)[0]
                          .to_frame())
    finally:
        set_default_plan_cache(saved)
        set_blas_threads(1)
    a, b = frames
    for col in a.columns:
        if a[col].dtype.kind in "fiu":
            assert np.array_equal(a[col].to_numpy(), b[col].to_numpy(), equal_nan=True), col
