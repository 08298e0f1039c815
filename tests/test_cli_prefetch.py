"""tacebench.cli.prefetch and the replicate command's studies set up one ahead."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from tacebench.cli import main
from tacebench.cli.prefetch import StudyPrefetch

FICTIONAL = Path(__file__).parent / "replications" / "fictional_study"
FAST = ["--reps", "12", "--seed", "3", "--decompose-reps", "4", "--worlds", "none",
        "--max-reps", "12", "--format", "json", "--quiet"]


@pytest.mark.parametrize("ahead", [False, True])
def test_studies_come_in_order_with_their_errors(monkeypatch, ahead):
    from tacebench.cli import prefetch
    monkeypatch.setattr(prefetch, "load_study", lambda ref: ref if ref != "bad" else
                        (_ for _ in ()).throw(ValueError("no such study: bad")))
    threads, started = set(), []

    def setup(study, later=None):
        threads.add(threading.current_thread().name)
        started.append(study)
        if study == "boom":
            raise KeyError("boom")
        return f"set up {study}"

    studies = StudyPrefetch(["a", "bad", "b", "boom"], setup, ahead)
    try:
        assert studies.study(0) == "a"
        assert studies.setup(0, "a") == "set up a"
        with pytest.raises(ValueError, match="no such study: bad"):
            studies.study(1)
        assert studies.study(2) == "b" and studies.setup(2, "b") == "set up b"
        assert studies.study(3) == "boom"
        with pytest.raises(KeyError, match="boom"):
            studies.setup(3, "boom")
    finally:
        studies.close()
    assert started == ["a", "b", "boom"]          # each set up once, in order
    assert any(t.startswith("tacebench-setup") for t in threads) == ahead


def _copy(dest: Path, study_id: str) -> Path:
    """The fictional study under another id (two studies of one id are refused)."""
    shutil.copytree(FICTIONAL, dest)
    for name in ("cohort.toml", "targets.toml"):
        p = dest / name
        p.write_text(p.read_text().replace('id = "fictional_tace_lenvatinib"',
                                           f'id = "{study_id}"', 1))
    return dest


def test_replicate_with_workers_and_set_up_ahead_prints_the_same(tmp_path, capsys):
    bad = _copy(tmp_path / "bad", "fictional_bad")
    p = bad / "analysis.toml"
    p.write_text(p.read_text().replace('method = "psm"', 'method = "pms"'))
    studies = [str(FICTIONAL), str(bad), str(_copy(tmp_path / "again", "fictional_again"))]
    outs = []
    for jobs in ("1", "2"):
        assert main(["replicate", *studies, *FAST, "--n-jobs", jobs]) == 2
        data = json.loads(capsys.readouterr().out)
        for d in data:
            d.pop("elapsed_seconds", None)
        outs.append(data)
    assert outs[0] == outs[1]
    assert [bool(d.get("error")) for d in outs[1]] == [False, True, False]


@pytest.mark.parametrize("argv, n_jobs", [
    (["replicate"], 2), (["replicate", "x", "--n-jobs", "1"], 1),
    (["replicate", "--n-jobs=2", "x"], 2), (["replicate", "--n-jobs", "-1"], -1),
    (["replicate", "--n-jobs", "0"], None), (["replicate", "--n-jobs", "two"], None),
    (["replicate", "--n-jobs", "64"], 2)])
def test_first_look_reads_n_jobs_as_the_parser(monkeypatch, argv, n_jobs):
    from tacebench.cli import early
    monkeypatch.setattr(early.os, "cpu_count", lambda: 2)
    assert early._n_jobs(argv[1:]) == n_jobs


@pytest.mark.parametrize("argv", [
    ["study", "list"], ["study", "run", "default", "--backend", "dask"],
    ["study", "run", "default", "--backend=threading"], ["study", "run", "-h"],
    ["study", "run", "x", "--cluster", "jobs.toml"], ["study", "run", "x", "--n-jobs", "0"],
    ["replicate", "--audit-only"], ["replicate", "-h"], [], ["replicate", "--n-jobs", "1"]])
def test_workers_start_early_only_for_a_simulating_replicate_or_a_local_study_run(
        monkeypatch, argv):
    from tacebench.cli import early
    started = []
    # as the engine's: no workers for one job
    monkeypatch.setattr(early, "start_workers", lambda n, *a: started.append((n, *a)) or n != 1)
    assert early.start_early_workers(argv) is False
    assert started == [] or started[0][0] == 1
    assert early.start_early_workers(["replicate", "s"]) is True
    assert started[-1][1] == early.WORKER_MODULES
    assert early.start_early_workers(["study", "run", "x", "--backend", "loky"]) is True
    assert started[-1][1] == early.STUDY_WORKER_MODULES


@pytest.mark.parametrize("argv, prog", [
    (["replicate", "--reps", "1"], "tacebench replicate"),
    (["study", "run", "default", "--reps", "1"], "tacebench study run")])
def test_usage_error_after_an_early_start_prints_only_the_error(argv, prog):
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "tacebench", *argv],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].startswith(f"{prog}: error:")
    assert "UserWarning" not in run.stderr and "Traceback" not in run.stderr


def test_studies_are_set_up_ahead_without_waiting_for_the_runs(monkeypatch):
    from tacebench.cli import prefetch
    monkeypatch.setattr(prefetch, "load_study", lambda ref: ref)
    refs = [f"s{i}" for i in range(prefetch.AHEAD + 3)]
    started, pause = [], threading.Event()

    def setup(study, later=None):
        started.append(study)
        return study

    studies = StudyPrefetch(refs, setup, True)
    try:
        assert studies.setup(0, studies.study(0)) == "s0"
        # study 0 is taken and "runs": the thread goes on up to AHEAD studies beyond it
        for _ in range(500):
            if len(started) == prefetch.AHEAD + 2:
                break
            pause.wait(0.01)
        assert started == refs[:prefetch.AHEAD + 2]
    finally:
        studies.close()
