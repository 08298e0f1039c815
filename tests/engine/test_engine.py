"""tacebench.engine: one seed scheme, chunk planning, and results that never depend on how
the work was split (n_jobs, backend, chunk size, batch size)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.engine import (Cell, Chunk, ChunkResult, Design, batches, plan_chunks,
                              run_design, spawn_key, stream_seed)


def test_stream_seed_is_spawn_for_an_index_path():
    for root in (0, 7, 20240917):
        kids = np.random.SeedSequence(root).spawn(6)
        for r in range(6):
            assert (stream_seed(root, r).generate_state(4) == kids[r].generate_state(4)).all()


def test_stream_seed_names_enter_as_crc32():
    import zlib
    ss = stream_seed(3, "tace_sorafenib_ehs", 12, 0)
    assert ss.spawn_key == (zlib.crc32(b"tace_sorafenib_ehs"), 12, 0)
    assert ss.entropy == 3


@pytest.mark.parametrize("bad", [-1, 1.5, None, True])
def test_stream_seed_rejects_bad_parts(bad):
    with pytest.raises(ValueError, match="seed"):
        stream_seed(1, "a", bad)
    with pytest.raises(ValueError, match="seed"):
        stream_seed(bad, "a")


def test_distinct_paths_give_distinct_streams():
    keys = {spawn_key(p) for p in [("a", 0), ("a", 1), ("b", 0), ("a", 0, 1), (0,)]}
    assert len(keys) == 5


@settings(max_examples=60, deadline=None)
@given(reps=st.lists(st.integers(1, 30), min_size=1, max_size=4),
       chunk=st.integers(1, 9), holes=st.integers(0, 2 ** 30))
def test_plan_chunks_covers_exactly_the_missing_replicates(reps, chunk, holes):
    design = Design(tuple(Cell(i, f"c{i}", (f"c{i}",), n) for i, n in enumerate(reps)), 1)
    bits = np.random.default_rng(holes)
    done = {i: bits.random(n + 3) < 0.4 for i, n in enumerate(reps)}  # longer than reps: ok
    seen = set()
    for ch in plan_chunks(design, chunk, done):
        assert 0 < len(ch) <= chunk
        for r in ch.reps:
            assert (ch.cell, r) not in seen
            seen.add((ch.cell, r))
    expect = {(i, r) for i, n in enumerate(reps) for r in range(n) if not done[i][r]}
    assert seen == expect


def test_plan_chunks_goes_round_robin_over_cells():
    design = Design.of({"a": ("a",), "b": ("b",)}, 6, 0)
    cells = [c.cell for c in plan_chunks(design, 2)]
    assert cells == [0, 1, 0, 1, 0, 1]


def _draws(cell: Cell, chunk: Chunk, batch_size):
    """A toy task: each replicate's first three uniforms, batch by batch."""
    rows = []
    for batch in batches(chunk.reps, batch_size):
        for r in batch:
            rows.append(np.random.default_rng(cell.seed(7, r)).random(3))
    fails = {("toy", "odd replicate"): sum(r % 2 for r in chunk.reps)}
    return ChunkResult(chunk, np.array(rows), fails)


@pytest.mark.parametrize("kw", [
    dict(n_jobs=1), dict(n_jobs=1, chunk_size=1), dict(n_jobs=1, chunk_size=7, batch_size=2),
    dict(n_jobs=2, chunk_size=3), dict(n_jobs=2, backend="threading", chunk_size=4),
    dict(n_jobs=2, backend="multiprocessing", chunk_size=5, batch_size=1),
])
def test_results_do_not_depend_on_the_split(kw):
    design = Design.of({"a": ("a",), "b": ("b",), "c": ("c",)}, 11, 7)
    out = run_design(design, _draws, **kw)
    ref = [np.array([np.random.default_rng(c.seed(7, r)).random(3) for r in range(11)])
           for c in design.cells]
    for c in design.cells:
        assert np.array_equal(np.vstack(out.payloads(c.index)), ref[c.index])
    assert out.failures == {("toy", "odd replicate"): 3 * 5}
    assert out.replicates_run == 33


