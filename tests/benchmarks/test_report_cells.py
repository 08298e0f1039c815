"""summary.md says why a cell is empty: no "nan", no "-0.0", a sentence under each table."""
import math

import pandas as pd

from tacebench.benchmarks.report import _fmt, _md_table, measure_table


def test_cells_have_no_nan_and_no_negative_zero():
    frame = pd.DataFrame({"scenario": ["a", "b"], "control_n": [26.0, math.nan],
                          "truth": [-0.0, -1e-9], "covariates": [["x"], None]})
    table = _md_table(frame)
    assert "nan" not in table and "None" not in table and "-0" not in table
    assert table.splitlines()[2] == "| a | 26 | 0 | ['x'] |"
    assert table.splitlines()[3] == "| b |  | 0 |  |"


def test_measure_cells_round_without_a_sign_and_mark_missing_values():
    assert _fmt(-0.0004, 0.0001, pct=False) == "0.000 (0.000)"
    assert _fmt(-0.0006, math.nan, pct=False) == "-0.001"
    assert _fmt(math.nan, 0.1, pct=True) == "–"
    perf = pd.DataFrame({"scenario_index": [0, 0, 1], "scenario": ["s0", "s0", "s1"],
                         "method": ["m1", "m2", "m1"], "measure": ["bias"] * 3,
                         "value": [-0.00001, math.nan, 0.25], "mcse": [0.01, math.nan, 0.02]})
    table = measure_table(perf, "bias")
    assert table.to_dict("records") == [
        {"scenario": "s0", "m1": "0.000 (0.010)", "m2": "–"},
        {"scenario": "s1", "m1": "0.250 (0.020)", "m2": ""}]


def test_html_cells_are_the_markdown_cells(tmp_path):
    """summary.html showed 'NaN' where the page says an empty cell means the parameter
    does not apply (summary.md showed blanks)."""
    import re

    from tacebench.benchmarks.report import write_html

    frame = pd.DataFrame({"scenario": ["a", "b"], "control_n": [26.0, math.nan],
                          "covariates": [["x"], None]})
    write_html([("table", frame)], tmp_path / "s.html")
    cells = re.findall(r"<td>(.*?)</td>", (tmp_path / "s.html").read_text())
    assert cells == ["a", "26", "['x']", "b", "", ""]
