"""One run at a time writes a run directory (benchmarks.run_lock)."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from tacebench.benchmarks.run_lock import LOCK_NAME, RunLocked, run_lock
from tacebench.benchmarks.runner import run_study

pytestmark = pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")

HOLD = """
import sys, time
from tacebench.benchmarks.run_lock import run_lock
with run_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@contextlib.contextmanager
def _holder(out):
    """Another process holding ``out``'s lock (until the block ends)."""
    with subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                          text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "held"
            yield proc
        finally:
            proc.kill()
            proc.wait()


def test_a_second_run_is_refused_naming_the_holder(study, tmp_path):
    with _holder(tmp_path) as proc:
        with pytest.raises(RunLocked, match=rf"another run \(process {proc.pid} on "):
            run_study(study, tmp_path, reps=2, progress=False)
    assert not (tmp_path / "manifest.json").exists()


def test_the_lock_ends_with_its_process_even_when_killed(study, tmp_path):
    with _holder(tmp_path) as proc:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    report = run_study(study, tmp_path, reps=2, progress=False)  # no stale lock to clean up
    assert report.replicates_run == report.replicates_total


def test_the_lock_is_released_when_the_run_ends_or_fails(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(RunLocked):  # (the same process, a second open: flock refuses it)
            with run_lock(tmp_path):
                pass
    with pytest.raises(ZeroDivisionError):
        with run_lock(tmp_path):
            1 / 0
    with run_lock(tmp_path):
        pass
    assert (tmp_path / LOCK_NAME).exists()  # left in place, unlocked


def test_the_refusal_waits_for_nothing(tmp_path):
    with _holder(tmp_path):
        t0 = time.perf_counter()
        with pytest.raises(RunLocked):
            with run_lock(tmp_path):
                pass
        assert time.perf_counter() - t0 < 5
