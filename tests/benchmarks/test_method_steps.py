"""benchmarks.speed.method_steps: per-step CPU time of the matching methods and AIPTW RMST."""
from __future__ import annotations

from tacebench.benchmarks.speed.method_steps import main, step_costs
from tacebench.benchmarks.study import load_study


def test_every_method_reports_its_steps():
    study = load_study("default")
    s = next(sc for sc in study.scenarios if sc.name == "s004_matching_discards[imbalance=1.0]")
    costs = step_costs(study, s.index, reps=1, repeat=1)
    assert set(costs["optimal_match"]) == {"PS model", "optimal pairs",
                                           "matched Cox (cluster SE)"}
    assert {"outcome Cox", "censoring Cox", "AIPTW arms (every event time)"} <= set(
        costs["aiptw_rmst (3 rows)"])
    assert all(v > 0 for steps in costs.values() for v in steps.values())
    assert set(costs["psm"]) == {"PS model", "greedy match", "matched Cox (cluster SE)",
                                 "balance columns (unmatched sample)",
                                 "SMDs of the matched sample"}


def test_every_pass_fits_the_ps_model_afresh(monkeypatch):
    """No step is read from the replicate's store of shared fits: each of the 3 passes of
    the 3 methods with a PS model (IPTW, PSM, optimal matching) fits it."""
    from tacebench.benchmarks.methods import _common

    calls = []
    real = _common._fit_propensity
    monkeypatch.setattr(_common, "_fit_propensity", lambda *a: calls.append(1) or real(*a))
    study = load_study("default")
    s = next(sc for sc in study.scenarios if sc.name == "s004_matching_discards[imbalance=1.0]")
    step_costs(study, s.index, reps=1, repeat=3)
    assert len(calls) == 9


def test_the_aiptw_floor_is_set_against_iptw(capsys):
    assert main(["default", "--scenario", "9", "--reps", "1", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "x IPTW" in out and "floor (models + g-formula arms)" in out
    assert "(g-formula arm 1, for the floor)" in out


def test_cli_prints_a_table(capsys):
    assert main(["default", "--scenario", "9", "--reps", "1", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "load average" in out and "psm" in out and "AIPTW arms" in out
