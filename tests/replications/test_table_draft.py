"""``tacebench new-study --from-table``: a study folder whose Table 1 part is filled in."""
from __future__ import annotations

import tomllib

import pytest

from tacebench.cli import main
from tacebench.replications.table_draft import cohort_part, draft_table, draft_target_ids
from tacebench.simulate.table1 import expand_tables

# the example paper's Table 1 (docs/study-format.md) with a heading row, as copied
EXAMPLE = """Characteristic\tTACE (n = 160)\tTACE-L (n = 110)\tP\tSMD after weighting
Age, years, mean ± SD\t58.0 ± 10.0\t55.0 ± 9.5\t0.014\t0.03
Male\t136 (85.0)\t95 (86.4)\t0.75\t0.02
Child-Pugh class\t\t\t0.26\t0.01
A\t140 (87.5)\t101 (91.8)
B\t20 (12.5)\t9 (8.2)
PVTT\t30 (18.8)\t35 (31.8)\t0.014\t0.01
"""
# a PSM paper: the arms before and after matching, a median (IQR) and a partial row
MATCHED = """Variable\tTACE (n = 480)\tTACE+S (n = 480)\tP\tTACE (n = 449)\tTACE+S (n = 449)\tP\tSMD
AFP, ng/mL, median (IQR)\t120.0 (20.0-720.0)\t150.0 (25.0-900.0)\t0.20\t125.0 (20.0-750.0)\t140.0 (24.0-820.0)\t0.61\t0.03
Etiology, n (%)\t\t\t0.40\t\t\t0.80\t0.02
HBV\t400 (83.3)\t390 (81.3)\t\t372 (82.9)\t368 (82.0)
HCV\t30 (6.3)\t40 (8.3)\t\t28 (6.2)\t33 (7.3)
"""


def test_new_study_from_a_printed_table_lists_the_ids(tmp_path, capsys):
    (tmp_path / "t1.tsv").write_text(EXAMPLE, encoding="utf-8")
    assert main(["new-study", "my_paper", "--dir", str(tmp_path),
                 "--from-table", str(tmp_path / "t1.tsv")]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "my_paper"
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "analysis.toml", "cohort.toml", "table1.tsv", "targets.toml"]
    ids = ["n_tace_crude", "n_tace_l_crude", "age_mean_tace_crude", "age_mean_tace_l_crude",
           "bl_male_tace_crude", "bl_male_tace_l_crude", "bl_child_pugh_class_a_tace_crude",
           "bl_child_pugh_class_a_tace_l_crude", "bl_child_pugh_class_b_tace_crude",
           "bl_child_pugh_class_b_tace_l_crude", "bl_pvtt_tace_crude", "bl_pvtt_tace_l_crude",
           "p_age_crude", "bl_age_smd_iptw", "p_male_crude", "bl_male_smd_iptw",
           "p_child_pugh_class_crude", "bl_child_pugh_class_smd_iptw", "p_pvtt_crude",
           "bl_pvtt_smd_iptw"]
    assert "20 Table 1 target(s)" in out and all(f"  {i}\n" in out + "\n" for i in ids)
    assert all(f"#   {i}\n" in (folder / "targets.toml").read_text("utf-8") for i in ids)
    cohort = tomllib.loads((folder / "cohort.toml").read_text("utf-8"))
    assert [(a["label"], a["n"]) for a in cohort["cohorts"]["main"]["arms"]] == [
        ("TACE", 160), ("TACE-L", 110)]
    variables = expand_tables(cohort, folder)["cohorts"]["main"]["variables"]
    assert {v["name"]: v["type"] for v in variables} == {
        "age": "continuous", "male": "binary", "child_pugh_class": "categorical",
        "pvtt": "binary"}
    # the rest of the folder is still the template: check lists what is left to fill
    assert main(["check", str(folder)]) == 1
    assert "fill me" in capsys.readouterr().out.lower()


