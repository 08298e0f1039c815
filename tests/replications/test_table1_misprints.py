"""A Table 1 cell declared misprinted: its target holds the number meant and the print as its
``misprint``; the audit reports the misprint; a correction that fixes nothing fails check."""
from __future__ import annotations

import shutil

import pytest

from tacebench.replications.audit import audit_study
from tacebench.replications.check import check_folder
from tacebench.replications.targets import describe_misprint, load_targets
from tacebench.replications.targets.table import study_table_misprints
from tacebench.simulate.studies import resolve_study

STUDY = "len_sora_pd1_ehm"
#: seed 004's five percentages that disagree with their own counts
DECLARED = {"bl_metastasis_sites_le_5_len_pd_1_psm": ("30.5%", "32.9%"),
            "bl_metastasis_sites_gt_5_len_pd_1_psm": ("69.5%", "67.1%"),
            "bl_anti_virus_yes_sora_pd_1_crude": ("71.9%", "81.9%"),
            "bl_anti_virus_yes_len_pd_1_psm": ("74.6%", "74.4%"),
            "bl_cirrhosis_yes_sora_pd_1_psm": ("48.2%", "48.8%")}


@pytest.fixture(scope="module")
def folder():
    return resolve_study(STUDY)


def test_the_targets_hold_the_number_meant_and_the_print(folder):
    targets = load_targets(folder / "targets.toml")
    for tid, (printed, meant) in DECLARED.items():
        t = targets[tid]
        assert f"{t.value:.1%}" == meant and t.misprint is not None
        assert describe_misprint(t) == f"estimate printed {printed}, read as {meant}"
    assert set(study_table_misprints(folder)) == set(DECLARED)
    place, key = study_table_misprints(folder)["bl_cirrhosis_yes_sora_pd_1_psm"]
    assert key == "cohorts.main.table1.misprints[4]" and place == targets.places[
        "bl_cirrhosis_yes_sora_pd_1_psm"]


def test_the_audit_reports_each_as_a_misprint_not_a_count_mismatch(folder):
    report = audit_study(folder)
    by_rule = {}
    for f in report.findings:
        by_rule.setdefault(f.rule, set()).update(f.targets)
    assert set(DECLARED) <= by_rule["misprint"]
    assert not set(DECLARED) & by_rule.get("percent_matches_count", set())


def test_a_correction_that_fixes_nothing_fails_check_at_its_declaration(folder, tmp_path):
    copy = tmp_path / STUDY
    shutil.copytree(folder, copy)
    cohort = copy / "cohort.toml"
    text = cohort.read_text("utf-8")
    assert "meant = { percent = 48.8 }" in text
    cohort.write_text(text.replace("meant = { percent = 48.8 }", "meant = { percent = 48.5 }"),
                      "utf-8")
    bad = [p for p in check_folder(copy).problems if p.kind == "misprint-not-fixed"]
    assert [(p.file, p.key) for p in bad] == [(str(cohort), "cohorts.main.table1.misprints[4]")]
    assert bad[0].message.startswith("bl_cirrhosis_yes_sora_pd_1_psm: ")
    assert not any(p.kind == "misprint-not-fixed" for p in check_folder(folder).problems)


def test_a_bad_declaration_is_named_once_at_its_key(folder, tmp_path):
    """A Table 1 problem was named by the cohort loader and again, for targets.toml, as
    "its Table 1 cannot be read: ..." (the targets come from the same table)."""
    copy = tmp_path / STUDY
    shutil.copytree(folder, copy)
    cohort = copy / "cohort.toml"
    cohort.write_text(cohort.read_text("utf-8").replace("meant = { percent = 74.4 }",
                                                        "meant = { percent = 74.6 }"), "utf-8")
    (p,) = check_folder(copy).problems
    assert (p.file, p.key) == (str(cohort), "cohorts.main.table1.misprints[3].meant.percent")
    assert "equals the print ('61 (74.6)')" in p.message


def test_every_statistic_a_declaration_may_correct_is_a_number_a_target_holds():
    """simulate lists what a declaration may correct; the targets name where each goes (a
    statistic added to one list and not the other would be a KeyError at a study's load)."""
    from tacebench.replications.targets.table import _TARGET_KEY
    from tacebench.simulate.table1_misprints import CORRECTABLE

    assert set(_TARGET_KEY) == set(CORRECTABLE)


def test_a_targets_entry_that_replaces_a_misprinted_cell_is_named_in_targets_toml(folder, tmp_path):
    """A [[targets]] entry of a cell's id replaces the cell, misprint included: a correction
    of its own that fixes nothing is named at the entry, not at the cohort.toml declaration
    the cell no longer uses (the cell's place and the entry's differ)."""
    copy = tmp_path / STUDY
    shutil.copytree(folder, copy)
    entry = '''
[[targets]]
id = "bl_cirrhosis_yes_sora_pd_1_psm"
where = "table 1"
analysis = "psm"
term = "cirrhosis"
level = "Yes"
partition = "cirrhosis"
arm = "Sora+PD-1"
quantity = "proportion"
role = "predicted"
count = 40
percent = 48.5
source = "Yes\\t48 (37.8)\\t52 (51.0)\\t\\t40 (48.2)\\t36 (43.9)"
misprint = { percent = 48.2, why = "a correction that fixes nothing" }
'''
    targets_file = copy / "targets.toml"
    targets_file.write_text(targets_file.read_text("utf-8") + entry, "utf-8")
    bad = [p for p in check_folder(copy).problems if p.kind == "misprint-not-fixed"]
    assert [p.file for p in bad] == [str(targets_file)], [(p.file, p.key, p.message) for p in bad]
    assert bad[0].key.startswith("targets[")
    assert bad[0].key.endswith("(bl_cirrhosis_yes_sora_pd_1_psm).misprint")
