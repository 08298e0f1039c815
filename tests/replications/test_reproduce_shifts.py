"""Paired shifts on a constructed study whose generator's truth is known.

Two normal covariates ``x1``, ``x2`` (SD 1) with conditional log-HRs 0.5 and 0.3, a true
conditional treatment HR of 0.7, a piecewise-exponential (here constant) baseline — a
cohort.toml simulate generates from, with nothing calibrated. The arms' covariate means
differ by ``d1``, ``d2``. Confounding moves the crude log HR by about ``sum_k beta_k d_k``
(exact for normal covariates as events become rare), so adjustment should shift it back by
``-sum_k beta_k d_k``. "Within MCSE" means within 3 Monte Carlo standard errors of the mean
paired shift (sd / sqrt(R)), the seed being fixed.
"""
import math
import textwrap

import numpy as np
import pytest

from tacebench.replications.reproduce import reproduce
from tacebench.replications.check import load_study

B1, B2 = 0.5, 0.3
R = 200


def _study(folder, d1, d2):
    folder.mkdir()
    (folder / "cohort.toml").write_text(textwrap.dedent(f"""
        [study]
        id = "constructed_shift"
        title = "Constructed: known imbalance and prognostic strength"
        [cohorts.main]
        assignment = "arm_marginals"
        [[cohorts.main.arms]]
        label = "Control"
        n = 1500
        treated = false
        [[cohorts.main.arms]]
        label = "Treated"
        n = 1500
        treated = true
        [[cohorts.main.variables]]
        name = "x1"
        type = "continuous"
        distribution = "normal"
        arms.Control = {{ mean = 0.0, sd = 1.0 }}
        arms.Treated = {{ mean = {d1}, sd = 1.0 }}
        [[cohorts.main.variables]]
        name = "x2"
        type = "continuous"
        distribution = "normal"
        arms.Control = {{ mean = 0.0, sd = 1.0 }}
        arms.Treated = {{ mean = {d2}, sd = 1.0 }}
        [cohorts.main.correlation]
        default = "independent"
        [cohorts.main.outcomes.os]
        knots = [0]
        baseline_hazard = [0.004]
        treatment_hr = 0.7
        effects = [ {{ variable = "x1", hr = {math.exp(B1)} }},
                    {{ variable = "x2", hr = {math.exp(B2)} }} ]
        [cohorts.main.censoring]
        accrual = 24
        follow_up = 24
    """))
    crude = round(0.7 * math.exp(B1 * d1 + B2 * d2), 2)
    targets = ["[study]", 'id = "constructed_shift"']
    # (the adjusted HR is the generator's treatment_hr: calibration, replications.effect_inputs)
    for tid, analysis, value, role in (("os_hr_crude", "crude", crude, "predicted"),
                                       ("os_hr_adjusted", "adjusted", 0.70, "calibration"),
                                       ("os_hr_iptw", "iptw", 0.70, "predicted")):
        targets += ["[[targets]]", f'id = "{tid}"', f'analysis = "{analysis}"',
                    'quantity = "hr"', 'endpoint = "os"', 'contrast = ["Treated", "Control"]',
                    f"value = {value}", f'role = "{role}"', 'where = "text"',
                    f'source = "HR {value}"']
    for sid, to in (("crude_to_adjusted", "os_hr_adjusted"), ("crude_to_iptw", "os_hr_iptw")):
        targets += ["[[shifts]]", f'id = "{sid}"', 'from = "os_hr_crude"', f'to = "{to}"',
                    'scale = "log"']
    (folder / "targets.toml").write_text("\n".join(targets) + "\n")
    (folder / "analysis.toml").write_text(textwrap.dedent("""
        [[analyses]]
        name = "crude"
        estimates = ["hr"]
        [[analyses]]
        name = "adjusted"
        estimates = ["hr"]
        adjustment = { method = "multivariable", covariates = ["x1", "x2"] }
        [[analyses]]
        name = "iptw"
        estimates = ["hr"]
        adjustment = { method = "iptw", covariates = ["x1", "x2"] }
    """))
    return load_study(folder)


def _paired(res, to):
    d = res.draws_frame()
    shift = np.log(d[to]) - np.log(d["os_hr_crude"])
    return float(shift.mean()), float(shift.std(ddof=1) / math.sqrt(len(shift)))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("constructed")
    out = {}
    for name, (d1, d2) in {"balanced": (0.0, 0.0), "planted": (0.4, -0.3)}.items():
        study = _study(base / name, d1, d2)
        out[name] = reproduce(study, reps=R, seed=8, decompose_reps=50)
    return out


def test_no_imbalance_shift_is_centred_on_zero(runs):
    mean, mcse = _paired(runs["balanced"], "os_hr_iptw")
    assert abs(mean) < 3 * mcse, (mean, mcse)


def test_planted_imbalance_matches_the_analytic_shift(runs):
    analytic = -(B1 * 0.4 + B2 * -0.3)                 # -0.11
    mean, mcse = _paired(runs["planted"], "os_hr_iptw")
    assert abs(mean - analytic) < 3 * mcse, (mean, analytic, mcse)


def test_conditional_adjustment_adds_only_non_collapsibility(runs):
    """A multivariable (conditional) HR differs from a marginal one even without
    confounding (non-collapsibility); the difference between the planted and the balanced
    study removes that and leaves the confounding shift."""
    analytic = -(B1 * 0.4 + B2 * -0.3)
    m1, s1 = _paired(runs["planted"], "os_hr_adjusted")
    m0, s0 = _paired(runs["balanced"], "os_hr_adjusted")
    assert m0 < 0                                          # conditional HR further from 1
    assert abs((m1 - m0) - analytic) < 3 * math.hypot(s1, s0), (m1, m0, analytic)


def test_shift_spread_is_reported_and_smaller_than_either_estimate(runs):
    for res in runs.values():
        for s in res.shifts:
            assert s.sd > 0 and s.mcse > 0
            assert s.sd < s.sd_from and s.sd < s.sd_to, s
            # much smaller: the paired design is the point of shifts
            assert s.sd < 0.5 * min(s.sd_from, s.sd_to)


def test_shift_verdicts_and_decomposition(runs):
    s = {x.id: x for x in runs["planted"].shifts}["crude_to_iptw"]
    assert s.verdict == "reproduced"                  # the reported shift is the truth
    c = {x.term: x for x in s.contributions}
    assert c["x1"].mean < 0 < c["x2"].mean            # x1 pulls down, x2 up
    assert abs(c["x1"].mean) > abs(c["x2"].mean)      # |0.5 * 0.4| > |0.3 * -0.3|
    assert c["x1"].mean == pytest.approx(-B1 * 0.4, abs=0.03)
    assert c["x2"].mean == pytest.approx(-B2 * -0.3, abs=0.03)
