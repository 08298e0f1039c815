"""Reported numbers told apart: inputs of the generator, computed but not judged, and not
computed (replications.unjudged), in ``tacebench check`` and the accounting."""
from __future__ import annotations

import re
import shutil

import pytest

from tacebench.replications.accounting import Accounting
from tacebench.replications.check import check_folder
from tacebench.replications.unjudged import Kind

from .folders import FICTIONAL, edit as _edit
from .test_table1_targets import forms  # noqa: F401  (the fixture: the example's Table 1)

EXTRA = '''
[[targets]]
id = "n_tace_crude"
analysis = "crude"
quantity = "group_size"
arm = "TACE"
value = 160
role = "reported"
where = "text"
source = "160 patients received TACE"

[[targets]]
id = "os_p_crude"
analysis = "crude"
quantity = "p_value"
endpoint = "os"
p = 0.001
role = "reported"
where = "text"
source = "overall survival differed (p = 0.001)"

[[targets]]
id = "os_hr_pvt_multivariable"
analysis = "multivariable"
quantity = "hr"
endpoint = "os"
term = "pvt"
value = 1.60
role = "reported"
where = "text"
source = "PVTT was associated with death (HR 1.60)"
'''
PSM_HR = 'role = "predicted"\nwhere = "text"\nsource = "in the matched cohort the HR was 0.40'
PVTT_HR = 'role = "calibration"\nwhere = "text"\nsource = "PVTT was associated with death'


@pytest.fixture
def study(tmp_path):
    """The fictional study with a reported matched HR, a reported covariate HR cohort.toml
    gives the generator, a whole arm's size, a p-value and a misspelt covariate HR."""
    folder = tmp_path / "study"
    shutil.copytree(FICTIONAL, folder)
    _edit(folder, "targets.toml", PSM_HR, PSM_HR.replace("predicted", "reported"))
    _edit(folder, "targets.toml", PVTT_HR, PVTT_HR.replace("calibration", "reported"))
    with open(folder / "targets.toml", "a", encoding="utf-8") as f:
        f.write(EXTRA)
    return folder


def test_each_reported_number_gets_its_kind(study):
    kinds = check_folder(study).reported
    assert {tid: r.kind for tid, r in kinds.items()} == {
        "os_hr_pvtt_multivariable": Kind.INPUT,     # cohort.toml's effects give it
        "n_tace_crude": Kind.INPUT,                 # a whole arm's size
        "os_hr_psm": Kind.COMPUTED,                 # the psm analysis estimates it
        "os_p_crude": Kind.NOT_COMPUTED,            # no estimate computes a log-rank p
        "os_hr_pvt_multivariable": Kind.NOT_COMPUTED}
    assert "cohorts.main.outcomes.os.effects" in kinds["os_hr_pvtt_multivariable"].why
    assert kinds["os_hr_psm"].analysis == "psm"


def test_a_computed_reported_number_without_a_reason_is_an_error(study):
    report = check_folder(study)
    (e,) = [p for p in report.errors if p.kind == "unjudged-computed"]
    assert e.file.endswith("targets.toml") and e.key.endswith("(os_hr_psm).role")
    assert "computed by analysis 'psm'" in e.message
    assert 'role = "predicted"' in e.message and 'not_judged = "<reason>"' in e.message
    _edit(study, "targets.toml", 'note = "deliberately implausible',
          'not_judged = "the matched HR is shown, not judged"\nnote = "deliberately implausible')
    report = check_folder(study)
    assert [p for p in report.errors if p.kind == "unjudged-computed"] == []
    assert report.reported["os_hr_psm"].reason == "the matched HR is shown, not judged"


def test_a_reported_hr_of_a_term_its_model_lacks_is_a_warning_naming_the_terms(study):
    (w,) = [p for p in check_folder(study).problems if p.kind == "unjudged-term"]
    assert w.severity == "warning" and "(os_hr_pvt_multivariable).term" in w.key
    assert "'pvt' is not a term of analysis 'multivariable''s model" in w.message
    assert "'pvtt'" in w.message and "[aliases]" in w.message


