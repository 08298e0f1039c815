"""The test run itself: CI runs the README's test command, in one process per core."""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import MAX_TEST_PROCESSES

ROOT = Path(__file__).resolve().parents[2]


def _readme_test_command() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("Install and run the tests:", 1)[1].split("```bash", 1)[1]
    line = block.split("```", 1)[0].strip()
    install, _, test = line.partition(" && ")
    assert install.startswith("pip install -e '.[test]'"), line
    return shlex.split(test)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    runs = [shlex.split(ln) for ln in ci.splitlines() if re.match(r"python -m pytest\b", ln)]
    assert runs == [_readme_test_command()]
    assert "-n" in runs[0] and runs[0][runs[0].index("-n") + 1] == "auto"


@pytest.mark.parametrize("cores, expected", [(1, 1), (2, 2), (5, 5), (64, MAX_TEST_PROCESSES)])
def test_auto_starts_one_test_process_per_usable_core_up_to_the_cap(
        pytestconfig, monkeypatch, cores, expected):
    if not pytestconfig.pluginmanager.hasplugin("xdist"):
        pytest.skip("pytest-xdist is not installed (the test extra installs it)")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert pytestconfig.hook.pytest_xdist_auto_num_workers(config=pytestconfig) == expected
