"""Worker processes exit when their parent dies: a parent killed with SIGKILL leaves no
child behind; without the watchdog the same child outlives it (the test can fail)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from tacebench.engine import exit_with_parent

# The parent starts a child that (optionally) starts the watchdog, then prints its pid on
# the stdout it shares with the parent, and waits.
_PARENT = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1]])
time.sleep(120)
"""
_CHILD = """
import os, time
from tacebench.engine import exit_with_parent
if {watch}:
    assert exit_with_parent(0.1) and not exit_with_parent(0.1)   # once per process
print(os.getpid(), flush=True)
time.sleep(120)
"""


def _orphan_after_parent_killed(watch: bool) -> psutil.Process | None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, _CHILD.format(watch=watch)],
                              stdout=subprocess.PIPE, text=True)
    with parent.stdout:
        child = psutil.Process(int(parent.stdout.readline()))
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                return None
        except psutil.NoSuchProcess:
            return None
        time.sleep(0.05)
    return child


def test_a_child_exits_when_its_parent_is_killed():
    assert _orphan_after_parent_killed(watch=True) is None


def test_without_the_watchdog_the_child_is_left_behind():
    orphan = _orphan_after_parent_killed(watch=False)
    assert orphan is not None
    orphan.kill()


def test_the_interval_is_checked():
    with pytest.raises(ValueError, match="interval: must be a positive number of seconds; got 0"):
        exit_with_parent(0)


# A command's process: engine workers busy (map_calls, as every run_design) or only
# started (the warm-up of engine.start_workers, which replicate does first).
_COMMAND = """
import sys, time
from tacebench.engine import map_calls, start_workers

def busy(_):
    time.sleep(60)

if sys.argv[1] == "busy":  # one call for two workers: the other one never gets a call
    calls = map_calls([(busy, (0,))], n_jobs=2)
    print("ready", flush=True)
    next(calls)
else:
    start_workers(2, ())
    print("ready", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("state", ["busy", "warm"])
def test_engine_workers_end_with_a_killed_command(state):
    """Before, only the study runner's workers watched their parent: two loky workers of a
    kill -9ed closed-loop run went on working, orphaned. Then only a worker that had run a
    call watched: an idle one (no call yet, as here in the busy case) was left behind."""
    parent = subprocess.Popen([sys.executable, "-c", _COMMAND, state], stdout=subprocess.PIPE,
                              text=True)
    with parent.stdout:
        assert parent.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    workers = []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)   # (map_calls starts its workers as the first result is awaited)
        workers = [p for p in psutil.Process(parent.pid).children(recursive=True)
                   if "popen_loky" in " ".join(p.cmdline())]
    assert len(workers) == 2
    time.sleep(2)         # the workers take their first call (and start watching)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    gone, alive = psutil.wait_procs(workers, timeout=5)
    for p in alive:
        p.kill()
    assert alive == []
