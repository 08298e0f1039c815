"""Table 1 as a table: reading printed cells, and the cohort inputs a table gives."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from tacebench.simulate import generate_cohort, load_spec
from tacebench.simulate.spec_base import SpecError
from tacebench.simulate.table1 import expand_tables, read_table1
from tacebench.simulate.table1_cells import CellError, read_cell

HEADER = ["variable", "level", "Characteristic", "A (n = 100)", "B (n = 80)", "P"]
COLUMNS = [{"column": "A (n = 100)", "arm": "A", "analysis": "crude", "role": "calibration"},
           {"column": "B (n = 80)", "arm": "B", "analysis": "crude", "role": "calibration"},
           {"column": "P", "analysis": "crude", "quantity": "p_value"}]
ARMS = [{"label": "A", "n": 100, "treated": False}, {"label": "B", "n": 80, "treated": True}]


def _cohort(rows, variables=()):
    return {"study": {"id": "t"}, "cohorts": {"main": {
        "arms": ARMS, "variables": list(variables),
        "table1": {"rows": [HEADER, *rows], "columns": COLUMNS}}}}


@pytest.mark.parametrize("text, fmt, stats", [
    ("58.0 ± 10.0", "mean ± sd", {"mean": 58.0, "sd": 10.0}),
    ("58.0 +- 10.0", "mean ± sd", {"mean": 58.0, "sd": 10.0}),
    ("59.4 \\pm 9.2", "mean ± sd", {"mean": 59.4, "sd": 9.2}),
    ("136 (85.0)", "n (%)", {"count": 136, "percent": 85.0}),
    ("55(32.9%)", "n (%)", {"count": 55, "percent": 32.9}),
    ("1,136 (85.0)", "n (%)", {"count": 1136, "percent": 85.0}),
    ("0.03", "number", {"value": 0.03}),
    # a footnote mark after the last number is read past and kept in the text: each was
    # 'expected one of n (%), ...', and new-study's draft split its variable apart
    ("40 (80.0)a", "n (%)", {"count": 40, "percent": 80.0}),
    ("30 (60.0)*", "n (%)", {"count": 30, "percent": 60.0}),
    ("20 (50.0)\u2020", "n (%)", {"count": 20, "percent": 50.0}),
    ("20 (40.0)\u00b9", "n (%)", {"count": 20, "percent": 40.0}),
    ("12.3 \u00b1 2.1c", "mean \u00b1 sd", {"mean": 12.3, "sd": 2.1}),
])
def test_a_printed_cell_is_read_by_its_shape(text, fmt, stats):
    cell = read_cell(text)
    assert (cell.format, cell.stats, cell.text) == (fmt, stats, text)


def test_a_median_with_two_bounds_needs_the_label_or_a_format():
    assert read_cell("12.0 (8.5-16.0)", label="AFP, median (IQR)").stats == {
        "median": 12.0, "q1": 8.5, "q3": 16.0}
    assert read_cell("3.75 (0.9, 15.1)", label="Size, median (range)").stats == {
        "median": 3.75, "min": 0.9, "max": 15.1}
    assert read_cell("12.0 [8.5, 16.0]", "median (iqr)").format == "median (iqr)"
    with pytest.raises(CellError, match="IQR or range"):
        read_cell("12.0 (8.5-16.0)", label="AFP")
    with pytest.raises(CellError, match="does not lie between"):
        read_cell("20.0 (8.5-16.0)", label="AFP, median (IQR)")


def test_mean_sd_in_parentheses_is_read_as_such_only_when_the_label_says_so():
    assert read_cell("58.0 (10.0)", label="Age, mean (SD)").stats == {"mean": 58.0, "sd": 10.0}
    assert read_cell("58 (10.0)").format == "n (%)"
    with pytest.raises(CellError, match="whole count"):
        read_cell("58.5 (10.0)")


@pytest.mark.parametrize("text", ["NR", "", "-", "—", "N/A"])
def test_cells_that_print_no_number_give_nothing(text):
    assert read_cell(text) is None


@pytest.mark.parametrize("text, fmt", [("136 85.0", None), ("58.0 ± 10.0", "n (%)"),
                                       ("abc", None), ("136 (185.0)", None), ("1.4", "p")])
def test_an_unreadable_cell_is_an_error(text, fmt):
    with pytest.raises(CellError):
        read_cell(text, fmt)


@given(st.integers(0, 5000), st.floats(0, 100).map(lambda x: round(x, 1)))
def test_n_percent_round_trips(count, percent):
    cell = read_cell(f"{count} ({percent:.1f})")
    assert cell.stats == {"count": count, "percent": pytest.approx(percent)}


def test_p_values_and_bounds():
    assert read_cell("0.014", "p").stats == {"p": 0.014}
    bound = read_cell("< 0.001", "p")
    assert (bound.stats, bound.p_text) == ({"p": 0.001}, "<0.001")


def test_an_unreadable_cell_names_file_row_column_and_cell():
    data = _cohort([["male", "", "Male", "136 85.0", "95 (86.4)", "0.75"]])
    with pytest.raises(SpecError) as e:
        expand_tables(data, None)
    (key, msg), = e.value.problems
    assert key == "cohorts.main.table1.rows: row 2 ('Male'), column 'A (n = 100)'"
    assert "cell '136 85.0'" in msg


def test_a_table_gives_the_cohort_its_variables():
    data = _cohort([
        ["age", "", "Age, mean ± SD", "58.0 ± 10.0", "55.0 ± 9.5", "0.01"],
        ["male", "", "Male", "85 (85.0)", "70 (87.5)", "0.6"],
        ["cp", "", "Child-Pugh class", "", "", "0.2"],
        ["cp", "A", "A", "90 (90.0)", "70 (87.5)", ""],
        ["cp", "B", "B", "10 (10.0)", "10 (12.5)", ""],
    ], variables=[{"name": "age", "lower": 18}])
    out = expand_tables(data, None)["cohorts"]["main"]
    assert "table1" not in out
    v = {x["name"]: x for x in out["variables"]}
    assert v["age"] == {"name": "age", "lower": 18, "type": "continuous",
                        "arms": {"A": {"mean": 58.0, "sd": 10.0}, "B": {"mean": 55.0, "sd": 9.5}},
                        "source": "Age, mean ± SD\t58.0 ± 10.0\t55.0 ± 9.5\t0.01"}
    assert v["male"]["type"] == "binary" and v["male"]["arms"] == {"A": {"count": 85},
                                                                    "B": {"count": 70}}
    assert v["cp"]["levels"] == ["A", "B"] and v["cp"]["arms"]["B"] == {"counts": [70, 10]}
    assert [x["name"] for x in out["variables"]] == ["age", "male", "cp"]


@pytest.mark.parametrize("declared, why", [({"unit": "years", "lower": 18}, "unit, lower"),
                                           ({"type": "continuous"}, "type = 'continuous'")])
def test_a_declared_continuous_variable_whose_row_reads_as_n_percent_is_refused(declared, why):
    """'58.0 (10.0)' under 'Age' (no mean/SD in the label) reads as n (%): the variable
    silently became binary with count 58 (declared by unit and lower) or failed with
    'a continuous variable needs mean/sd' (declared by type)."""
    data = _cohort([["age", "", "Age", "58.0 (10.0)", "55.0 (9.5)", "0.01"]], [{"name": "age", **declared}])
    with pytest.raises(SpecError) as err:
        expand_tables(data, None)
    assert str(err.value) == (
        f"cohorts.main.table1.rows: variable 'age': is declared continuous ({why}) but its row (line 2, 'Age') reads as "
        "n (%) ('58.0 (10.0)'): for a mean (SD) declare format = \"mean (sd)\" on the row or say "
        "mean/SD in its label")
    data["cohorts"]["main"]["table1"]["rows"][1][2] = "Age, mean (SD)"
    v, = expand_tables(data, None)["cohorts"]["main"]["variables"]
    assert v["arms"] == {"A": {"mean": 58.0, "sd": 10.0}, "B": {"mean": 55.0, "sd": 9.5}}


def test_a_partial_categorical_row_keeps_an_explicit_unprinted_remainder():
    data = _cohort([["etiology", "HBV", "HBV", "60 (60.0)", "50 (62.5)", ""],
                    ["etiology", "HCV", "HCV", "20 (20.0)", "10 (12.5)", ""]])
    v, = expand_tables(data, None)["cohorts"]["main"]["variables"]
    assert v["levels"] == ["HBV", "HCV", "unprinted"]
    assert v["arms"] == {"A": {"counts": [60, 20, 20]}, "B": {"counts": [50, 10, 20]}}


def test_printed_counts_above_the_arm_are_an_error():
    data = _cohort([["x", "a", "a", "60 (60.0)", "50 (62.5)", ""],
                    ["x", "b", "b", "60 (60.0)", "30 (37.5)", ""]])
    with pytest.raises(SpecError, match="add up to 120, more than the 100"):
        expand_tables(data, None)


def test_declared_levels_set_the_order_and_must_match():
    rows = [["cp", "B", "B", "10 (10.0)", "10 (12.5)", ""],
            ["cp", "A", "A", "90 (90.0)", "70 (87.5)", ""]]
    v, = expand_tables(_cohort(rows, [{"name": "cp", "levels": ["A", "B"]}]),
                       None)["cohorts"]["main"]["variables"]
    assert v["arms"]["A"] == {"counts": [90, 10]}
    with pytest.raises(SpecError, match=r"not among the declared levels"):
        expand_tables(_cohort(rows, [{"name": "cp", "levels": ["A", "C"]}]), None)


def test_a_variable_declared_with_its_arms_is_left_as_written():
    declared = {"name": "male", "type": "binary", "arms": {"A": {"count": 1}, "B": {"count": 2}}}
    data = _cohort([["male", "", "Male", "85 (85.0)", "70 (87.5)", "0.6"]], [declared])
    assert expand_tables(data, None)["cohorts"]["main"]["variables"] == [declared]


def test_a_median_iqr_row_is_simulated_as_median_and_quartiles_not_a_mean():
    """A skewed lab printed as median (IQR): the cohort's quartiles match the printed ones."""
    data = _cohort([["afp", "", "AFP, ng/mL, median (IQR)", "40.0 (10.0-160.0)",
                     "60.0 (15.0-240.0)", "0.3"]])
    data["cohorts"]["main"]["arms"] = [dict(a, n=4000) for a in ARMS]
    v, = expand_tables(data, None)["cohorts"]["main"]["variables"]
    assert v["arms"]["A"] == {"median": 40.0, "q1": 10.0, "q3": 160.0}
    assert v["distribution"] == "lognormal" and "mean" not in v["arms"]["A"]
    spec = load_spec(expand_tables(data, None))
    cohort = generate_cohort(spec, seed=3)
    x = cohort.columns["afp"][cohort.columns["arm"] == cohort.arm_labels.index("A")]
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    # log-symmetric quartiles: a lognormal holds all three; 4000 draws, within 10%
    assert med == pytest.approx(40.0, rel=0.1)
    assert q1 == pytest.approx(10.0, rel=0.1) and q3 == pytest.approx(160.0, rel=0.1)
    assert np.mean(x) > 1.5 * med                  # skewed: the mean is not the median


