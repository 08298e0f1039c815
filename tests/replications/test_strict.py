"""The --strict gate on small study folders: declared expected failures, stale declarations,
spec gaps, spec errors and mislabels judged as what the number is."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tacebench.api import replicate
from tacebench.cli import main
from tacebench.replications.report import render
from tests.replications.test_accounting import _TTP

FICTIONAL = Path(__file__).parent / "fictional_study"
# 200 replicates: the fictional os_hr_psm lies beyond every draw, and fewer replicates
# leave it within Monte Carlo error of the boundary ("undetermined")
FAST = ["--reps", "200", "--seed", "3", "--decompose-reps", "0", "--n-jobs", "1",
        "--worlds", "none", "--max-reps", "200"]
PSM_QUOTE = 'source = "in the matched cohort the HR was 0.40'

# (response rates of the unadjusted arm: inputs of cohort.toml's counts, calibration)
DCR = '''
[[targets]]
id = "dcr_tace_imaging"
analysis = "imaging"
quantity = "rate"
endpoint = "dcr"
arm = "TACE"
percent = 73.3
role = "calibration"
where = "text"
source = "disease control in 73.3% with TACE"

[[targets]]
id = "orr_tace_imaging_discussion"
analysis = "imaging"
quantity = "rate"
endpoint = "orr"
arm = "TACE"
percent = 73.3
role = "calibration"
where = "discussion"
same_as = "orr_tace_imaging"
source = "an objective response rate of 73.3% with TACE"
'''
MISLABEL = ('mislabel = { printed = "orr", is = "dcr", finding = "%s", '
            'reason = "the Results give 73.3%% as the disease control rate" }\n')
# the accounting tests' TTP median (an endpoint the fictional cohort does not generate), required
TTP = _TTP.replace('role = "predicted"', 'role = "predicted"\nrequired = true')


def study(tmp_path, *, required_psm=False, declare=None, extra="", name="s") -> Path:
    """A copy of the fictional study; os_hr_psm (0.40, not reproduced) made required and/or
    declared an expected failure; ``declare`` = (target, finding or None)."""
    folder = tmp_path / name
    shutil.copytree(FICTIONAL, folder)
    p = folder / "targets.toml"
    text = p.read_text()
    if required_psm:
        text = text.replace(PSM_QUOTE, "required = true\n" + PSM_QUOTE)
    shifts = text.index("[[shifts]]")
    text = text[:shifts] + extra + "\n" + text[shifts:]
    if declare:
        target, finding = declare
        basis = (f'finding = "{finding}"' if finding else
                 'evidence = "matching cannot move 0.72 this far (see the note)"')
        text += (f'\n[[expected_failures]]\ntarget = "{target}"\n'
                 f'reason = "deliberately implausible"\n{basis}\n')
    p.write_text(text)
    return folder


def run(folder, capsys) -> tuple[int, str, str]:
    code = main(["replicate", str(folder), *FAST, "--strict"])
    out, err = capsys.readouterr()
    return code, out, err


def test_undeclared_required_failure_exits_1(tmp_path, capsys):
    code, _, err = run(study(tmp_path, required_psm=True), capsys)
    assert code == 1
    assert "strict: exit 1" in err
    assert "required target os_hr_psm NOT reproduced" in err and "not declared" in err


def test_declared_expected_failure_exits_0_and_is_listed(tmp_path, capsys):
    code, out, err = run(study(tmp_path, required_psm=True, declare=("os_hr_psm", None)),
                         capsys)
    assert code == 0, err
    assert "strict: exit 0" in err and "1 declared expected failure(s) still failing" in err
    assert "Expected failures (declared in targets.toml" in out
    assert "os_hr_psm: fails as declared: NOT reproduced" in out
    assert "analysis: matching cannot move 0.72" in out
    row = next(line for line in out.splitlines() if line.startswith("os_hr_psm "))
    assert "NOT reproduced" in row and row.rstrip().endswith("(expected)")


def test_a_declaration_that_reproduces_now_is_stale(tmp_path, capsys):
    code, out, err = run(study(tmp_path, declare=("os_hr_crude", None)), capsys)
    assert code == 1
    assert "expected failure os_hr_crude: stale declaration: it now reproduces" in err
    assert "remove it from [[expected_failures]]" in out


def test_a_declaration_whose_audit_finding_is_gone_is_stale(tmp_path, capsys):
    # a rule that exists but does not flag os_hr_psm
    code, _, err = run(study(tmp_path, declare=("os_hr_psm", "ci_contains_estimate")), capsys)
    assert code == 1
    assert "the audit no longer reports ci_contains_estimate on it" in err


def test_spec_gaps_never_fail(tmp_path, capsys):
    code, out, err = run(study(tmp_path, extra=TTP), capsys)
    assert code == 0, err
    assert "1 required target(s) not simulated (spec gaps, not failing)" in err
    assert "spec gap fictional_tace_lenvatinib: required ttp_median_tace_crude: not simulated" in err
    assert "ttp_median_tace_crude" in out


def test_a_declaration_on_a_spec_gap_cannot_be_checked(tmp_path, capsys):
    code, _, err = run(study(tmp_path, extra=TTP, declare=("ttp_median_tace_crude", None)),
                       capsys)
    assert code == 1 and "cannot be checked" in err


def test_spec_errors_exit_1_under_strict(tmp_path, capsys):
    folder = study(tmp_path)
    p = folder / "analysis.toml"
    p.write_text(p.read_text().replace('method = "psm"', 'method = "pms"'))
    assert main(["replicate", str(folder), *FAST]) == 2          # without --strict: as before
    capsys.readouterr()
    code, _, err = run(folder, capsys)
    assert code == 1 and "spec error" in err and "pms" in err


def test_strict_with_audit_only_does_not_claim_the_targets_reproduced(tmp_path, capsys):
    """With --audit-only nothing is simulated, yet the gate said "every required target
    reproduced"."""
    assert main(["replicate", str(study(tmp_path)), "--audit-only", "--strict"]) == 0
    err = capsys.readouterr().err
    assert "no target judged (nothing simulated)" in err
    assert "every required target reproduced" not in err


