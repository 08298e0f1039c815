"""Table 1 as a table: a variable printed as mean ± SD and as a cut split (two rows)."""
from __future__ import annotations

import pytest

from tacebench import simulate
from tacebench.simulate.spec_base import SpecError
from tacebench.simulate.table1 import expand_tables
from tacebench.simulate.table1_split import split_level

from .test_table1 import _cohort

AGE = ["age", "", "Age, years", "58.0 ± 10.0", "57.5 ± 9.8", "0.70"]


@pytest.mark.parametrize("level, read", [("> 60", (">", 60.0)), (">=60", (">", 60.0)),
                                         ("≥ 60", (">", 60.0)), ("< 400", ("<", 400.0)),
                                         ("≤ 0.8", ("<", 0.8)), ("A", None), ("60-70", None), (None, None)])
def test_a_split_level_is_a_comparison_with_a_cut(level, read):
    assert split_level(level) == read


def test_a_mean_sd_row_with_a_split_row_makes_one_split_variable():
    data = _cohort([AGE, ["age", "> 60", "Age > 60 years", "31 (31.0)", "29 (36.2)", ""]])
    v, = expand_tables(data, None)["cohorts"]["main"]["variables"]
    assert v["type"] == "continuous" and v["cutpoints"] == [60.0]
    assert v["arms"] == {"A": {"counts": [69, 31], "mean": 58.0, "sd": 10.0},
                         "B": {"counts": [51, 29], "mean": 57.5, "sd": 9.8}}
    assert "58.0 ± 10.0" in v["source"] and "31 (31.0)" in v["source"]
    c = simulate.spec_from_dict(expand_tables(data, None)).cohort()
    var = c.variable("age")
    assert var.printed_moments and var.cutpoints == (60.0,)


def test_two_cuts_with_the_middle_bin_unprinted():
    data = _cohort([AGE, ["age", "< 50", "Age < 50", "20 (20.0)", "10 (12.5)", ""],
                    ["age", ">= 65", "Age >= 65", "15 (15.0)", "20 (25.0)", ""]])
    v, = expand_tables(data, None)["cohorts"]["main"]["variables"]
    assert v["cutpoints"] == [50.0, 65.0]
    assert v["arms"]["A"]["counts"] == [20, 65, 15] and v["arms"]["B"]["counts"] == [10, 50, 20]


@pytest.mark.parametrize("rows, match", [
    ([["age", "> 60", "", "31 (31.0)", "29 (36.2)", ""], ["age", ">= 60", "", "31 (31.0)", "29 (36.2)", ""]],
     "same bin"),
    ([["age", "> 50", "", "31 (31.0)", "29 (36.2)", ""], ["age", "< 60", "", "31 (31.0)", "29 (36.2)", ""]],
     "do not make bins"),
    ([["age", "> 60", "", "131 (31.0)", "29 (36.2)", ""]], "exceed the 100 patients"),
    ([["age", "> 60", "", "", "29 (36.2)", ""]], "every split row"),
])
def test_split_rows_that_make_no_bins_are_errors(rows, match):
    with pytest.raises(SpecError, match=match):
        expand_tables(_cohort([AGE, *rows]), None)


def test_level_rows_that_are_not_comparisons_still_may_not_mix_with_a_mean_row():
    data = _cohort([AGE, ["age", "old", "Old", "31 (31.0)", "29 (36.2)", ""]])
    with pytest.raises(SpecError, match="mixes level rows"):
        expand_tables(data, None)
