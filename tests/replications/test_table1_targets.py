"""The example paper of docs/study-format.md with its Table 1 as a table.

The page's example study (its long form) is rebuilt with its Table 1 given as ``table1.tsv`` plus the
``[cohorts.main.table1]`` declaration (the blocks marked ``<!-- table1: ... -->``): the
Table 1 variables and the ``table 1`` targets of the TOML form are dropped and the table
must give them back, the same cohort inputs and the same target ids and numbers.
"""
from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from tests.docs.test_study_format_examples import STUDY_FORMAT, example_files
from tacebench.replications.quotes import normalise as _norm

_TABLE1 = re.compile(r"<!--\s*table1:\s*([\w.]+)\s*-->\s*\n```\w*[ \t]*\n(.*?)^```", re.S | re.M)
TABLE_VARIABLES = ("age", "male", "child_pugh", "pvtt")


def _chunks(text: str) -> list[str]:
    """A TOML file cut before each table header (``[x]`` / ``[[x]]``)."""
    return re.split(r"(?m)^(?=\[)", text)


def _drop_table1(cohort: str, targets: str) -> tuple[str, str]:
    """The TOML form without what the table gives: its variables and its table 1 targets."""
    names = "|".join(TABLE_VARIABLES)
    cohort = "".join(c for c in _chunks(cohort) if not (
        c.startswith("[[cohorts.main.variables]]") and re.search(rf'^name = "({names})"', c, re.M)))
    targets = "".join(c for c in _chunks(targets) if not (
        c.startswith("[[baseline]]") or (c.startswith("[[targets]]") and 'where = "table 1"' in c
                                        and 'role = "predicted"' not in c)))
    return cohort, targets


@pytest.fixture(scope="module")
def forms(tmp_path_factory) -> tuple[Path, Path]:
    """(TOML form, table form) of the example study."""
    page = STUDY_FORMAT.read_text(encoding="utf-8")
    files = {**example_files(page), **example_files(page, "long form")}   # the TOML form
    table = dict(_TABLE1.findall(page))
    assert set(table) == {"table1.tsv", "cohort.toml"}
    root = tmp_path_factory.mktemp("table1")
    toml_form, table_form = root / "toml_form", root / "table_form"
    cohort, targets = _drop_table1(files["cohort.toml"], files["targets.toml"])
    for folder, parts in ((toml_form, (files["cohort.toml"], files["targets.toml"])),
                          (table_form, (cohort + "\n" + table["cohort.toml"], targets))):
        folder.mkdir()
        (folder / "cohort.toml").write_text(parts[0], encoding="utf-8")
        (folder / "targets.toml").write_text(parts[1], encoding="utf-8")
        (folder / "analysis.toml").write_text(files["analysis.toml"], encoding="utf-8")
        (folder / "paper.txt").write_text(files["paper"], encoding="utf-8")
    (table_form / "table1.tsv").write_text(table["table1.tsv"], encoding="utf-8")
    return toml_form, table_form


def test_the_table_form_is_shorter_and_passes_the_check(forms):
    from tacebench.replications.check import check_folder

    toml_form, table_form = forms
    report = check_folder(table_form)
    assert [str(p) for p in report.problems] == []
    lines = {f: {d.name: len((d / f).read_text("utf-8").splitlines()) for d in forms}
             for f in ("cohort.toml", "targets.toml")}
    saved = sum(v["toml_form"] - v["table_form"] for v in lines.values())
    assert saved > 100, lines                  # the table file has 6 lines


def test_the_table_gives_the_same_cohort_inputs(forms):
    from tacebench.simulate import load_spec

    specs = [load_spec(folder).cohorts["main"] for folder in forms]
    by_name = [{v.name: dataclasses.replace(v, source="") for v in s.variables} for s in specs]
    assert by_name[0] == by_name[1]
    quoted = {v.name: v.source for v in specs[1].variables if v.source}
    assert set(quoted) == set(TABLE_VARIABLES)