def test_an_unknown_finding_is_a_study_error(tmp_path, capsys):
    folder = study(tmp_path, declare=("os_hr_psm", "no_such_rule"))
    assert main(["check", str(folder)]) == 1
    assert "expected_failures[0].finding = 'no_such_rule'" in capsys.readouterr().out


def test_a_mislabel_is_judged_as_its_true_quantity(tmp_path):
    plain = study(tmp_path, extra=DCR, name="plain")
    labelled = study(tmp_path, extra=DCR + MISLABEL % "same_as_agree", name="labelled")
    before = replicate(plain, reps=200, seed=3, decompose_reps=0, max_reps=200,
                       worlds="none")
    after = replicate(labelled, reps=200, seed=3, decompose_reps=0, max_reps=200,
                      worlds="none")
    rows = {t.id: t for t in before.result.targets}
    odd = rows["orr_tace_imaging_discussion"]
    assert odd.median == rows["orr_tace_imaging"].median            # judged as ORR ...
    assert odd.verdict == "not reproduced"                          # ... and fails
    rows = {t.id: t for t in after.result.targets}
    odd = rows["orr_tace_imaging_discussion"]
    assert odd.median == rows["dcr_tace_imaging"].median            # judged as DCR
    assert odd.median != rows["orr_tace_imaging"].median
    assert odd.verdict == "reproduced"
    assert odd.mislabel == "printed as orr, judged as dcr (audit: same_as_agree)"
    text = render([after])          # one number with dcr_tace_imaging: shown on its row
    assert ("orr_tace_imaging_discussion: printed as orr, judged as dcr (audit: "
            "same_as_agree)") in text
    # the audit keeps its finding on the printed label
    assert any(f.rule == "same_as_agree" and "orr_tace_imaging_discussion" in f.targets
               for f in after.audit)
    assert after.strict.passed
    assert after.to_dict()["mislabels"]["orr_tace_imaging_discussion"]["actual"] == "dcr"


def test_a_mislabel_whose_finding_the_audit_does_not_report_fails_strict(tmp_path, capsys):
    folder = study(tmp_path, extra=DCR + MISLABEL % "ci_contains_estimate")
    code, _, err = run(folder, capsys)
    assert code == 1
    assert "mislabel of orr_tace_imaging_discussion" in err and "stale" in err


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_other_formats_carry_the_gate(tmp_path, capsys, fmt):
    folder = study(tmp_path, required_psm=True, declare=("os_hr_psm", None))
    assert main(["replicate", str(folder), *FAST, "--strict", "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        import json
        gate = json.loads(out)[0]["strict"]
        assert gate["passed"] and gate["expected_failures"][0]["holds"]
    else:
        assert "- os_hr_psm: fails as declared" in out


@pytest.mark.parametrize("verdict, reason, said", [
    ("undetermined", "within 2 MC SE (0.0104) of 0.025 at 100 replicates",
     "required target t undetermined (within 2 MC SE"),
    ("not estimable", "estimable 0/100", "required target t not estimable (estimable 0/100)"),
    ("not reproduced", "", "required target t NOT reproduced (z -3.10)"),
])
def test_a_required_target_fails_strict_in_its_own_verdict_word(verdict, reason, said):
    """An undetermined required target failed --strict as 'not estimable (undetermined at
    100 replicates ...)'."""
    from types import SimpleNamespace

    from tacebench.replications.strict import strict_outcome

    row = SimpleNamespace(id="t", required=True, verdict=verdict, spec_gap=False, z=-3.1,
                          reason=reason)
    result = SimpleNamespace(targets=(row,), shifts=(), expected_failures=(), mislabels={})
    (failure,) = strict_outcome("s", result).failures
    assert failure.startswith(f"s: {said}"), failure
