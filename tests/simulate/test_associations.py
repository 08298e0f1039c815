"""Conditional effects solved from univariable + multivariable Cox HRs (outcomes.os.associations)."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench import simulate
from tacebench.simulate import SpecError
from tacebench.simulate.associations import cox_fit
from tacebench.simulate.spec_associations import Reported, log_effect

TRUE = {"x": 1.35, "b": 1.8, "z": 0.75}   # per unit of x (SD 1), b 1 vs 0, z 1 vs 0


def _spec(n: int, os: dict) -> dict:
    return {"study": {"id": "assoc_fixture"}, "cohorts": {"main": {
        "arms": [{"label": "C", "n": n, "treated": False}, {"label": "T", "n": n, "treated": True}],
        "variables": [
            {"name": "x", "type": "continuous", "arms": {"C": {"mean": 0.0, "sd": 1.0}, "T": {"mean": 0.4, "sd": 1.0}}},
            {"name": "b", "type": "binary", "arms": {"C": {"p": 0.3}, "T": {"p": 0.5}}},
            {"name": "z", "type": "binary", "arms": {"C": {"p": 0.5}, "T": {"p": 0.4}}},
        ],
        "correlation": {"default": "independent", "pairs": [["x", "b", 0.5], ["x", "z", -0.3]]},
        "outcomes": {"os": {"knots": [0, 6, 12], "treatment_hr": 0.7,
                            "calibrate": [{"arm": "C", "kind": "median", "value": 10.0}], **os}},
        "censoring": {"accrual": 24, "follow_up": 12},
    }}}


def _hrs(cohort) -> tuple[dict, dict]:
    """Univariable HR of x, b, z and the multivariable (x, b) HRs of one cohort."""
    c = cohort.columns
    t, d, w = c["os_time"], c["os_event"], np.ones(len(c["os_time"]))
    uni = {v: float(cox_fit(t, d, c[v][:, None], w)[0]) for v in TRUE}
    multi = dict(zip(("x", "b"), cox_fit(t, d, np.column_stack([c["x"], c["b"]]), w)))
    return uni, multi


def _reported(log_hr: float, se: float) -> dict:
    return {"hr": round(math.exp(log_hr), 4), "decimals": 4,
            "ci": [round(math.exp(log_hr - 1.96 * se), 4), round(math.exp(log_hr + 1.96 * se), 4)]}


@pytest.mark.slow
def test_joint_calibration_recovers_known_conditional_effects():
    # a big cohort with known effects; its univariable and multivariable HRs are then given
    # as "published" and the solver must find the effects again. Monte Carlo bound: the
    # cohort's own estimates have SE about 0.02 on the log scale (4,000 deaths) and the
    # calibration sample's about 0.015, so each recovered log-HR lies within 0.08 (> 3 SE).
    n = 6000
    truth = _spec(n, {"effects": [{"variable": "x", "hr": TRUE["x"]}, {"variable": "b", "hr": TRUE["b"]},
                                  {"variable": "z", "hr": TRUE["z"]}]})
    cohort = simulate.generate_cohort(simulate.compile_plan(simulate.load_spec(truth), cache=None), seed=11)
    uni, multi = _hrs(cohort)
    assoc = [{"variable": v, "univariable": _reported(uni[v], 0.03)} for v in TRUE]
    for a in assoc[:2]:
        a["multivariable"] = _reported(multi[a["variable"]], 0.03)
    plan = simulate.compile_plan(simulate.load_spec(_spec(n, {"associations": assoc})), cache=None)
    solved = plan.report["os"]["associations"]["terms"]
    for v, hr in TRUE.items():
        assert abs(math.log(solved[v]) - math.log(hr)) < 0.08, (v, solved[v], hr)
    # the univariable HRs differ from the conditional ones (confounding by x): the solver
    # did more than copy them
    assert abs(uni["z"] - math.log(TRUE["z"])) > 0.08


def test_printed_hr_of_one_is_recovered_from_ci_and_p():
    # "1.00 (1.00-1.01), p = 0.19": se in [0.00153, 0.00455] from the upper limit, the
    # estimate rounding to 1.00 caps beta at log 1.005 -> beta in [0.0020, 0.0050)
    e = log_effect(Reported(1.0, (1.0, 1.01), 0.19))
    assert 0.0020 < e.beta < 0.0050 and "recovered" in e.how
    assert 0.0030 < e.beta < 0.0040
    # "1.00 (1.00-1.00), p = 0.002": the sign is open; with sign = +1 beta in (0, 0.0031)
    pos = log_effect(Reported(1.0, (1.0, 1.0), 0.002), sign=1)
    assert 0 < pos.beta < 0.0031
    both = log_effect(Reported(1.0, (1.0, 1.0), 0.002))
    assert abs(both.beta) < 1e-4 < both.se   # about symmetric: midpoint ~0, wide SE
    # a printed HR other than 1 keeps its value; se from the CI
    e = log_effect(Reported(1.37, (1.08, 1.74), 0.009))
    assert e.beta == pytest.approx(math.log(1.37)) and e.se == pytest.approx(math.log(1.74 / 1.08) / 3.92, rel=1e-3)


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(-0.004, 0.004), se=st.floats(0.0003, 0.003))
def test_recovered_interval_contains_the_true_effect(beta, se):
    # print a per-unit effect as a paper does (2 decimals, p to 3): the true beta must be
    # feasible, i.e. within the recovered interval
    z = abs(beta) / se
    p_exact = math.erfc(z / math.sqrt(2))
    p = "<0.001" if p_exact < 0.0005 else round(p_exact, 3)
    rep = Reported(round(math.exp(beta), 2), (round(math.exp(beta - 1.96 * se), 2),
                                              round(math.exp(beta + 1.96 * se), 2)), p)
    if rep.hr != 1.0 or not rep.ci[0] <= 1.0 <= rep.ci[1]:
        return
    e = log_effect(rep, sign=1 if beta > 0 else -1)
    lo, hi = (float(v) for v in e.how.split("[")[1].split("]")[0].split(","))
    assert lo - 2e-4 <= beta <= hi + 2e-4


def _assoc_spec(entries):
    spec = _spec(100, {"associations": entries})
    return spec


@pytest.mark.parametrize("entries, key, words", [
    ([{"variable": "nope", "univariable": {"hr": 1.2, "ci": [1.0, 1.4]}}], "associations[0].variable", "unknown variable"),
    ([{"variable": "x", "univariable": {"hr": 1.2, "ci": [1.3, 1.4]}}], "univariable.ci", "must contain hr"),
    ([{"variable": "x", "assume": "none"}], "associations[0].rationale", "needs a rationale"),
    ([{"variable": "x", "univariable": {"hr": 1.2, "ci": [1.0, 1.4]}, "level": "1"}], "associations[0].level", "categorical"),
    ([{"variable": "x", "univariable": {"hr": 1.2, "ci": [1.0, 1.4]}}], "outcomes.os.associations", "no association"),
    ([{"variable": "x", "univariable": {"hr": 1.0, "ci": [1.0, 1.0], "p": 0.01}, "sign": 1}],
     "associations[0].rationale", "sign is an assumption"),
    ([{"variable": "x", "univariable": {"hr": 1.2, "ci": [1.0, 1.4], "p": "about 0.1"}}], "univariable.p", "bound"),
])
def test_validation_errors_name_key_and_value(entries, key, words):
    with pytest.raises(SpecError) as err:
        simulate.load_spec(_assoc_spec(entries))
    assert key in str(err.value) and words in str(err.value)


def test_assumption_covers_a_variable():
    entries = [{"variable": "x", "univariable": {"hr": 1.3, "ci": [1.1, 1.5], "p": 0.01}},
               {"variable": "b", "univariable": {"hr": 1.5, "ci": [1.1, 2.0], "p": 0.01}},
               {"variable": "z", "assume": "none", "rationale": "not in the paper's table"}]
    spec = simulate.load_spec(_assoc_spec(entries))
    assert spec.cohort().os.associations[2].assume == "none"


def test_specs_without_associations_are_unchanged():
    # the new keys' defaults leave the plan as before: same effects, same rates, same cohort
    spec = _spec(200, {"effects": [{"variable": "x", "hr": 1.3}, {"variable": "b", "hr": 1.5}]})
    explicit = copy.deepcopy(spec)
    explicit["cohorts"]["main"]["outcomes"]["os"].update(associations=[], multivariable_treatment=False)
    a = simulate.compile_plan(simulate.load_spec(spec), cache=None)
    b = simulate.compile_plan(simulate.load_spec(explicit), cache=None)
    assert "associations" not in a.report["os"]
    ca, cb = simulate.generate_cohort(a, seed=3), simulate.generate_cohort(b, seed=3)
    for k in ca.columns:
        np.testing.assert_array_equal(ca.columns[k], cb.columns[k])
