"""benchmarks.speed.method_cost: per-method cost per replicate as the study runs it."""
from __future__ import annotations

import pytest

from tacebench.benchmarks.speed.method_cost import main, scenario_costs
from tacebench.benchmarks.study import load_study


def test_costs_cover_the_scenario_and_split_a_shared_fit_evenly():
    study = load_study("default")
    s = next(sc for sc in study.scenarios if sc.name == "s004_matching_discards[imbalance=1.0]")
    costs = scenario_costs(study, s.index, reps=1, repeat=1, extra=("iptw_ate_stabilized",))
    assert set(costs) == set(s.methods) | {"iptw_ate_stabilized"}
    assert all(v > 0 for v in costs.values())
    # the nine RMST rows share one fit: each is charged a ninth of it
    rmst = [f"{e}_rmst{t}" for e in ("gformula", "iptw_ipcw", "aiptw") for t in (6, 12, 24)]
    assert len({costs[name] for name in rmst}) == 1
    # the g-formula risk rows are a fit of their own
    assert costs["gformula_risk6"] == costs["gformula_risk24"] != costs["iptw_ipcw_risk6"]


def test_one_store_charges_a_shared_model_to_the_first_method_that_needs_it(monkeypatch):
    """With one store per replicate (as a run) the PS model of psm is read, not refitted,
    by psm_tight_caliper: the fit counts once over the two methods."""
    from tacebench.benchmarks.methods import _common

    calls = []
    real = _common._fit_propensity
    monkeypatch.setattr(_common, "_fit_propensity", lambda *a: calls.append(1) or real(*a))
    study = load_study("default")
    s = next(sc for sc in study.scenarios if sc.name.startswith("s000_null_balanced"))
    scenario_costs(study, s.index, reps=1, repeat=1, one_store=True)
    shared = len(calls)
    calls.clear()
    scenario_costs(study, s.index, reps=1, repeat=1)
    assert shared < len(calls)


def test_cli_reports_ratios_against_the_named_method(capsys):
    study = load_study("default")
    s = next(sc for sc in study.scenarios if sc.name.startswith("s001_dose_small"))
    assert main(["default", "--scenario", str(s.index), "--reps", "2", "--repeat", "1",
                 "--against", "dose_cox"]) == 0
    out = capsys.readouterr().out
    assert "load average" in out and "CPU time" in out
    assert any(line.startswith("dose_cox") and line.rstrip().endswith("1.00x")
               for line in out.splitlines())


def test_unknown_scenario_index_is_an_error_naming_the_range():
    with pytest.raises(ValueError, match=r"--scenario 999: study 'default' has scenarios 0\.\.16"):
        scenario_costs(load_study("default"), 999, reps=1, repeat=1)
