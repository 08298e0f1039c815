"""Scenario factors that edit a study's cohort file: the therapy inclusion."""
from __future__ import annotations

import pytest

from tacebench.benchmarks.cohort_factors import apply_factors
from tacebench.simulate.overrides import load_cohort_raw


def _primary():
    return load_cohort_raw("tace_sorafenib_matched")["cohorts"]["primary"]


def test_therapy_inclusion_is_kept_unless_a_scenario_drops_it():
    kept = _primary()
    apply_factors(kept, {})
    assert kept["time_varying"]["inclusion"]["min_months"] == 1.0
    apply_factors(kept, {"therapy_inclusion": True})
    assert "inclusion" in kept["time_varying"]
    dropped = _primary()
    apply_factors(dropped, {"therapy_inclusion": False})
    assert "inclusion" not in dropped["time_varying"] and "start" in dropped["time_varying"]
    gone = _primary()  # no therapy at all: nothing to drop
    apply_factors(gone, {"immortal_time": False, "therapy_inclusion": False})
    assert "time_varying" not in gone


def test_keeping_an_inclusion_the_cohort_does_not_state_is_an_error():
    bare = _primary()
    del bare["time_varying"]["inclusion"]
    with pytest.raises(ValueError, match=r"therapy_inclusion = true needs time_varying\.inclusion"):
        apply_factors(bare, {"therapy_inclusion": True})


def test_the_shipped_inclusion_study_builds_both_scenarios():
    from tacebench.benchmarks.cohort_dgm import scenario_spec
    from tacebench.benchmarks.study import builtin_studies, load_study

    assert "therapy_inclusion" in builtin_studies()
    study = load_study("therapy_inclusion")
    kept = {s.config["therapy_inclusion"]: scenario_spec(s.base, s.cohort, s.config).cohort("primary")
            for s in study.scenarios}
    assert kept[False].time_varying.inclusion is None
    assert kept[True].time_varying.inclusion.min_months == 1.0


@pytest.mark.slow
def test_the_time_varying_fit_needs_the_delayed_entry_the_inclusion_implies(tmp_path):
    """The shipped study at its 300 replicates, four checks at a family-wise 0.05 (2.50
    MCSE each): the time-varying fit is unbiased without the inclusion and biased above 0
    with it (measured +0.001 and +0.005, MCSE 0.001); entering patients a month after the
    start (delayed_entry = 1) is unbiased in both (-0.001 and 0.000)."""
    from scipy import stats

    from tacebench.benchmarks.runner import load_results, run_study
    from tacebench.benchmarks.study import load_study
    from tacebench.benchmarks.summary import performance_table

    run_study(load_study("therapy_inclusion"), tmp_path, n_jobs=1, progress=False)
    perf = performance_table(*load_results(tmp_path))
    z = float(stats.norm.ppf(1 - 0.05 / 8))
    bias = {(m, "therapy_inclusion=True" in sc): (v, e) for sc, m, meas, v, e in
            zip(perf["scenario"], perf["method"], perf["measure"], perf["value"], perf["mcse"])
            if meas == "bias"}
    (v0, m0), (v1, m1) = bias[("time_varying_duration_cox", False)], bias[("time_varying_duration_cox", True)]
    assert abs(v0) <= z * m0, (v0, m0)
    assert v1 > z * m1, (v1, m1)
    for kept in (False, True):
        v, m = bias[("time_varying_duration_cox_entry", kept)]
        assert abs(v) <= z * m, (kept, v, m)
