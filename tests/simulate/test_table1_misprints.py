"""``misprints`` of a Table 1 declaration: a cell printed wrongly is read as meant."""
from __future__ import annotations

import pytest

from tacebench.simulate.spec_base import SpecError
from tacebench.simulate.table1 import expand_tables, read_table1

HEADER = ["variable", "level", "Characteristic", "A (n = 100)", "B (n = 80)", "P"]
COLUMNS = [{"column": "A (n = 100)", "arm": "A", "analysis": "crude", "role": "calibration"},
           {"column": "B (n = 80)", "arm": "B", "analysis": "crude", "role": "calibration"},
           {"column": "P", "analysis": "crude", "quantity": "p_value"}]
ARMS = [{"label": "A", "n": 100, "treated": False}, {"label": "B", "n": 80, "treated": True}]
ROWS = [["age", "", "Age, mean ± SD", "58.0 ± 10.0", "55.0 ± 9.5", "0.01"],
        ["male", "", "Male", "58 (85.0)", "70 (87.5)", "0.6"],      # 58: printed for 85
        ["cp", "", "Child-Pugh class", "", "", "0.2"],
        ["cp", "A", "A", "90 (90.0)", "70 (87.5)", ""],
        ["cp", "B", "B", "10 (10.0)", "10 (12.5)", "<0.001"]]
WHY = "85 (85.0) of 100 is the only count the percentage allows"
MALE = {"variable": "male", "column": "A (n = 100)", "meant": {"count": 85}, "why": WHY}


def _table(misprints):
    return {"rows": [HEADER, *ROWS], "columns": COLUMNS, "misprints": misprints}


def test_a_misprinted_count_is_read_as_meant_and_keeps_its_print():
    table = read_table1(_table([MALE]), None)
    cell = next(r for r in table.rows if r.variable == "male").cell("A (n = 100)")
    assert cell.stats == {"count": 85, "percent": 85.0} and isinstance(cell.stats["count"], int)
    assert cell.text == "58 (85.0)"                              # the verbatim print stays
    assert cell.misprint.printed == (("count", 58),) and cell.misprint.why == WHY
    assert cell.misprint.key == "cohorts.main.table1.misprints[0]"
    other = next(r for r in table.rows if r.variable == "male").cell("B (n = 80)")
    assert other.misprint is None and other.stats["count"] == 70


def test_the_generator_calibrates_on_the_number_meant():
    data = {"study": {"id": "t"}, "cohorts": {"main": {"arms": ARMS, "variables": [],
                                                       "table1": _table([MALE])}}}
    male = next(v for v in expand_tables(data, None)["cohorts"]["main"]["variables"]
                if v["name"] == "male")
    assert male["arms"] == {"A": {"count": 85}, "B": {"count": 70}}
    del data["cohorts"]["main"]["table1"]["misprints"]
    male = next(v for v in expand_tables(data, None)["cohorts"]["main"]["variables"]
                if v["name"] == "male")
    assert male["arms"]["A"] == {"count": 58}                  # as printed without it


@pytest.mark.parametrize("change, key, words", [
    ({"why": ""}, "misprints[0].why", "what the correction rests on"),
    ({"column": "C"}, "misprints[0].column", "declared column"),
    ({"variable": "female"}, "misprints[0].variable", "no row describes that variable"),
    ({"variable": "cp", "level": "C"}, "misprints[0].level", "levels are [None, 'A', 'B']"),
    ({"meant": {"mean": 50.0}}, "misprints[0].meant.mean", "no mean to correct"),
    ({"meant": {"count": 58}}, "misprints[0].meant.count", "equals the print"),
    ({"meant": {"count": "85"}}, "misprints[0].meant.count", "finite number"),
    ({"meant": {}}, "misprints[0].meant", "numbers meant"),
    ({"colour": "red"}, "misprints[0]", "unknown key(s) ['colour']"),
    ({"variable": "cp", "level": "B", "column": "P", "meant": {"p": 0.01}},
     "misprints[0].meant.p", "printed as a bound"),
    ({"variable": "cp", "level": "A", "column": "P", "meant": {"p": 0.01}},
     "misprints[0]", "is empty"),
])
def test_a_bad_declaration_names_its_key_and_value(change, key, words):
    with pytest.raises(SpecError) as e:
        read_table1(_table([{**MALE, **change}]), None)
    (where, msg), = e.value.problems
    assert where == f"cohorts.main.table1.{key}" and words in msg, (where, msg)


def test_every_bad_declaration_is_reported_at_once():
    with pytest.raises(SpecError) as e:
        read_table1(_table([MALE, {**MALE, "meant": {"count": 86}}, "x",
                            {**MALE, "column": "C", "why": None}]), None)
    keys = [k for k, _ in e.value.problems]
    assert keys == ["cohorts.main.table1.misprints[1]", "cohorts.main.table1.misprints[2]",
                    "cohorts.main.table1.misprints[3].why",
                    "cohorts.main.table1.misprints[3].column"], e.value.problems
    assert "declared already, by cohorts.main.table1.misprints[0]" in e.value.problems[0][1]


def test_misprints_must_be_an_array():
    with pytest.raises(SpecError, match=r"misprints.*must be an array"):
        read_table1(_table({"variable": "male"}), None)
