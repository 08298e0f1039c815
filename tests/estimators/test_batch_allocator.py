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
