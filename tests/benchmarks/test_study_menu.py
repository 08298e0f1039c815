"""What a study file's methods and estimands must agree on, checked at load (with each
scenario's generator: benchmarks.dgm.load_checked_study's scenario check), so that no
configuration is scored against the wrong truth or fails every replicate at run time."""
from __future__ import annotations

import math
import re

import pytest

from tacebench.benchmarks.dgm import prepared, scenario_problems
from tacebench.benchmarks.study import study_from_raw


def _study(estimands: dict, methods: dict, base: str = "len_sora_pd1_ehm",
           fixed: dict | None = None, cohort: str = "main") -> dict:
    return {"study": {"name": "menu", "reps": 2},
            "estimands": estimands, "methods": methods,
            "dgm": [{"name": "d", "base": base, "cohort": cohort,
                     "fixed": fixed or {"true_hr": 0.7}}]}


IMMORTAL_BASE = {"base": "tace_sorafenib_matched", "cohort": "primary"}


def _load(raw):
    return study_from_raw(raw, source="my.toml", scenario_check=scenario_problems)


def _problems(raw) -> list[str]:
    with pytest.raises(ValueError) as err:
        _load(raw)
    return [line.strip() for line in str(err.value).splitlines()[1:]]


IPTW = {"family": "weighting", "covariates": ["*"]}


def test_a_pfs_method_against_an_os_estimand_is_refused():
    raw = _study({"ate": {"kind": "marginal_log_hr"}, "cond": {"kind": "conditional_log_hr"}},
                 {"iptw_pfs": {**IPTW, "estimand": "ate", "endpoint": "pfs"},
                  "mv_pfs": {"family": "cox", "estimand": "cond", "endpoint": "pfs"},
                  "iptw_os": {**IPTW, "estimand": "ate"}})
    assert _problems(raw) == [
        "[methods.iptw_pfs]: estimates on endpoint 'pfs', but its estimand 'ate' is on 'os' "
        "(set endpoint = 'pfs' in [estimands.ate])",
        "[methods.mv_pfs]: estimates on endpoint 'pfs', but its estimand 'cond' is on 'os' "
        "(set endpoint = 'pfs' in [estimands.cond])"]


def test_pfs_estimands_have_the_pfs_truth():
    raw = _study({"ate": {"kind": "marginal_log_hr"},
                  "ate_pfs": {"kind": "marginal_log_hr", "endpoint": "pfs"},
                  "cond_pfs": {"kind": "conditional_log_hr", "endpoint": "pfs"}},
                 {"iptw_os": {**IPTW, "estimand": "ate"},
                  "iptw_pfs": {**IPTW, "estimand": "ate_pfs", "endpoint": "pfs"},
                  "mv_pfs": {"family": "cox", "estimand": "cond_pfs", "endpoint": "pfs"}},
                 fixed={"true_hr": 0.7, "pfs_true_hr": 0.5})
    study = _load(raw)
    dgm = prepared(study.fingerprint, study.scenarios[0], cache=None)
    ate, ate_pfs, cond_pfs = dgm.truths(list(study.estimands), [None] * 3)
    assert cond_pfs == pytest.approx(math.log(0.5), abs=1e-12)
    assert ate_pfs < ate - 0.1   # the PFS marginal HR, not the OS one (-0.31)


@pytest.mark.parametrize("base, estimand, message", [
    ("tace_sorafenib_ehs", {"kind": "marginal_log_hr", "endpoint": "pfs"},
     "estimand 'e': endpoint 'pfs' needs a cohort with a PFS model"),
    ("len_sora_pd1_ehm", {"kind": "marginal_log_hr", "endpoint": "pfs", "population": "ATO"},
     "estimand 'e': endpoint 'pfs' has true values for populations ATE and ATT only"),
    ("len_sora_pd1_ehm", {"kind": "marginal_log_hr", "endpoint": "dfs"},
     "estimand 'e': endpoint must be one of ['os', 'pfs']; got 'dfs'"),
])
def test_pfs_truths_the_generator_cannot_give_are_refused(base, estimand, message):
    raw = _study({"e": estimand}, {"m": {**IPTW, "estimand": "e", "endpoint": "pfs",
                                         "weights": estimand.get("population", "ATE")}},
                 base=base)
    assert any(message in line for line in _problems(raw)), _problems(raw)


