"""estimators.batch.allocator: the glibc thresholds are set once, can be turned off, and report
what they did."""
from __future__ import annotations

import subprocess
import sys

import pytest

CODE = ("from estimators.batch.allocator import tune_allocator, allocator_state as s; "
        "print(tune_allocator(), tune_allocator(), s())")


@pytest.mark.parametrize("env, expect", [("1", "True True glibc M_TRIM_THRESHOLD"),
                                         ("0", "False False defaults")])
def test_tune_allocator_in_a_fresh_process(env, expect):
    """Run in a subprocess: the thresholds are process-wide, so the test process keeps
    its own. Linux/glibc only (elsewhere tune_allocator is a no-op returning False)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc mallopt")
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         env={"TACEBENCH_MALLOC_TUNE": env, "PATH": ""}, check=True).stdout
    assert out.startswith(expect), out


TRIM = """
import gc, numpy as np
from tacebench.estimators.batch.allocator import tune_allocator, trim_if_grown, _resident_bytes
gc.disable()                      # the cycles below wait for trim_if_grown's collection
tune_allocator()
first = trim_if_grown(grown_mb=32)   # records the base size
class Node:
    pass
for _ in range(96):                  # 96 MB of 1 MB arrays, each held by a reference cycle
    n = Node(); n.me = n; n.data = np.ones(1 << 17)
del n
before = _resident_bytes()
trimmed = trim_if_grown(grown_mb=32, keep_mb=0)
released = (before - _resident_bytes()) >> 20
kept = [np.ones(1 << 17) for _ in range(48)]   # 48 MB more, in use: not 64 MB since the trim
print(first, trimmed, released, trim_if_grown(grown_mb=32, keep_mb=0, again_mb=64))
"""


@pytest.mark.parametrize("env", ["1", "0"])
def test_trim_if_grown_gives_memory_held_by_cycles_back(env):
    """A worker that has grown by more than ``grown_mb`` collects its reference cycles and
    returns the freed memory (the study runner's workers would otherwise be replaced by the
    pool as leaking); the first call only records the base; after a trim, only growth by
    ``again_mb`` since it trims again; off with the tuning."""
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc malloc_trim and /proc")
    out = subprocess.run([sys.executable, "-c", TRIM], capture_output=True, text=True,
                         env={"TACEBENCH_MALLOC_TUNE": env, "PATH": ""}, check=True).stdout
    first, trimmed, released, again = out.split()
    assert first == "False"
    if env == "0":
        assert trimmed == again == "False"
    else:
        assert trimmed == "True" and int(released) >= 64, out
        assert again == "False", out    # grown since the first call, not since the trim


WORKER = """
import gc, os, numpy as np
from tacebench.estimators.batch.allocator import WorkerAllocator, _STATE, _resident_bytes
gc.disable()
caller = WorkerAllocator(os.getpid())        # the pool's own process: tuned, never trimmed
caller.setup(); caller.upkeep()
untouched = "base_rss" not in _STATE
worker = WorkerAllocator(-1)                 # a worker process of another caller
worker.setup()                               # before its first chunk: the base size
class Node:
    pass
for _ in range(256):                         # a chunk's 256 MB, held by reference cycles
    n = Node(); n.me = n; n.data = np.ones(1 << 17)
del n
before = _resident_bytes()
worker.upkeep()                              # after the chunk
print(untouched, (before - _resident_bytes()) >> 20)
"""


def test_a_worker_gives_a_chunks_memory_back_before_the_pool_measures_it():
    """loky ends a worker that has grown by 300 MB since its first task, measured after
    each task: :class:`WorkerAllocator`'s upkeep (after each chunk) collects and trims once
    the worker has grown by more than 192 MB since its first chunk; the calling process
    itself is never trimmed."""
    if not sys.platform.startswith("linux"):
        pytest.skip("glibc malloc_trim and /proc")
    out = subprocess.run([sys.executable, "-c", WORKER], capture_output=True, text=True,
                         env={"TACEBENCH_MALLOC_TUNE": "1", "PATH": ""}, check=True).stdout
    untouched, released = out.split()
    assert untouched == "True"
    assert int(released) >= 100, out