def test_chunk_results_compare_by_value():
    """Two runs of the same chunk are equal (payload arrays compared by value, NaN equal to
    NaN), a different payload, chunk or count is not, and ``==`` raises nothing."""
    design = Design.of({"a": ("a",)}, 6, 7)
    chunk, other_chunk = plan_chunks(design, 3)[:2]
    a, b = _draws(design.cells[0], chunk, None), _draws(design.cells[0], chunk, 2)
    assert a == b and not a != b
    payload = b.payload.copy()
    payload[0, 0] = np.nan
    assert ChunkResult(chunk, payload) == ChunkResult(chunk, payload.copy())
    assert a != ChunkResult(chunk, payload, b.failures)
    assert a != ChunkResult(chunk, b.payload, {("toy", "odd replicate"): 0})
    assert a != ChunkResult(chunk, b.payload, b.failures, {"a note": 1})
    assert a != ChunkResult(other_chunk, b.payload, b.failures)
    assert a != (chunk, b.payload) and not a == None  # noqa: E711
    assert run_design(design, _draws).results == run_design(design, _draws).results


def _late_first(cell: Cell, chunk: Chunk, batch_size):
    """A task whose earlier chunks finish later, each with notes of its own."""
    time.sleep(0.05 * (3 - chunk.start))
    return ChunkResult(chunk, None, {(f"key{chunk.start}", "why"): 1},
                       {f"note {chunk.start}": 1, "shared": 1})


def test_counts_come_in_design_order_whatever_order_the_chunks_finish():
    out = run_design(Design.of({"a": ("a",)}, 4, 0), _late_first, n_jobs=4,
                     backend="threading", chunk_size=1)
    assert list(out.notes) == ["note 0", "shared", "note 1", "note 2", "note 3"]
    assert out.notes["shared"] == 4
    assert list(out.failures) == [(f"key{i}", "why") for i in range(4)]


def test_done_replicates_are_not_rerun_and_the_sink_sees_each_chunk():
    design = Design.of({"a": ("a",)}, 10, 7)
    seen = []
    out = run_design(design, _draws, chunk_size=3, done={0: np.arange(10) < 4},
                     sink=lambda res: seen.append((res.chunk.start, res.chunk.stop)))
    assert sorted(seen) == [(4, 7), (7, 10)]
    assert out.replicates_run == 6


@pytest.mark.parametrize("kw, match", [
    (dict(n_jobs=0), "n_jobs"), (dict(n_jobs=-3), "n_jobs"), (dict(backend="mpi"), "backend"),
    (dict(scheduler="tcp://x:1"), "scheduler"), (dict(batch_size=0), "batch_size"),
    (dict(chunk_size=0), "chunk_size")])
def test_bad_arguments_name_themselves(kw, match):
    with pytest.raises(ValueError, match=match):
        run_design(Design.of({"a": ("a",)}, 3, 0), _draws, **kw)


def test_a_failing_task_names_its_cell_and_replicates():
    with pytest.raises(RuntimeError, match=r"'a' replicates \[0, 3\)"):
        run_design(Design.of({"a": ("a",)}, 3, 0), _Boom(), n_jobs=2, backend="threading")


class _Boom:
    def __call__(self, cell, chunk, batch_size):
        raise ZeroDivisionError("x")


def test_an_unreachable_scheduler_is_named_not_a_traceback():
    pytest.importorskip("distributed")
    import dask

    from tacebench.engine import SchedulerUnreachable, map_calls

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(SchedulerUnreachable, match="tcp://127.0.0.1:1"):
            list(map_calls([(abs, (-1,))], n_jobs=2, backend="dask",
                           scheduler="tcp://127.0.0.1:1"))


@pytest.mark.parametrize("address", ["notanaddress", "tcp://host", "tcp://host:port",
                                     "http://host:8786", "tcp://:8786"])
def test_a_scheduler_address_of_the_wrong_form_is_refused_up_front(address):
    """"notanaddress" reached Dask, whose "missing port number" was then reported as the
    generator's failure."""
    from tacebench.engine import check_options

    with pytest.raises(ValueError, match=f"^scheduler: '{address}'"):
        check_options(2, "dask", address)


@pytest.mark.parametrize("address", ["tcp://10.0.0.1:8786", "10.0.0.1:8786", "tls://[::1]:8786",
                                     "inproc://10.0.0.1/123/1"])
def test_a_scheduler_address_of_dasks_forms_is_taken(address):
    from tacebench.engine import check_options, scheduler_problem

    assert scheduler_problem(address) == ""
    check_options(2, "dask", address)


