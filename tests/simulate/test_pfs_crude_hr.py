"""A crude PFS hazard ratio as a calibration target (``kind = "hr"`` in outcomes.pfs).

The fixture is the two-arm spec of conftest (120 / 80 patients, PFS medians 5 and 7
months on knots 0-3-6-12), scaled to 6,000 / 4,000 patients so that one simulated cohort
measures the crude HR precisely, with a PFS effect of sex and a crude-HR target of 0.62
(the medians' ratio alone, 5 / 7, is 0.71: the HR pulls the baseline shape).
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

from tacebench import simulate
from tacebench.simulate import spec_from_dict
from tacebench.simulate.calibration_quality import calibration_checks
from tacebench.simulate.survival import cox_binary_hr

from .conftest import TWO_ARM, scale_arms

HR = 0.62
SCALE = 50   # 120 / 80 patients -> 6,000 / 4,000


def _raw(hr: float | None = HR) -> dict:
    raw = copy.deepcopy(TWO_ARM)
    main = raw["cohorts"]["main"]
    scale_arms(main, SCALE)
    pfs = main["outcomes"]["pfs"]
    pfs["effects"] = [{"variable": "male", "hr": 1.4}]
    pfs["smoothness"] = 0.0     # the shape free: three targets, three numbers met
    if hr is not None:
        pfs["calibrate"].append({"arm": "TACEX", "kind": "hr", "value": hr, "target": "pfs_hr_crude",
                                 "source": f"HR {hr}"})
    return raw


@pytest.fixture(scope="module")
def plan():
    return simulate.compile_plan(spec_from_dict(_raw()), cache=None)


def test_the_fit_reaches_the_crude_hr_and_its_check_reports_it(plan):
    """The fit has free log-hazards for the medians and the treatment HR for the crude HR:
    it meets all three (its own HR on a 0.25-month grid, the check's on a 0.1-month one,
    which differ by a few 1e-4)."""
    rows = {r["kind"] if r["kind"] == "hr" else r["arm"]: r for r in plan.report["pfs"]["targets"]}
    assert rows["hr"]["fitted"] == pytest.approx(HR, abs=2e-3)
    assert rows["TACE"]["fitted"] == pytest.approx(5.0, abs=0.02)
    assert rows["TACEX"]["fitted"] == pytest.approx(7.0, abs=0.02)
    checks = [c for c in calibration_checks(plan) if c.endpoint == "pfs"]
    hr = next(c for c in checks if c.kind == "hr")
    assert (hr.target, hr.arm, hr.within) == ("pfs_hr_crude", "TACEX", True)
    assert abs(hr.residual) < 2e-3 and 0 < hr.mcse < 0.05
    assert all(c.within for c in checks)


def test_simulated_cohorts_have_the_calibrated_crude_hr(plan):
    """Four cohorts of 10,000 patients, pooled: the Cox HR of PFS on the arm estimates the
    population crude HR with SE = (the check's MCSE for one cohort) / 2 (about 0.01);
    allowed: 4 SE, plus the 2e-3 by which the fit may miss its target."""
    mcse = next(c.mcse for c in calibration_checks(plan) if c.kind == "hr" and c.endpoint == "pfs")
    cohorts = simulate.generate_cohorts(plan, 4, seed=11, with_ps=False)
    col = {k: np.concatenate([c.columns[k] for c in cohorts]) for k in ("pfs_time", "pfs_event", "arm")}
    treated = (col["arm"] == plan.arm_labels.index("TACEX")).astype(float)
    got = cox_binary_hr(col["pfs_time"], col["pfs_event"], treated)
    assert abs(got - HR) < 4 * mcse / 2 + 2e-3, (got, mcse)


def test_without_the_hr_target_the_proportional_fit_is_unchanged():
    """The same spec without the target takes the proportional fit, as before: its crude
    HR is what the medians and the shape give, not the target."""
    plain = simulate.compile_plan(spec_from_dict(_raw(None)), cache=None)
    assert "hazards" not in plain.report["pfs"]           # the proportional route's report
    assert all(r["kind"] != "hr" for r in plain.report["pfs"]["targets"])


def _main(raw):
    return raw["cohorts"]["main"]


def _with(**pfs):
    raw = _raw()
    _main(raw)["outcomes"]["pfs"].update(pfs)
    return raw


def _ttp(entries, hr: float | None = HR):
    raw = _raw(hr)
    _main(raw)["outcomes"]["ttp"] = {"calibrate": entries}
    return raw


def _events_censoring():
    raw = _raw()
    _main(raw)["censoring"].update(loss_rate="calibrate", events={"value": 5000})
    return raw


def _one_arm():
    raw = _raw()
    main = _main(raw)
    main["arms"] = main["arms"][:1]
    for v in main["variables"]:
        v["arms"].pop("TACEX")
    for ep in ("os", "pfs"):
        main["outcomes"][ep]["calibrate"] = [t for t in main["outcomes"][ep]["calibrate"] if t["arm"] == "TACE"]
    main["outcomes"]["pfs"]["calibrate"].append({"arm": "TACE", "kind": "hr", "value": HR})
    return raw


def _twice():
    raw = _raw()
    _main(raw)["outcomes"]["pfs"]["calibrate"].append({"arm": "TACE", "kind": "hr", "value": 1 / HR})
    return raw


def _arm_specific_ttp():
    raw = _ttp([{"arm": "TACE", "kind": "median", "value": 6.0}], None)
    _main(raw)["outcomes"]["pfs"]["hazards"] = "arm_specific"
    return raw


INVALID = [
    ("fixed treatment HR", lambda: _with(treatment_hr=0.7), "outcomes.pfs.calibrate[2].kind", "0.7"),
    ("censoring fitted to deaths", _events_censoring, "outcomes.pfs.calibrate[2].kind", "loss_rate"),
    ("one arm", _one_arm, "outcomes.pfs.calibrate[1].kind", "two arms"),
    ("given twice", _twice, "outcomes.pfs.calibrate[3]", "calibrate[2]"),
    ("an hr of TTP", lambda: _ttp([{"arm": "TACEX", "kind": "hr", "value": HR}], None),
     "outcomes.ttp.calibrate[0].kind", "outcomes.ttp"),
    ("TTP targets the HR fit leaves out", lambda: _ttp([{"arm": "TACE", "kind": "median", "value": 6.0}]),
     "outcomes.ttp.calibrate", "an 'hr' target"),
    ("TTP targets the arm-specific fit leaves out", _arm_specific_ttp, "outcomes.ttp.calibrate", "arm_specific"),
]


@pytest.mark.parametrize("what,raw,key,value", INVALID, ids=[i[0] for i in INVALID])
def test_invalid_pfs_hr_targets_name_file_key_and_value(what, raw, key, value):
    with pytest.raises(ValueError) as err:
        spec_from_dict(raw(), source="cohort.toml")
    msg = str(err.value)
    assert "cohort.toml" in msg and key in msg and value in msg, msg