def test_the_table_gives_the_same_targets_and_lists_their_ids(forms):
    from tacebench.replications.targets import load_targets
    from tacebench.replications.targets.table import table_target_ids

    toml_form, table_form = forms
    old, new = load_targets(toml_form), load_targets(table_form)
    ids = table_target_ids(table_form)
    assert ids == [                            # stable: the convention's ids, in table order
        "n_tace_crude", "n_tace_l_crude", "age_mean_tace_crude", "age_mean_tace_l_crude",
        "bl_male_tace_crude", "bl_male_tace_l_crude", "bl_child_pugh_a_tace_crude",
        "bl_child_pugh_a_tace_l_crude", "bl_child_pugh_b_tace_crude",
        "bl_child_pugh_b_tace_l_crude", "bl_pvtt_tace_crude", "bl_pvtt_tace_l_crude",
        "p_age_crude", "bl_age_smd_iptw", "p_male_crude", "bl_male_smd_iptw",
        "p_child_pugh_crude", "bl_child_pugh_smd_iptw", "p_pvtt_crude", "bl_pvtt_smd_iptw"]
    assert set(ids) <= {t.id for t in new}
    keep = ("quantity", "analysis", "term", "level", "arm", "value", "count", "p", "p_text",
            "role", "partition", "compares", "weighted", "where")
    table1 = [t for t in old if t.where == "table 1"]
    assert len(table1) == 20
    for t in table1:
        assert t.id in {u.id for u in new}, t.id
        got = new[t.id]
        assert {k: getattr(got, k) for k in keep} == {k: getattr(t, k) for k in keep}, t.id
    # cells the TOML form left out are there too, e.g. the SMDs of the other rows
    assert new["bl_age_smd_iptw"].value == 0.03 and new["bl_age_smd_iptw"].role == "predicted"


def test_every_table_quote_is_in_the_paper(forms):
    from tacebench.replications.targets import load_targets
    from tacebench.simulate import load_spec

    table_form = forms[1]
    paper = _norm((table_form / "paper.txt").read_text("utf-8"))
    quotes = [t.source for t in load_targets(table_form) if t.where == "table 1"]
    quotes += [v.source for v in load_spec(table_form).cohorts["main"].variables if v.source]
    assert quotes and [q for q in quotes if _norm(q) not in paper] == []


def test_a_wrong_cell_fails_the_check_naming_file_row_and_column(forms, tmp_path):
    from tacebench.replications.check import check_folder

    for f in forms[1].iterdir():
        (tmp_path / f.name).write_text(f.read_text("utf-8"), encoding="utf-8")
    tsv = tmp_path / "table1.tsv"
    tsv.write_text(tsv.read_text("utf-8").replace("136 (85.0)", "136 [85.0]"), encoding="utf-8")
    text = " | ".join(str(p) for p in check_folder(tmp_path).errors)
    assert "table1.tsv: row 3 ('Male'), column 'TACE (n = 160)'" in text
    assert "cell '136 [85.0]'" in text


def test_a_cell_that_disagrees_with_its_quote_is_caught(forms, tmp_path):
    """The derived targets go through the target checks: a count off its percentage."""
    from tacebench.replications.audit import audit_study

    for f in forms[1].iterdir():
        (tmp_path / f.name).write_text(f.read_text("utf-8"), encoding="utf-8")
    tsv = tmp_path / "table1.tsv"
    tsv.write_text(tsv.read_text("utf-8").replace("30 (18.8)", "40 (18.8)"), encoding="utf-8")
    rules = {f.rule for f in audit_study(tmp_path).findings if f.severity == "error"}
    assert rules, "a count of 40 printed as 18.8% of 160 must be an audit error"


@pytest.mark.slow
def test_the_table_form_replicates_end_to_end(forms):
    """40 replicates of the table form: every simulated target gets a verdict."""
    from tacebench.replications.check import load_study
    from tacebench.replications.reproduce import reproduce

    result = reproduce(load_study(forms[1]), reps=40, seed=1, decompose_reps=0)
    verdicts = {t.id: t.verdict for t in result.targets}
    assert {"bl_age_smd_iptw", "bl_male_smd_iptw", "bl_pvtt_smd_iptw"} <= set(verdicts)
    assert "not estimable" not in verdicts.values()


