"""Whole-run accounting: sessions on record, a killed session closed by the next one with
what its chunks show, totals over every session."""
from __future__ import annotations

import os

from tacebench.benchmarks.sessions import finish_session, run_line, start_session, totals
from tacebench.benchmarks.store import RunDirectory


def _chunk(run: RunDirectory, start: int, stop: int, mtime: float) -> None:
    path = run.write_chunk(0, start, stop, {"rep": list(range(start, stop))})
    os.utime(path, (mtime, mtime))


def test_a_killed_session_is_closed_from_its_chunks_and_totals_cover_all(tmp_path):
    run = RunDirectory(tmp_path)
    first = start_session(run, backend="loky", code_version="v1", seed=7)
    t0 = first[-1]["started_unix"] = first[-1]["started_unix"] - 100   # began 100 s ago
    run.write_json("sessions.json", first)
    _chunk(run, 0, 5, t0 + 2.0)
    _chunk(run, 5, 10, t0 + 3.5)                 # then the process is killed
    second = start_session(run, backend="dask", code_version="v1", seed=7)
    assert second[0]["status"] == "interrupted" and second[0]["estimated"]
    assert second[0]["replicates_run"] == 10 and second[0]["elapsed"] == 3.5
    _chunk(run, 10, 30, second[-1]["started_unix"] + 1.0)
    finish_session(run, second, replicates_run=20, elapsed=4.0)
    third = start_session(run, backend="dask", code_version="v1", seed=7)
    finish_session(run, third, replicates_run=0, elapsed=0.5, error="WriteFailed: disk full")
    t = totals(run.read_json("sessions.json"))
    assert (t.sessions, t.interrupted, t.replicates_run, t.elapsed) == (3, 1, 30, 8.0)
    assert t.backends == ("loky", "dask") and t.code_versions == ("v1",)
    assert [s["status"] for s in run.read_json("sessions.json")] == [
        "interrupted", "completed", "stopped"]
    assert run.read_json("sessions.json")[2]["error"] == "WriteFailed: disk full"
    assert "3 session(s) (1 interrupted)" in run_line(run) and "30 replicates" in run_line(run)


def test_no_sessions_no_line(tmp_path):
    assert run_line(RunDirectory(tmp_path)) == ""


def test_a_session_still_running_counts_what_its_chunks_show(tmp_path):
    """A killed run's summary said "1 session(s) (0 interrupted) ... 0 replicates in 0 s"
    while its table held its replicates."""
    run = RunDirectory(tmp_path)
    first = start_session(run, backend="loky", code_version="v1", seed=7)
    t0 = first[-1]["started_unix"] = first[-1]["started_unix"] - 100
    run.write_json("sessions.json", first)
    _chunk(run, 0, 6, t0 + 2.0)
    _chunk(run, 6, 9, t0 + 4.0)                  # killed here, not yet resumed
    line = run_line(run, in_table=9)
    assert "1 session(s) (0 interrupted, 1 unfinished: running now or killed" in line, line
    assert ": 9 replicates in 4 s (sessions.json)." in line, line
    assert run.read_json("sessions.json")[0]["status"] == "running"   # only read
    assert "(3 more than the 6 of this table" in run_line(run, in_table=6)
