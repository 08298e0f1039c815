"""The ``tacebench`` parser imports only the sub-command a command line names."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tacebench.cli import COMMAND_MODULES, build_parser, chosen_module


@pytest.mark.parametrize("argv, module", [
    (["replicate", "x"], "replicate"), (["new-study", "a"], "new_study"),
    (["closed-loop"], "closed_loop"), (["study", "run", "default"], "study"),
    ([], None), (["--help"], None), (["--version"], None), (["replicat"], None),
    (["new_study", "a"], None), (["--", "replicate"], None), (["targets", "x"], None)])
def test_the_chosen_module_is_the_command_named_first(argv, module):
    assert chosen_module(argv) == module


@pytest.mark.parametrize("argv", [
    ["replicate", "a", "b", "--reps", "5", "--worlds", "none", "-q"],
    ["study", "run", "default", "--reps", "3"], ["new-study", "tace_x_2024", "--force"],
    ["simulate", "tace_regorafenib", "--n-cohorts", "2"], ["check", "a", "--quiet"],
    ["closed-loop", "--papers", "3"], ["report", "out"], ["migrate", "a", "--dry-run"],
    ["teach", "all", "--fast"], ["targets", "a"]])
def test_one_command_parses_as_with_every_command(argv):
    assert vars(build_parser(argv).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_every_command_is_listed_in_the_help():
    text = build_parser().format_help()
    assert all(name.replace("_", "-") in text for name in COMMAND_MODULES)


def test_replicate_does_not_import_the_other_commands():
    code = ("import sys; from tacebench.cli import build_parser; build_parser(['replicate']); "
            "print(sorted(m for m in ('pandas', 'tacebench.benchmarks', "
            "'tacebench.cli.teach', 'tacebench.cli.study') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