def test_a_matched_table_declares_before_and_after_columns(tmp_path):
    path = tmp_path / "t1.tsv"
    path.write_text(MATCHED, encoding="utf-8")
    draft = draft_table(path)
    assert draft.arms == (("TACE", 480), ("TACE+S", 480))
    assert [(c["analysis"], c.get("arm"), c.get("role"), c.get("quantity"))
            for c in draft.columns] == [
        ("crude", "TACE", "calibration", None), ("crude", "TACE+S", "calibration", None),
        ("crude", None, None, "p_value"), ("matched", "TACE", "predicted", None),
        ("matched", "TACE+S", "predicted", None), ("matched", None, None, "p_value"),
        ("matched", None, "predicted", "smd")]
    assert draft.columns[5]["column"] == "P (2)" and not draft.quote_header
    assert 'quote_header = false' in cohort_part(draft)
    ids = draft_target_ids(draft)           # cells (2 levels and the AFP median), p, SMD
    assert len(ids) == 3 * 2 * 2 + 2 * 2 + 2 * 1
    assert {"afp_median_tace_matched", "afp_median_tace_s_matched"} <= set(ids)
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "table1.tsv").write_text(draft.table_text, encoding="utf-8")
    decl = {"file": "table1.tsv", "columns": list(draft.columns), "quote_header": False}
    raw = {"cohorts": {"main": {"arms": [{"label": "TACE", "n": 480},
                                         {"label": "TACE+S", "n": 480}], "table1": decl}}}
    v = {x["name"]: x for x in expand_tables(raw, folder)["cohorts"]["main"]["variables"]}
    assert v["afp"]["arms"]["TACE"] == {"median": 120.0, "q1": 20.0, "q3": 720.0}
    assert v["afp"]["distribution"] == "lognormal"
    # only HBV and HCV printed: the rest of each arm is an explicit remainder
    assert v["etiology"]["levels"] == ["HBV", "HCV", "unprinted"]
    assert v["etiology"]["arms"]["TACE"] == {"counts": [400, 30, 50]}
    # its p is over three categories: not a 2 x 2 test of HBV, so it compares nothing
    from tacebench.replications.targets.table import table_targets
    from tacebench.simulate.table1 import read_table1

    arms = [{"label": "TACE", "n": 480}, {"label": "TACE+S", "n": 480}]
    got = {t["id"]: t for _, t in table_targets(read_table1(decl, folder), arms)}
    assert "compares" not in got["p_etiology_crude"]
    assert "partition" not in got["bl_etiology_hbv_tace_crude"]


def test_a_table_from_a_spreadsheet_drafts_as_the_plain_file(tmp_path, capsys):
    """With a byte-order mark and CRLF the draft is the same; in a Windows code page the
    error names the file, line and byte (it was the codec's message alone)."""
    (tmp_path / "plain.tsv").write_text(EXAMPLE, encoding="utf-8")
    (tmp_path / "excel.tsv").write_bytes(b"\xef\xbb\xbf" + EXAMPLE.replace("\n", "\r\n")
                                         .encode("utf-8"))
    assert draft_table(tmp_path / "excel.tsv") == draft_table(tmp_path / "plain.tsv")
    (tmp_path / "cp.tsv").write_bytes(EXAMPLE.encode("cp1252"))
    assert main(["new-study", "p", "--dir", str(tmp_path),
                 "--from-table", str(tmp_path / "cp.tsv")]) == 2
    assert ("cp.tsv: line 2, column 18: byte 0xB1 is not UTF-8 (in Latin-1 that byte is "
            "'±'); save the table as UTF-8") in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_a_semicolon_csv_says_what_its_separator_is(tmp_path):
    """Excel's CSV where the decimal mark is a comma uses semicolons."""
    (tmp_path / "t1.csv").write_text(EXAMPLE.replace("\t", ";"), encoding="utf-8")
    with pytest.raises(ValueError, match="one cell holding semicolons: a csv file is read "
                                         "comma-separated"):
        draft_table(tmp_path / "t1.csv")


def test_a_table_without_arm_columns_is_refused(tmp_path, capsys):
    (tmp_path / "t1.tsv").write_text("Characteristic\tA\tB\nMale\t1 (10.0)\t2 (20.0)\n",
                                     encoding="utf-8")
    assert main(["new-study", "p", "--dir", str(tmp_path),
                 "--from-table", str(tmp_path / "t1.tsv")]) == 2
    assert "no arm column found" in capsys.readouterr().err
    with pytest.raises(ValueError, match="empty"):
        (tmp_path / "e.tsv").write_text("", encoding="utf-8")
        draft_table(tmp_path / "e.tsv")


def test_footnote_marks_keep_a_heading_with_its_levels(tmp_path):
    """'Male 40 (80.0)a' under 'Sex, n (%)' (its p-value on the heading): the mark made
    the cell unreadable, so the heading lost its variable ('a row with cells needs its
    variable') and ECOG's levels 0 and 1 became two variables v_0 and v_1."""
    table = ("Characteristic\tTACE (n = 50)\tTACE+S (n = 40)\tP\n"
             "Sex, n (%)\t\t\t0.52\nMale\t40 (80.0)a\t30 (75.0)\t\nFemale\t10 (20.0)\t10 (25.0)\t\n"
             "ECOG PS, n (%)\t\t\t0.30\n0\t30 (60.0)*\t20 (50.0)\t\n1\t20 (40.0)\t20 (50.0)\u2020\t\n")
    (tmp_path / "t1.tsv").write_text(table, encoding="utf-8")
    rows = [r.split("\t")[:3] for r in draft_table(tmp_path / "t1.tsv").table_text.splitlines()]
    assert rows[1:] == [["sex", "", "Sex, n (%)"], ["sex", "Male", "Male"],
                        ["sex", "Female", "Female"], ["ecog_ps", "", "ECOG PS, n (%)"],
                        ["ecog_ps", "0", "0"], ["ecog_ps", "1", "1"]]