def test_a_scheduler_lost_mid_run_stops_the_run_with_its_reason():
    """A scheduler gone mid-run ended the command in a 40-line FutureCancelledError
    traceback ("scheduler-connection-lost") that the CLI did not catch."""
    distributed = pytest.importorskip("distributed")
    from distributed.client import FutureCancelledError
    from distributed.comm import CommClosedError

    from tacebench.engine import SchedulerUnreachable
    from tacebench.engine.run import _dask

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        for lost in (FutureCancelledError("batch-1", "scheduler-connection-lost"),
                     CommClosedError("in <TCPConnector>: ConnectionRefusedError")):
            with pytest.raises(SchedulerUnreachable,
                               match=r"lost the connection to the Dask scheduler .* mid-run"):
                with _dask(cluster.scheduler_address, 1):
                    raise lost


def _has_own_client() -> bool:
    import distributed

    try:
        distributed.default_client()
    except ValueError:  # "No clients found"
        return False
    return True


def test_dask_workers_open_no_client_of_their_own():
    """Through joblib's Dask backend each worker opened a client of its own to the
    scheduler (its batches run under parallel_config(backend="dask")); left to the garbage
    collector after the cluster closed, it now and then printed a traceback ("IOLoop is
    closed") after Ctrl-C. The tasks are submitted by the command's client alone."""
    pytest.importorskip("distributed")
    from tacebench.engine import map_calls

    got = list(map_calls([(_has_own_client, ())] * 4, n_jobs=2, backend="dask"))
    assert got == [False] * 4


def test_a_local_dask_cluster_is_closed_before_the_command_ends(tmp_path):
    """The LocalCluster of ``--backend dask`` was left to distributed's exit hook, which
    printed 22 INFO lines of its scheduler and nannies after the command's own output.
    (The toy study of the benchmark tests, whose generator is importable from the
    project root: with the shipped study iptw_variance this test took 28 s, with the toy
    14 s, one after the other.)"""
    pytest.importorskip("distributed")
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    toy = root / "tests" / "benchmarks" / "data" / "toy.toml"
    done = subprocess.run([sys.executable, "-m", "tacebench", "study", "run", str(toy),
                           "--reps", "2", "--backend", "dask", "--n-jobs", "2", "--out",
                           str(tmp_path / "run"), "--no-progress"],
                          capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr
    assert "distributed." not in done.stderr, done.stderr


class _Log:
    """An initializer, upkeep and task that log what ran, per thread (the threading backend
    runs them in this process, so one list sees every worker)."""

    def __init__(self, fail_at: int | None = None):
        self.events, self.fail_at = [], fail_at

    def init(self):
        self.events.append((threading.get_ident(), "init"))

    def upkeep(self):
        self.events.append((threading.get_ident(), "upkeep"))

    def task(self, cell, chunk, batch_size):
        self.events.append((threading.get_ident(), "task"))
        if chunk.start == self.fail_at:
            raise ZeroDivisionError("x")
        return ChunkResult(chunk, None)


def test_a_workers_initializer_runs_before_each_chunk_and_its_upkeep_after():
    """Each chunk in a worker is init, task, upkeep (the upkeep also after a failing task:
    its memory is given back before the pool measures the worker); inline runs neither."""
    log = _Log()
    run_design(Design.of({"a": ("a",)}, 6, 0), log.task, n_jobs=2, backend="threading",
               chunk_size=1, initializer=log.init, upkeep=log.upkeep)
    per_thread: dict = {}
    for ident, what in log.events:
        per_thread.setdefault(ident, []).append(what)
    assert sum(len(v) for v in per_thread.values()) == 18
    for seq in per_thread.values():
        assert seq == ["init", "task", "upkeep"] * (len(seq) // 3), seq
    failing = _Log(fail_at=0)
    with pytest.raises(RuntimeError, match=r"'a' replicates \[0, 1\)"):
        run_design(Design.of({"a": ("a",)}, 1, 0), failing.task, n_jobs=2,
                   backend="threading", initializer=failing.init, upkeep=failing.upkeep)
    assert [w for _, w in failing.events] == ["init", "task", "upkeep"]
    inline = _Log()
    run_design(Design.of({"a": ("a",)}, 3, 0), inline.task, chunk_size=1,
               initializer=inline.init, upkeep=inline.upkeep)
    assert [w for _, w in inline.events] == ["task"] * 3