@pytest.mark.parametrize("method, estimand, message", [
    ({**IPTW, "weights": "ATO"}, {"kind": "marginal_log_hr"},
     "estimates the effect in the ATO population, but its estimand 'e' is the ATE "
     "population's (kind 'marginal_log_hr')"),
    ({"family": "balancing", "method": "ebal", "target": "ATE", "covariates": ["*"]},
     {"kind": "marginal_log_hr", "population": "ATT"},
     "estimates the effect in the ATE population, but its estimand 'e' is the ATT"),
    ({"family": "survival_ate", "quantity": "rmst_difference", "covariates": ["*"]},
     {"kind": "rmst_difference", "population": "ATT"},
     "estimates the effect in the ATE population, but its estimand 'e' is the ATT"),
    ({"family": "matching", "covariates": ["*"]}, {"kind": "marginal_log_hr"},
     "estimates the effect in the ATT population, but its estimand 'e' is the ATE"),
    ({"family": "immortal", "variant": "tv_duration"}, {"kind": "marginal_log_hr"},
     "estimates a log hazard ratio per month of therapy, but its estimand 'e' is a log "
     "hazard ratio"),
    ({"family": "immortal", "variant": "tv_ever"}, {"kind": "log_hr_per_month"},
     "estimates a log hazard ratio of having started therapy, but its estimand 'e' is a "
     "log hazard ratio per month of therapy"),
    ({"family": "cox"}, {"kind": "log_hr_per_month"},
     "estimates a log hazard ratio, but its estimand 'e' is a log hazard ratio per month"),
])
def test_a_method_of_another_population_or_quantity_is_refused(method, estimand, message):
    raw = _study({"e": estimand}, {"m": {**method, "estimand": "e"}})
    lines = _problems(raw)
    assert any(line.startswith("[methods.m]: " + message) for line in lines), lines


@pytest.mark.parametrize("method, estimand", [
    ({**IPTW, "weights": "ATO"}, {"kind": "marginal_log_hr", "population": "ato"}),
    ({"family": "matching", "covariates": ["*"]}, {"kind": "conditional_log_hr"}),
    ({"family": "cox"}, {"kind": "marginal_log_hr", "population": "ATT"}),
    ({"family": "contrast"}, {"kind": "rmst_difference", "population": "ATT"}),
    ({"family": "immortal", "variant": "tv_ever"}, {"kind": "custom", "value": 0.0}),
])
def test_a_method_of_no_or_the_same_population_loads(method, estimand):
    where = IMMORTAL_BASE if method["family"] == "immortal" else {}
    _load(_study({"e": estimand}, {"m": {**method, "estimand": "e"}}, **where))


@pytest.mark.parametrize("method, message", [
    ({"family": "balancing", "method": "cbps", "target": "ATM", "covariates": ["*"]},
     "target 'ATM' is not defined for method 'cbps' (it supports ['ATE', 'ATT', 'ATC'])"),
    ({"family": "balancing", "method": "ebal", "target": "ATM", "covariates": ["*"]},
     "target 'ATM' is not defined for method 'ebal'"),
    ({"family": "balancing", "method": "matching", "target": "ATE", "covariates": ["*"]},
     "target 'ATE' is not defined for method 'matching' (it supports ['ATM'])"),
    ({"family": "survival_ate", "estimator": "aiptw", "estimators": ["gformula"],
      "covariates": ["*"]}, "estimator 'aiptw' is not among estimators ['gformula']"),
    ({"family": "survival_ate", "time": 7.0, "covariates": ["*"]},
     "time 7.0 is not among horizons [6.0, 12.0, 24.0]"),
    ({"family": "weighting"}, "weighting needs covariates"),
    ({"family": "matching"}, "nearest matching needs covariates"),
    ({"family": "survival_ate"}, "survival_ate needs covariates"),
    ({"family": "balancing"}, "balancing weights need"),
    ({"family": "contrast", "weights": "ATE"}, "weights = 'ATE' needs covariates"),
    ({"family": "matching", "method": "exact"}, "exact matching needs `on` variables"),
    ({**IPTW, "covariates": ["*", "u_socioeconomic"]},
     "covariates: '*' stands alone or with exclusions '-name'"),
    # options that were listed as applied but ignored
    ({"family": "matching", "method": "optimal", "ratio": 2, "covariates": ["*"]},
     "optimal matching ignores ['ratio']"),
    ({"family": "matching", "method": "optimal", "caliper": 0.1, "replace": True,
      "covariates": ["*"]}, "optimal matching ignores ['caliper', 'replace']"),
    ({"family": "matching", "method": "mahalanobis", "caliper": 0.1, "covariates": ["*"]},
     "mahalanobis matching ignores ['caliper']"),
    ({"family": "matching", "method": "exact", "on": ["male"], "replace": True},
     "exact matching ignores ['replace']"),
    ({**IPTW, "weights": "ATT", "stabilized": True},
     "stabilized = true applies to ATE weights only"),
    ({"family": "contrast", "weights": "ATO", "stabilized": True, "covariates": ["*"]},
     "stabilized = true applies to ATE weights only"),
])
def test_a_configuration_no_replicate_can_fit_is_refused_at_load(method, message):
    estimand = ({"kind": "custom", "value": 0.0})
    lines = _problems(_study({"e": estimand}, {"m": {**method, "estimand": "e"}}))
    assert any(line.startswith("[methods.m]") and message in line for line in lines), lines


