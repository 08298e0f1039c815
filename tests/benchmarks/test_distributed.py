"""``tacebench study run --cluster FILE``: the cluster a config describes is started for the
run, gives the one-process numbers, and is closed after it."""
from __future__ import annotations

import pandas as pd
import pytest

from tacebench.benchmarks.runner import load_results
from tacebench.cli import main

from .conftest import TOY, first_reps

LOCAL = """
[cluster]
kind = "local"
jobs = 2

[cluster.options]
n_workers = 0
processes = false
threads_per_worker = 1
dashboard_address = ":0"
"""


def test_cli_runs_on_the_cluster_of_a_config_file(tmp_path, reference, capsys):
    pytest.importorskip("distributed")
    config = tmp_path / "cluster.toml"
    config.write_text(LOCAL)
    out = tmp_path / "run"
    assert main(["study", "run", str(TOY), "--reps", "6", "--out", str(out), "--cluster",
                 str(config), "--chunk-size", "2", "--no-progress"]) == 0
    assert "24 replicates run" in capsys.readouterr().out
    pd.testing.assert_frame_equal(load_results(out)[0], first_reps(reference, 6),
                                  check_exact=True)


def test_cli_cluster_excludes_scheduler_and_names_bad_files(tmp_path, capsys):
    config = tmp_path / "cluster.toml"
    config.write_text(LOCAL.replace('"local"', '"mainframe"'))
    assert main(["study", "run", str(TOY), "--out", str(tmp_path / "a"), "--cluster",
                 str(config)]) == 2
    assert "cluster.toml: cluster.kind must be one of" in capsys.readouterr().err
    assert main(["study", "run", str(TOY), "--out", str(tmp_path / "b"), "--cluster",
                 str(config), "--scheduler", "tcp://x:1"]) == 2
    assert "cannot be combined with --scheduler" in capsys.readouterr().err