def test_toml_rows_work_like_a_file(forms, tmp_path):
    from tacebench.replications.targets.table import table_target_ids

    table_form = forms[1]
    rows = [line.split("\t") for line in
            (table_form / "table1.tsv").read_text("utf-8").splitlines() if line]
    cohort = (table_form / "cohort.toml").read_text("utf-8").replace(
        'file = "table1.tsv"', "rows = " + repr(rows).replace("'", '"'))
    assert cohort != (table_form / "cohort.toml").read_text("utf-8")
    tomllib.loads(cohort)
    for name in ("targets.toml", "analysis.toml"):
        (tmp_path / name).write_text((table_form / name).read_text("utf-8"), encoding="utf-8")
    (tmp_path / "cohort.toml").write_text(cohort, encoding="utf-8")
    assert table_target_ids(tmp_path) == table_target_ids(table_form)


# ------------------------------------------------------------------ shipped seeds

SHIPPED = Path(__file__).resolve().parents[2] / "tacebench" / "studies"
WITH_TABLE = sorted(p for p in SHIPPED.iterdir()
                    if (p / "cohort.toml").is_file() and "table1]" in (p / "cohort.toml").read_text("utf-8"))


def test_a_seed_ships_its_table_1_as_a_table():
    assert "tace_regorafenib" in {p.name for p in WITH_TABLE}


@pytest.mark.parametrize("folder", WITH_TABLE, ids=lambda p: p.name)
def test_every_cell_of_a_seed_table_is_in_the_paper(seeds_dir, folder):
    """Each row's quote (its printed cells joined by tabs) and each cell, in the seed text."""
    from tacebench.simulate.table1 import study_tables

    seed_file = tomllib.loads((folder / "targets.toml").read_text("utf-8"))["study"]["seed_file"]
    seed = _norm((seeds_dir / seed_file).read_text("utf-8"))
    tables = study_tables(tomllib.loads((folder / "cohort.toml").read_text("utf-8")), folder)
    assert tables
    for table in tables:
        assert _norm(table.header_source) in seed
        missing = [(r.line, r.source) for r in table.rows if _norm(r.source) not in seed]
        missing += [(r.line, v.text) for r in table.rows for _, v in r.cells
                    if _norm(v.text) not in seed]
        assert missing == [], f"{folder.name}/{table.file}: not in {seed_file}: {missing[:3]}"


def test_the_migrated_seed_keeps_its_target_ids():
    """Seed 001's Table 1 moved from 27 [[baseline]] blocks to table1.tsv: the same ids, with
    the age and tumour-size summary rows that the blocks had left out."""
    from tacebench.replications.targets import load_targets, table_target_ids

    folder = SHIPPED / "tace_regorafenib"
    arm = "tace_regorafenib_crude"
    cells = ["sex_male", "sex_female", "ecog_0", "ecog_1", "ecog_2", "bclc_b", "bclc_c",
             "hepatitis_b", "hepatitis_c", "hepatitis_none", "tumor_number_single",
             "tumor_number_multiple", "tumor_number_unknown", "child_pugh_a", "child_pugh_b",
             "mvi", "afp_400", "hypertension", "diabetes", "extrahepatic_metastasis",
             "prior_surgery", "prior_ablation", "prior_tace", "prior_radiotherapy",
             "prior_systemic_sorafenib", "prior_systemic_lenvatinib",
             "prior_systemic_sorafenib_then_lenvatinib"]
    # the header's group size is the one the Results text prints ([[targets]] replaces it);
    # age (mean ± SD, median (range)) and tumour size (median (range)) are summaries
    ids = table_target_ids(folder)
    assert ids == ([f"n_{arm}", f"age_mean_{arm}", f"age_median_{arm}"]
                   + [f"bl_{c}_{arm}" for c in cells[:10]] + [f"tumor_size_median_{arm}"]
                   + [f"bl_{c}_{arm}" for c in cells[10:]])
    targets = load_targets(folder)
    assert targets[f"n_{arm}"].where == "text"
    assert targets[f"bl_sex_male_{arm}"].partition == "sex"
    assert targets[f"bl_mvi_{arm}"].partition is None
    assert len(targets.targets) == 169


