"""Response shifts: labelled uninformative when simulated response ignores covariates.

A constructed study: one normal covariate ``x1`` (SD 1) whose mean differs by ``D``
between the arms, OS with a fixed baseline, and a best response (everyone assessed).
The paper's crude -> covariate-adjusted shift of the ORR odds ratio is a required shift.
Without ``response.effects`` simulated response is independent of ``x1``, so the shift is
~0 by construction: it is labelled, counted apart and not a required failure. With
``x1`` declared an odds ratio ``OR_X1`` per SD, adjustment removes the confounding
``x1`` brings to the crude odds ratio (about ``-log(OR_X1) * D`` attenuated by the
logistic model's non-collapsibility), and the shift is judged.
"""
import math
import textwrap

import numpy as np
import pytest

from tacebench.replications.check import load_study
from tacebench.replications.report import StudyReport, render
from tacebench.replications.reproduce import reproduce
from tacebench.replications.response_shifts import UNINFORMATIVE, UNINFORMATIVE_REASON
from tacebench.replications.strict import strict_outcome

D = 0.8
OR_X1 = 3.0
R = 60


def _study(folder, effects: str):
    folder.mkdir()
    arms = "\n".join(f'[[cohorts.main.arms]]\nlabel = "{lab}"\nn = 500\ntreated = {t}'
                     for lab, t in (("Control", "false"), ("Treated", "true")))
    (folder / "cohort.toml").write_text(f"""
[study]
id = "constructed_response"
title = "Constructed: response and an imbalanced covariate"
[cohorts.main]
assignment = "arm_marginals"
{arms}
""" + textwrap.dedent(f"""
        [[cohorts.main.variables]]
        name = "x1"
        type = "continuous"
        arms = {{ Control = {{ mean = 0.0, sd = 1.0 }}, Treated = {{ mean = {D}, sd = 1.0 }} }}
        [cohorts.main.correlation]
        default = "independent"
        [cohorts.main.outcomes.os]
        knots = [0]
        baseline_hazard = [0.05]
        treatment_hr = 0.7
        effects = [ {{ variable = "x1", hr = 1.5 }} ]
        [cohorts.main.censoring]
        accrual = 24
        follow_up = 24
        [cohorts.main.response]
        arms.Control = {{ proportions = [0.05, 0.2, 0.4, 0.35] }}
        arms.Treated = {{ proportions = [0.05, 0.3, 0.35, 0.3] }}
        {effects}
    """))
    targets = ["[study]", 'id = "constructed_response"']
    for tid, analysis, value in (("orr_or_crude", "crude", 1.6), ("orr_or_adjusted", "adjusted", 1.6)):
        targets += ["[[targets]]", f'id = "{tid}"', f'analysis = "{analysis}"', 'quantity = "odds_ratio"',
                    'endpoint = "orr"', 'contrast = ["Treated", "Control"]', f"value = {value}",
                    'role = "predicted"', 'where = "text"', f'source = "OR {value}"']
    # (the adjusted HR estimates the generator's treatment_hr: calibration,
    # replications.effect_inputs)
    for tid, analysis, role in (("os_hr_crude", "crude", "predicted"),
                                ("os_hr_adjusted", "adjusted", "calibration")):
        targets += ["[[targets]]", f'id = "{tid}"', f'analysis = "{analysis}"', 'quantity = "hr"',
                    'endpoint = "os"', 'contrast = ["Treated", "Control"]', "value = 0.8",
                    f'role = "{role}"', 'where = "text"', 'source = "HR 0.8"']
    targets += ["[[shifts]]", 'id = "orr_shift"', 'from = "orr_or_crude"', 'to = "orr_or_adjusted"',
                'scale = "log"', "required = true",
                "[[shifts]]", 'id = "os_shift"', 'from = "os_hr_crude"', 'to = "os_hr_adjusted"',
                'scale = "log"']
    (folder / "targets.toml").write_text("\n".join(targets) + "\n")
    (folder / "analysis.toml").write_text(textwrap.dedent("""
        [response]
        orr = ["CR", "PR"]
        [[analyses]]
        name = "crude"
        population = "response_assessed"
        estimates = ["odds_ratio", "hr"]
        [[analyses]]
        name = "adjusted"
        population = "response_assessed"
        estimates = ["odds_ratio", "hr"]
        adjustment = { method = "multivariable", covariates = ["x1"] }
    """))
    return load_study(folder)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("response_shifts")
    effect = (f'effects = [ {{ variable = "x1", odds_ratio = {OR_X1}, rationale = "constructed" }} ]')
    return {name: reproduce(_study(base / name, eff), reps=R, seed=3, decompose_reps=0)
            for name, eff in (("independent", ""), ("dependent", effect))}


def _shift(res, sid):
    return {s.id: s for s in res.shifts}[sid]


def _paired(res) -> tuple[float, float]:
    """Mean paired ORR log-OR shift over the replicates, and its Monte Carlo SE."""
    x = np.log(res.draws_frame()["orr_or_adjusted"] / res.draws_frame()["orr_or_crude"])
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def test_independent_response_shift_is_labelled_not_judged(runs):
    res = runs["independent"]
    s = _shift(res, "orr_shift")
    assert (s.verdict, s.reason, s.borderline) == (UNINFORMATIVE, UNINFORMATIVE_REASON, False)
    mean, mcse = _paired(res)
    assert abs(mean) < 3 * mcse + 0.02, (mean, mcse)       # ~0 by construction
    assert _shift(res, "os_shift").verdict in ("reproduced", "not reproduced")  # OS: judged
    assert "orr_shift" not in res.required_failures()
    assert not [f for f in strict_outcome("constructed_response", res, []).failures if "orr_shift" in f]
    assert res.accounting.uninformative_shifts == 1
    assert "1 response shift(s) not judged" in res.accounting.sentence()
    text = render([StudyReport("constructed_response", result=res)])
    assert f"shifts: {int(_shift(res, 'os_shift').verdict == 'reproduced')}/1 reproduced (1 uninformative" in text


def test_covariate_dependent_response_shift_is_judged(runs):
    res = runs["dependent"]
    s = _shift(res, "orr_shift")
    assert s.verdict in ("reproduced", "not reproduced") and s.reason != UNINFORMATIVE_REASON
    mean, mcse = _paired(res)
    # adjustment removes x1's confounding: the treated arm's higher x1 inflated the crude OR
    assert mean < -0.3 and mean < -6 * mcse, (mean, mcse)
    assert res.accounting.uninformative_shifts == 0
