"""The timeline tool's reading of traced events: spans per process and cores in use."""
from __future__ import annotations

import pytest

from tacebench.benchmarks.speed.timeline import busy, read_events, spans, summary


def _write(folder, pid, rows):
    (folder / f"{pid}.txt").write_text(
        "".join("\t".join(map(str, r)) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def traced(tmp_path):
    # main: one span of 1 s at full CPU; a worker: half a core for 2 s, one chunk
    _write(tmp_path, 10, [(100.0, 0.0, "MainThread", "I", "start", "tacebench replicate"),
                          (100.0, 0.0, "MainThread", "B", "set_up", "s1"),
                          (101.0, 1.0, "MainThread", "E", "set_up", "s1"),
                          (102.0, 1.0, "sampler", "S", "cpu", "")])
    _write(tmp_path, 11, [(100.1, 0.0, "MainThread", "I", "start", "-m loky"),
                          (100.5, 0.25, "MainThread", "B", "_in_worker", "s1[0,5)"),
                          (102.0, 1.0, "MainThread", "E", "_in_worker", "s1[0,5)")])
    return tmp_path


def test_spans_pair_begin_and_end(traced):
    procs = read_events(traced)
    assert spans(procs[10], 100.0) == [(0.0, 1.0, "MainThread", "set_up", "s1")]
    assert spans(procs[11], 100.0) == [(0.5, 2.0, "MainThread", "_in_worker", "s1[0,5)")]


def test_cores_in_use_add_up_to_the_cpu_clocks(traced):
    use = busy(read_events(traced), 10, 100.0, 1.0)
    assert use[0] == pytest.approx((1.0, 0.5)) and use[1] == pytest.approx((0.0, 0.5))
    assert sum(m + w for m, w in use) == pytest.approx(2.0)


def test_summary_names_the_main_process_and_the_idle_cores(traced):
    text = summary(traced, 1.0)
    assert "main: +0.00 to +2.00 s, 1.00 s CPU" in text
    assert "idle core-seconds of 2 cores: 2.00" in text