def test_the_matched_seed_table_gives_cells_and_p_values_before_and_after_matching():
    """Seed 004: 37 rows x 4 cells and 17 x 2 p-values from one 57-line table."""
    from tacebench.replications.targets import load_targets, table_target_ids

    folder = SHIPPED / "len_sora_pd1_ehm"
    ids = table_target_ids(folder)
    assert len(ids) == len(set(ids)) == 37 * 4 + 17 * 2
    targets = load_targets(folder)
    p = targets["p_age_psm"]
    assert (p.p, p.test, p.compares) == (0.175, "chi-square", (
        "bl_age_le_60_sora_pd_1_psm", "bl_age_le_60_len_pd_1_psm"))
    # a three-level row's p is not a 2 x 2 test: quoted, compared with nothing
    assert targets["p_pvtt_type_crude"].compares == ()
    assert targets["bl_pvtt_type_iii_iv_len_pd_1_psm"].count == 22
    assert not any(i.startswith("n_") for i in ids)      # quote_header = false


def test_a_pooled_column_and_a_weighted_column_give_their_targets(tmp_path):
    from tacebench.replications.targets.table import table_targets
    from tacebench.simulate.table1 import read_table1

    rows = [["variable", "level", "Characteristic", "Overall (n = 167)", "A (n = 26)",
             "A weighted"],
            ["sex", "F", "F", "22(13.2%)", "3(11.5%)", "1.3(6.6%)"]]
    cols = [{"column": "Overall (n = 167)", "analysis": "crude"},
            {"column": "A (n = 26)", "arm": "A", "analysis": "crude"},
            {"column": "A weighted", "arm": "A", "analysis": "iptw", "weighted": True}]
    got = {t["id"]: t for _, t in table_targets(read_table1({"rows": rows, "columns": cols}, None))}
    assert got["n_crude"]["value"] == 167 and "arm" not in got["bl_sex_f_crude"]
    assert got["bl_sex_f_a_crude"]["count"] == 3
    assert got["bl_sex_f_a_iptw"]["count"] == 1.3 and got["bl_sex_f_a_iptw"]["weighted"] is True


# ------------------------------------------------------------------ mean ± SD with a split

SPLIT_ROW = "age\t> 60\tAge > 60 years\t50 (31.2)\t40 (36.4)\t\t"


def _with_split_row(table_form: Path, folder: Path) -> Path:
    """The example's table form plus a printed split of age (the mean ± SD row stays)."""
    import shutil

    shutil.copytree(table_form, folder)
    tsv = folder / "table1.tsv"
    tsv.write_text(tsv.read_text("utf-8").rstrip("\n") + "\n" + SPLIT_ROW + "\n", encoding="utf-8")
    paper = folder / "paper.txt"
    paper.write_text(paper.read_text("utf-8") + "\n" + SPLIT_ROW.split("\t", 2)[2].strip() + "\n",
                     encoding="utf-8")
    return folder


def test_a_split_row_beside_the_mean_row_is_a_target_and_a_cohort_input(forms, tmp_path):
    from tacebench.replications.check import check_folder, load_study
    from tacebench.replications.targets.table import table_target_ids
    from tacebench.simulate import load_spec

    folder = _with_split_row(forms[1], tmp_path / "split")
    ids = table_target_ids(folder)
    assert {"bl_age_gt_60_tace_crude", "bl_age_gt_60_tace_l_crude", "age_mean_tace_crude"} <= set(ids)
    age = load_spec(folder).cohorts["main"].variable("age")
    assert age.printed_moments and age.cutpoints == (60.0,)
    assert age.arms["TACE"].counts == (110, 50) and age.arms["TACE"].mean == 58.0
    assert [str(p) for p in check_folder(folder).problems] == []
    targets = {t.id: t for t in load_study(folder).targets.targets}
    cell = targets["bl_age_gt_60_tace_crude"]
    assert (cell.quantity, cell.level, cell.count, cell.role) == ("proportion", "> 60", 50, "reported")
    assert "Age > 60 years\t50 (31.2)" in cell.source


def test_a_split_level_binds_as_a_condition_on_the_continuous_column(forms, tmp_path):
    from tacebench.replications.analysis.schema import schema_from_spec
    from tacebench.replications.analysis.terms import split_condition
    from tacebench.simulate.table1 import read_cohort_toml

    folder = _with_split_row(forms[1], tmp_path / "split")
    schema = schema_from_spec(read_cohort_toml(folder / "cohort.toml"), "main")
    assert split_condition("age", "> 60", schema) == "age>=60"
    assert split_condition("age", "≤ 60", schema) == "age<60"
    assert split_condition("child_pugh", "> 60", schema) is None      # categorical: its level
    assert split_condition("age", "old", schema) is None


