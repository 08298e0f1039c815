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
           fixed: dict | None = None) -> dict:
    return {"study": {"name": "menu", "reps": 2},
            "estimands": estimands, "methods": methods,
            "dgm": [{"name": "d", "base": base, "fixed": fixed or {"true_hr": 0.7}}]}


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