def test_every_problem_of_the_probe_file_at_once():
    # the probe's bad.toml: six methods, each failing every replicate before
    raw = _study({"ate": {"kind": "marginal_log_hr"},
                  "risk12": {"kind": "risk_difference", "time": 12.0}},
                 {"w_nocov": {"family": "weighting", "estimand": "ate"},
                  "exact_noon": {"family": "matching", "estimand": "ate", "method": "exact"},
                  "sa_est": {"family": "survival_ate", "estimand": "risk12",
                             "estimator": "aiptw", "estimators": ["gformula"],
                             "covariates": ["*"]},
                  "mw_ate": {"family": "balancing", "estimand": "ate", "method": "matching",
                             "target": "ATE", "covariates": ["*"]}})
    lines = _problems(raw)
    assert {line.split(":")[0] for line in lines} == {
        "[methods.w_nocov]", "[methods.exact_noon]", "[methods.sa_est]", "[methods.mw_ate]"}


def _dgm_lines(lines: list[str]) -> list[str]:
    return [line.split(": ", 1)[1] for line in lines if line.startswith("[[dgm]] 'd': method")]


def test_columns_a_method_names_must_be_the_cohorts():
    raw = _study({"e": {"kind": "custom", "value": 0.0}},
                 {"typo": {**IPTW, "estimand": "e", "covariates": ["tumour_size", "age"]},
                  "expo": {"family": "cox", "estimand": "e",
                           "exposure": "regorafenib_high_dose"},
                  "adj": {"family": "matching", "estimand": "e", "covariates": ["*"],
                          "adjust": ["tumor_size"], "balance": ["albi_grade", "nope"]}})
    lines = _dgm_lines(_problems(raw))
    assert len(lines) == 3, lines
    assert lines[0].startswith("method 'typo': ['tumour_size'] not columns of the cohort of "
                               "base 'len_sora_pd1_ehm' (its measured covariates: ['age',")
    assert lines[1].startswith("method 'expo': ['regorafenib_high_dose'] not columns")
    assert lines[2].startswith("method 'adj': ['nope'] not columns")


def test_two_arm_methods_on_a_single_arm_base_are_refused():
    raw = _study({"e": {"kind": "custom", "value": 0.0}},
                 {"iptw": {**IPTW, "estimand": "e"},
                  "crude": {"family": "cox", "estimand": "e"},
                  "dose": {"family": "cox", "estimand": "e",
                           "exposure": "regorafenib_high_dose"}},
                 base="tace_regorafenib", fixed={"n": 100})
    assert _dgm_lines(_problems(raw)) == [
        "method 'iptw': family 'weighting' compares the treated and control arms; base "
        "'tace_regorafenib' has one arm",
        "method 'crude': family 'cox' compares the treated and control arms; base "
        "'tace_regorafenib' has one arm"]


def test_the_immortal_family_needs_time_varying_therapy():
    raw = _study({"e": {"kind": "custom", "value": 0.0}},
                 {"imm": {"family": "immortal", "estimand": "e", "variant": "tv_ever"}},
                 **IMMORTAL_BASE, fixed={"immortal_time": False})
    assert _dgm_lines(_problems(raw)) == [
        "method 'imm': family 'immortal' needs a cohort with time-varying therapy (a "
        "[time_varying] section, kept unless the factor immortal_time is false)"]


def test_covariates_with_missing_values_are_refused():
    raw = _study({"dose": {"kind": "conditional_log_hr", "variable": "regorafenib_high_dose"}},
                 {"dose_crude": {"family": "cox", "estimand": "dose",
                                 "exposure": "regorafenib_high_dose"},
                  "dose_adj": {"family": "cox", "estimand": "dose", "exposure": "regorafenib_high_dose",
                               "covariates": ["*", "-regorafenib_high_dose"]}},
                 base="tace_regorafenib", fixed={"n": 300, "missing": True})
    lines = _dgm_lines(_problems(raw))
    assert lines[0] == (
        "method 'dose_crude': ['regorafenib_high_dose'] have missing values in this scenario "
        "(missing = true), which no method family handles; leave them out of the method's "
        "columns (e.g. ['*', '-regorafenib_high_dose']) or set missing = false")
    assert lines[1].startswith("method 'dose_adj': ['regorafenib_high_dose', "
                               "'multiple_nodules'] have missing values")
    raw["dgm"][0]["fixed"]["missing"] = False
    _load(raw)


def test_a_missing_covariate_is_named_when_a_fit_meets_it():
    import numpy as np

    from tacebench.benchmarks.methods import get_fit, validate_method

    rng = np.random.default_rng(1)
    n = 60
    data = {"treated": (rng.random(n) < 0.5).astype(np.int8), "os_time": rng.exponential(10, n),
            "os_event": np.ones(n, dtype=np.int8), "x": rng.normal(size=n),
            "dose": rng.integers(0, 2, n).astype(float)}
    data["x"][3] = data["dose"][5] = np.nan
    fit = get_fit("cox")
    with pytest.raises(ValueError, match=re.escape("covariate 'x' has 1 missing values (NaN)")):
        fit(data, validate_method("cox", {"covariates": ["x"]}), None)
    with pytest.raises(ValueError, match=re.escape(
            "exposure column 'dose' has 1 missing values (NaN)")):
        fit(data, validate_method("cox", {"exposure": "dose"}), None)