def test_split_rows_are_a_partition_only_when_every_bin_is_printed():
    from tacebench.replications.targets.table import table_targets
    from tacebench.simulate.table1 import read_table1

    header = ["variable", "level", "Characteristic", "A (n = 100)"]
    cols = [{"column": "A (n = 100)", "arm": "A", "analysis": "crude", "role": "calibration"}]
    arms = [{"label": "A", "n": 100}]

    def partitions(*levels):
        rows = [header, ["age", "", "Age", "58.0 ± 10.0"]] + [
            ["age", lv, f"Age {lv}", f"{c} ({c}.0)"] for lv, c in levels]
        return {t.get("partition") for _, t in table_targets(read_table1({"rows": rows, "columns": cols}, None), arms)
                if t["quantity"] == "proportion"}

    assert partitions(("< 60", 70), (">= 60", 30)) == {"age"}
    assert partitions(("< 50", 20), (">= 65", 15)) == {None}       # the middle bin is not printed


def test_a_p_column_lists_the_compared_cells_in_column_order_or_as_declared():
    from tacebench.replications.targets.table import table_targets
    from tacebench.simulate.table1 import read_table1

    header = ["variable", "level", "Characteristic", "Overall", "A (n = 100)", "B (n = 80)", "P"]
    row = ["male", "", "Male", "155 (86.1)", "85 (85.0)", "70 (87.5)", "0.6"]
    cols = [{"column": "Overall", "analysis": "crude"},
            {"column": "A (n = 100)", "arm": "A", "analysis": "crude"},
            {"column": "B (n = 80)", "arm": "B", "analysis": "crude"},
            {"column": "P", "analysis": "crude", "quantity": "p_value"}]

    def compares(p_column):
        table = read_table1({"rows": [header, row], "columns": cols[:3] + [p_column]}, None)
        return next(t for _, t in table_targets(table) if t["quantity"] == "p_value").get(
            "compares")

    # in column order the pooled cell is a third cell: a 2 x 2 test has two
    assert compares(cols[3]) == ["bl_male_crude", "bl_male_a_crude", "bl_male_b_crude"]
    assert compares(dict(cols[3], compares=["B", "A"])) == ["bl_male_b_crude",
                                                             "bl_male_a_crude"]


def test_a_reported_column_passes_its_reason_for_not_being_judged_to_its_cells():
    """``not_judged`` on a column reaches every cell target; on a judged column it is
    refused, naming the column's key."""
    from tacebench.replications.targets.table import table_targets
    from tacebench.simulate.spec_base import SpecError
    from tacebench.simulate.table1 import read_table1

    rows = [["variable", "level", "Characteristic", "A weighted"],
            ["sex", "F", "F", "1.3(6.6%)"]]
    col = {"column": "A weighted", "arm": "A", "analysis": "iptw", "weighted": True,
           "not_judged": "no single-term spelling"}
    (_, t), = [x for x in table_targets(read_table1({"rows": rows, "columns": [col]}, None))
               if x[1]["quantity"] == "proportion"]
    assert t["not_judged"] == "no single-term spelling" and t["role"] == "reported"
    with pytest.raises(SpecError, match=r"columns\[0\]\.not_judged.*role is 'predicted'"):
        read_table1({"rows": rows, "columns": [dict(col, role="predicted")]}, None)


def test_a_weighted_p_value_column_gives_weighted_targets():
    from tacebench.replications.targets.table import table_targets
    from tacebench.simulate.table1 import read_table1

    rows = [["variable", "level", "Characteristic", "A w", "B w", "P w"],
            ["sex", "F", "F", "1.3(6.6%)", "2.1(8.0%)", "0.72"]]
    cols = [{"column": "A w", "arm": "A", "analysis": "iptw", "weighted": True},
            {"column": "B w", "arm": "B", "analysis": "iptw", "weighted": True},
            {"column": "P w", "analysis": "iptw", "quantity": "p_value", "weighted": True}]
    got = {x[-1]["id"]: x[-1] for x in table_targets(read_table1({"rows": rows,
                                                                "columns": cols}, None))}
    (p,) = [t for t in got.values() if t["quantity"] == "p_value"]
    assert p["weighted"] is True