def test_columns_are_checked_against_the_header():
    decl = {"rows": [HEADER], "columns": [{"column": "C", "arm": "A", "analysis": "crude"},
                                          {"column": "P", "analysis": "x", "role": "calibration",
                                           "quantity": "p_value"}]}
    with pytest.raises(SpecError) as e:
        read_table1(decl, None)
    msgs = " | ".join(m for _, m in e.value.problems)
    assert "'C' is not a column" in msgs and "only a column of cells calibrates" in msgs


def test_a_table_file_needs_the_study_folder(tmp_path):
    decl = {"file": "t.tsv", "columns": COLUMNS}
    with pytest.raises(SpecError, match="needs the study folder"):
        read_table1(decl, None)
    with pytest.raises(SpecError, match="cannot be read"):
        read_table1(decl, tmp_path)
    (tmp_path / "t.csv").write_text("\n".join(",".join(f'"{c}"' for c in r) for r in [
        HEADER, ["male", "", "Male", "85 (85.0)", "70 (87.5)", "0.6"]]), encoding="utf-8")
    table = read_table1({"file": "t.csv", "columns": COLUMNS}, tmp_path)
    assert table.rows[0].source == "Male\t85 (85.0)\t70 (87.5)\t0.6"


def test_a_repeated_column_header_is_an_error_and_quote_header_false_names_them():
    header = ["variable", "level", "Characteristic", "A (n = 100)", "P", "A (n = 90)", "P"]
    with pytest.raises(SpecError, match=r"\['P'\] repeat"):
        read_table1({"rows": [header], "columns": COLUMNS[:1]}, None)
    named = header[:-1] + ["P matched"]
    table = read_table1({"rows": [named], "columns": COLUMNS[:1], "quote_header": False}, None)
    assert table.header_source == ""


