"""benchmarks.speed.cox_fit: CPU time of one Cox fit and of the AIPTW working models."""
from __future__ import annotations

import sys

from tacebench.benchmarks.speed import cox_fit


def test_worker_times_every_cell(monkeypatch):
    monkeypatch.setattr(cox_fit, "_aiptw_designs", lambda reps: [cox_fit._data(60, 4, True)])
    cells = cox_fit.worker(trials=1)
    assert len(cells) == 14 and all(v > 0 for v in cells.values())
    assert "fit_breslow_cox censoring n=423 p=21 (mean of 5)" in cells


def test_against_runs_both_versions_alternately(monkeypatch, capsys):
    runs = []

    class Done:
        stdout = '{"fit_cox n=200 p=10 efron": 400.0}'

    def fake_run(cmd, **kwargs):
        runs.append(cmd[0])
        return Done()

    monkeypatch.setattr(cox_fit.subprocess, "run", fake_run)
    assert cox_fit.main(["--against", "/other/python", "--rounds", "2"]) == 0
    assert runs == [sys.executable, "/other/python"] * 2
    assert "this/other 1.00" in capsys.readouterr().out
