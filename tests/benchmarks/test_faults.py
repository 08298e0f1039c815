"""Real faults: the run's process killed with its workers left to fend for themselves, a
worker process killed mid-run (loky, and a Dask cluster's), an existing Dask scheduler
started by hand. Each run completes with the numbers of an uninterrupted run, nothing
duplicated, and the accounting covers every session."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from tacebench.benchmarks.runner import load_results, run_study
from tacebench.benchmarks.store import RunDirectory
from tacebench.benchmarks.study import load_study

from .conftest import TOY, first_reps

ROOT = Path(__file__).resolve().parents[2]
REPS = 20


def _slow_toy(tmp_path: Path, sleep: float) -> Path:
    path = tmp_path / "slow_toy.toml"
    path.write_text(TOY.read_text().replace("[dgm.fixed]\nn = 150",
                                            f"[dgm.fixed]\nn = 150\nsleep = {sleep}"))
    return path


def _wait_for_chunks(out: Path, n: int, proc=None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not ((out / "chunks").is_dir() and len(RunDirectory(out).chunks()) >= n):
        if time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
            raise AssertionError(f"fewer than {n} chunks in {out} after {timeout} s")
        time.sleep(0.02)


def _alive(procs) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _uninterrupted(study_file: Path, tmp_path: Path) -> pd.DataFrame:
    out = tmp_path / "uninterrupted"
    run_study(load_study(study_file), out, reps=REPS, n_jobs=1, progress=False)
    return load_results(out)[0]


@pytest.mark.parametrize("backend", ["loky", pytest.param("dask", marks=pytest.mark.slow)])
def test_killed_parent_leaves_no_orphans_and_the_resumed_run_accounts_for_all(tmp_path,
                                                                             backend):
    study_file = _slow_toy(tmp_path, sleep=0.03)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "tacebench", "study", "run", str(study_file), "--out", str(out),
           "--n-jobs", "2", "--chunk-size", "2", "--reps", str(REPS), "--no-progress",
           "--backend", backend]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _wait_for_chunks(out, 4, proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2      # the workers (and joblib's resource trackers)
        os.kill(proc.pid, signal.SIGKILL)   # the parent only, as `kill -9 PID` does
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 5
        while _alive(children) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _alive(children)
        assert not left, [" ".join(p.cmdline())[:100] for p in left]
    finally:
        for p in _alive(psutil.Process(proc.pid).children(recursive=True)
                        if proc.poll() is None else []):
            p.kill()
        if proc.poll() is None:
            proc.kill()
    n_before = sum(c.stop - c.start for c in RunDirectory(out).chunks())
    assert 0 < n_before < 4 * REPS

    resumed = subprocess.run(cmd + ["--resume"], cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    got = load_results(out)[0]
    assert not got.duplicated(["scenario_index", "rep", "method"]).any()
    pd.testing.assert_frame_equal(got, _uninterrupted(study_file, tmp_path), check_exact=True)

    sessions = json.loads((out / "sessions.json").read_text())
    assert [s["status"] for s in sessions] == ["interrupted", "completed"]
    assert sessions[0]["replicates_run"] == n_before and sessions[0]["estimated"]
    assert sessions[1]["replicates_run"] == 4 * REPS - n_before
    assert all(s["backend"] == backend and s["code_version"] for s in sessions)
    failures = int((~got["converged"]).sum())
    assert (f"whole run: {4 * REPS} replicates in 2 session(s) (1 interrupted), {4 * REPS} "
            "computed in" in resumed.stdout
            and f"; {failures} method fits failed" in resumed.stdout), resumed.stdout


def _kill_when(out: Path, n_chunks: int, pick, killed: list) -> threading.Thread:
    """Kill the process ``pick()`` returns once ``n_chunks`` chunks are on disk."""
    def run():
        _wait_for_chunks(out, n_chunks)
        victim = pick()
        killed.append(victim.pid)
        victim.kill()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _loky_worker() -> psutil.Process:
    workers = [p for p in psutil.Process().children()
               if "popen_loky" in " ".join(p.cmdline())]
    assert workers, "no loky worker to kill"
    return workers[0]


# loky may also say, of the worker we kill, that it "stopped while some jobs were given"
@pytest.mark.filterwarnings("ignore:A worker stopped while some jobs:UserWarning")
def test_a_loky_worker_killed_mid_run_is_survived(tmp_path):
    study_file = _slow_toy(tmp_path, sleep=0.03)
    study, out, killed = load_study(study_file), tmp_path / "run", []
    thread = _kill_when(out, 3, _loky_worker, killed)
    with pytest.warns(RuntimeWarning, match="worker process died"):
        report = run_study(study, out, reps=REPS, n_jobs=2, backend="loky", chunk_size=2,
                           progress=False)
    thread.join(5)
    assert killed
    assert report.replicates_run == 4 * REPS and report.whole_run.sessions == 1
    got = load_results(out)[0]
    assert not got.duplicated(["scenario_index", "rep", "method"]).any()
    pd.testing.assert_frame_equal(got, _uninterrupted(study_file, tmp_path), check_exact=True)


@pytest.mark.slow
def test_a_dask_worker_killed_mid_run_is_survived(tmp_path):
    distributed = pytest.importorskip("distributed")
    study_file = _slow_toy(tmp_path, sleep=0.03)
    study, out, killed = load_study(study_file), tmp_path / "run", []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        pids = [n.process.pid for n in cluster.workers.values()]
        thread = _kill_when(out, 3, lambda: psutil.Process(pids[0]), killed)
        report = run_study(study, out, reps=REPS, n_jobs=2, backend="dask", chunk_size=2,
                           scheduler=cluster.scheduler_address, progress=False)
        thread.join(5)
    assert killed == pids[:1]
    assert report.replicates_run == 4 * REPS
    got = load_results(out)[0]
    assert not got.duplicated(["scenario_index", "rep", "method"]).any()
    pd.testing.assert_frame_equal(got, _uninterrupted(study_file, tmp_path), check_exact=True)


def _scheduler_by_hand(tmp_path: Path, env: dict) -> tuple[str, list]:
    """A `dask scheduler` and a `dask worker` (2 processes) of their own; (address, procs)."""
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--scheduler-file", str(sched_file), "--no-dashboard",
                               "--port", "0"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    deadline = time.monotonic() + 60
    while not sched_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    address = json.loads(sched_file.read_text())["address"]
    procs.append(subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2",
         "--nthreads", "1", "--no-dashboard"], cwd=tmp_path, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return address, procs


def _end(procs) -> None:
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.mark.slow
def test_a_scheduler_lost_mid_run_stops_with_the_resume_command(tmp_path):
    """The scheduler started by hand dies mid-run: was a ~40-line FutureCancelledError
    traceback ("scheduler-connection-lost") and no way on."""
    pytest.importorskip("distributed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    address, procs = _scheduler_by_hand(tmp_path, env)
    out = tmp_path / "run"
    try:
        run = subprocess.Popen([sys.executable, "-m", "tacebench", "study", "run",
                                str(_slow_toy(tmp_path, 0.05)), "--out", str(out), "--reps",
                                "40", "--backend", "dask", "--scheduler", address,
                                "--chunk-size", "2", "--no-progress"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while len(list(out.glob("chunks/*.parquet"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        procs[0].kill()                                    # the scheduler
        _, err = run.communicate(timeout=120)
    finally:
        _end(procs)
    assert run.returncode == 1, err
    assert "Traceback" not in err, err
    assert "lost the connection to the Dask scheduler" in err
    assert f"--resume --reps 40 --backend dask --scheduler {address} --chunk-size 2" in err


@pytest.mark.slow
def test_an_existing_scheduler_started_by_hand(tmp_path, study, reference):
    """`dask scheduler` + `dask worker` in processes of their own, as on several machines;
    the CLI connects with --scheduler and gets the one-process numbers."""
    pytest.importorskip("distributed")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}   # workers import the toy mechanism
    address, procs = _scheduler_by_hand(tmp_path, env)
    try:
        out = tmp_path / "run"
        done = subprocess.run([sys.executable, "-m", "tacebench", "study", "run", str(TOY),
                               "--out", str(out), "--reps", "12", "--backend", "dask",
                               "--scheduler", address, "--no-progress"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        pd.testing.assert_frame_equal(load_results(out)[0], first_reps(reference, 12),
                                      check_exact=True)
        assert json.loads((out / "sessions.json").read_text())[0]["scheduler"] == address
    finally:
        _end(procs)