def test_weighted_cells_may_hold_sums_of_weights_but_do_not_calibrate():
    assert read_cell("5.9(30.2%)", weighted=True).stats == {"count": 5.9, "percent": 30.2}
    assert read_cell("0.0(0.0%)", weighted=True).stats["count"] == 0.0
    with pytest.raises(CellError, match="declare weighted = true"):
        read_cell("5.9(30.2%)")
    cols = [{"column": "A (n = 100)", "arm": "A", "analysis": "iptw", "role": "calibration",
             "weighted": True}]
    with pytest.raises(SpecError, match="weighted column does not calibrate"):
        read_table1({"rows": [HEADER], "columns": cols}, None)


def test_a_row_is_named_by_its_line_in_the_file(tmp_path):
    lines = ["# a comment", "\t".join(HEADER), "", "\t".join(
        ["male", "", "Male", "85 [85.0]", "70 (87.5)", "0.6"])]
    (tmp_path / "t.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        read_table1({"file": "t.tsv", "columns": COLUMNS}, tmp_path)
    assert e.value.problems[0][0] == "t.tsv: row 4 ('Male'), column 'A (n = 100)'"


def test_a_table_saved_by_a_spreadsheet_reads_as_the_plain_file(tmp_path):
    """A byte-order mark and CRLF line ends (Excel's "CSV UTF-8", Notepad): the mark was
    read into the first line, so a leading comment was taken for the header and every
    declared column was reported missing."""
    lines = ["# Table 1", "\t".join(HEADER), "\t".join(
        ["male", "", "Male, n (%)", "85 (85.0)", "70 (87.5)", "0.6"])]
    text = "\n".join(lines) + "\n"
    (tmp_path / "plain.tsv").write_text(text, encoding="utf-8")
    (tmp_path / "excel.tsv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    plain = read_table1({"file": "plain.tsv", "columns": COLUMNS}, tmp_path)
    excel = read_table1({"file": "excel.tsv", "columns": COLUMNS}, tmp_path)
    assert excel.rows == plain.rows and excel.header_source == plain.header_source


def test_a_table_not_saved_as_utf8_names_the_line_column_and_byte(tmp_path):
    """Excel's "Text (Tab delimited)" writes a Windows code page: the error said only
    "'utf-8' codec can't decode byte 0xb1 in position 348", under cohort.toml."""
    row = ["age", "", "Age, mean ± SD", "58.0 ± 10.0", "57.0 ± 9.0", "0.4"]
    (tmp_path / "t.tsv").write_bytes(("\t".join(HEADER) + "\n" + "\t".join(row) + "\n")
                                     .encode("cp1252"))
    with pytest.raises(SpecError) as e:
        read_table1({"file": "t.tsv", "columns": COLUMNS}, tmp_path)
    assert e.value.problems == [("cohorts.main.table1.file",
                                 "t.tsv: line 2, column 16: byte 0xB1 is not UTF-8 (in "
                                 "Latin-1 that byte is '±'); save the table as UTF-8")]


def test_a_table_with_the_wrong_separator_says_so(tmp_path):
    """A .tsv saved comma-separated: the header was reported as one odd column, no more."""
    (tmp_path / "t.tsv").write_text(",".join(HEADER) + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        read_table1({"file": "t.tsv", "columns": COLUMNS}, tmp_path)
    assert ("(the header is one cell holding commas: a tsv file is read tab-separated; "
            "save the table tab-separated as .tsv or comma-separated as .csv)"
            ) in e.value.problems[0][1]


def test_decimal_commas_are_named_as_such(tmp_path):
    """'136 (85,0)' was reported as a median whose bounds were neither IQR nor range."""
    row = ["male", "", "Male", "85 (85,0)", "70 (87,5)", "0,6"]
    (tmp_path / "t.tsv").write_text("\t".join(HEADER) + "\n" + "\t".join(row) + "\n",
                                    encoding="utf-8")
    with pytest.raises(SpecError) as e:
        read_table1({"file": "t.tsv", "columns": COLUMNS}, tmp_path)
    assert e.value.problems[0] == ("t.tsv", "cells such as '85 (85,0)' print decimal commas; "
                                   "tables are read with decimal points ('85 (85.0)'): "
                                   "replace them")
    ok = ["male", "", "Male", "1,136 (85.0)", "70 (87.5)", "0.6"]   # a thousands comma
    (tmp_path / "t.tsv").write_text("\t".join(HEADER) + "\n" + "\t".join(ok) + "\n",
                                    encoding="utf-8")
    table = read_table1({"file": "t.tsv", "columns": COLUMNS}, tmp_path)
    assert dict(table.rows[0].cells)["A (n = 100)"].stats["count"] == 1136


@pytest.mark.parametrize("text, fmt, stats", [
    ("58\u00b70 \u00b1 10\u00b70", "mean ± sd", {"mean": 58.0, "sd": 10.0}),
    ("136 (85\u00b70)", "n (%)", {"count": 136, "percent": 85.0}),
    ("0\u00b7014", "number", {"value": 0.014}),
])
def test_a_lancet_middle_dot_is_a_decimal_point(text, fmt, stats):
    """The Lancet's journals print 0·70: such a cell was 'expected one of n (%), ...'."""
    cell = read_cell(text)
    assert (cell.format, cell.stats) == (fmt, stats) and "\u00b7" not in cell.text


def test_a_p_column_may_name_the_two_arms_it_compares_and_nothing_else_may():
    cols = [COLUMNS[0], COLUMNS[1], dict(COLUMNS[2], compares=["B", "A"])]
    assert read_table1({"rows": [HEADER], "columns": cols}, None).columns[2].compares == (
        "B", "A")
    for bad in ([dict(COLUMNS[0], compares=["A", "B"])] + COLUMNS[1:],
                COLUMNS[:2] + [dict(COLUMNS[2], compares=["B"])]):
        with pytest.raises(SpecError) as e:
            read_table1({"rows": [HEADER], "columns": bad}, None)
        assert any(k.endswith(".compares") for k, _ in e.value.problems), e.value.problems


@pytest.mark.parametrize("text", ["20 (40.0)1", "5g", "a40 (80.0)"])
def test_a_digit_or_other_letter_is_no_footnote_mark(text):
    with pytest.raises(CellError):
        read_cell(text)


def test_a_thousands_separator_in_the_parenthesis_is_no_pair_of_bounds():
    """'38,568.7 (74,259.5)' (seed 000's alpha-fetoprotein, mean (SD)) was read as a
    median between 74 and 259.5, then refused: 'the median 38568.7 does not lie between'.
    Two bounds are read only where they can be bounds."""
    cell = read_cell("38,568.7 (74,259.5)", label="Alpha-fetoprotein, ng/mL, mean (SD)")
    assert (cell.format, cell.stats) == ("mean (sd)", {"mean": 38568.7, "sd": 74259.5})
    assert read_cell("38,568.7 (74,259.5)", "mean (sd)").stats["sd"] == 74259.5
    assert read_cell("12 (8,150)", label="Size, median (range)").stats == {
        "median": 12.0, "min": 8.0, "max": 150.0}