def test_a_reported_table1_column_an_analysis_computes_is_one_error(forms, tmp_path):  # noqa: F811
    """The SMDs after weighting, left reported: one error on the column, not one per cell;
    the calibration columns' cells are inputs."""
    folder = tmp_path / "table"
    shutil.copytree(forms[1], folder)
    smd = 'quantity = "smd", role = "predicted"'
    _edit(folder, "cohort.toml", smd, 'quantity = "smd", role = "reported"')
    text = (folder / "targets.toml").read_text(encoding="utf-8")   # the table gives them
    (folder / "targets.toml").write_text("".join(
        c for c in re.split(r"(?m)^(?=\[)", text) if 'quantity = "smd"' not in c),
        encoding="utf-8")
    report = check_folder(folder)
    (e,) = [p for p in report.errors if p.kind == "unjudged-computed"]
    assert e.file.endswith("cohort.toml") and e.key == "cohorts.main.table1.columns[3]"
    assert "computed by analysis 'iptw'" in e.message
    assert report.reported["bl_male_tace_crude"].kind is Kind.INPUT
    assert "calibration column" in report.reported["bl_male_tace_crude"].why
    _edit(folder, "cohort.toml", 'role = "reported"',
          'role = "reported", not_judged = "balance is shown, not judged"')
    assert [p for p in check_folder(folder).errors if p.kind == "unjudged-computed"] == []


def test_the_accounting_sentence_splits_reported_only_into_three_kinds():
    a = Accounting("s", {}, {}, 0, 0, 10, 10, 0.0, 0,
                   reported_only={"p_value": 3, "proportion": 4, "hr": 2},
                   reported_kinds={"input": 4, "not computed": 3, "computed": 2},
                   not_judged={"shown, not judged": 1, "": 1})
    assert a.sentence().endswith(
        "; 9 reported only, not judged: 4 inputs of the generator (audited), 3 not computed "
        "by the run (audited), 2 computed but not judged (reasons: no reason given; "
        "'shown, not judged')")


def test_a_crude_smd_is_a_function_of_the_arms_the_cohort_is_drawn_from():
    """Seed 003's crude SMD column: each SMD between the arms of the unadjusted whole
    cohort follows from the two arms' drawn shares, so it is an input, not a computed
    number awaiting a reason."""
    from tacebench.simulate.studies import resolve_study

    kinds = check_folder(resolve_study("tace_mtt_pd1_lung")).reported
    smd = {tid: r for tid, r in kinds.items() if tid.endswith("_smd_crude")}
    assert len(smd) == 26 and {r.kind for r in smd.values()} == {Kind.INPUT}
    assert "drawn from" in smd["bl_hospital_smd_crude"].why


def test_a_reason_on_a_number_the_run_does_not_compute_is_a_warning(study):
    """not_judged explains why a computed number is not judged; on a p-value the run does
    not compute it says nothing, and check says so (a warning naming the key)."""
    _edit(study, "targets.toml", 'p = 0.001\nrole = "reported"',
          'p = 0.001\nrole = "reported"\nnot_judged = "no test"')
    found = [p for p in check_folder(study).problems if p.key.endswith(".not_judged")]
    assert len(found) == 1 and found[0].severity == "warning"
    assert "'os_p_crude' is not computed by the run" in found[0].message


def test_one_input_is_singular():
    from tacebench.replications.accounting import INPUT, NOT_COMPUTED
    a = Accounting("s", {}, {}, 0, 0, 1, 1, 0.0, 0, reported_only={"proportion": 3},
                   reported_kinds={INPUT: 1, NOT_COMPUTED: 2})
    assert "1 input of the generator" in a.sentence()


def test_a_reason_on_a_column_of_inputs_is_a_warning(tmp_path):
    """Seed 004's entire-cohort columns are the generator's inputs: a not_judged on such a
    column says nothing, and check says so once for the column."""
    from tacebench.simulate.studies import resolve_study

    folder = tmp_path / "s"
    shutil.copytree(resolve_study("len_sora_pd1_ehm"), folder)
    _edit(folder, "cohort.toml", 'analysis = "crude" },\n  { column = "Len+PD-1 (n=102)"',
          'analysis = "crude", not_judged = "inputs" },\n  { column = "Len+PD-1 (n=102)"')
    (p,) = [p for p in check_folder(folder).problems if p.key.endswith(".not_judged")]
    assert p.severity == "warning" and "37 inputs" in p.message
