"""A simulated median and its interval print at one precision: "2.7 [0.154, 4.8]" and
"0.0201 [0.000759, 0.084]" mixed three significant digits with one decimal."""
from __future__ import annotations

import math

import pytest

from tacebench.replications.formatting import fmt_estimate, fmt_value
from tacebench.replications.shown import shown_rows


@pytest.mark.parametrize("values, quantity, expected", [
    ((2.7, 0.154, 4.8), "rmst_difference", ("2.7", "0.2", "4.8")),
    ((0.0201, 0.000759, 0.084), "smd", ("0.0201", "0.0008", "0.0840")),
    ((12.0, 6.3, math.inf), "km_median", ("12.0", "6.3", "NR")),
    ((-0.004, -1.5, 1.2), "rmst_difference", ("0.0", "-1.5", "1.2")),    # no "-0.0"
    ((0.5, 0.31, 0.72), "km_rate", ("50.0%", "31.0%", "72.0%")),          # one rule already
    ((0.72, 0.5, 1.04), "hr", ("0.72", "0.50", "1.04")),
    ((math.nan, None, None), "smd", ("-", "-", "-")),
])
def test_one_precision_per_interval(values, quantity, expected):
    assert fmt_estimate(*values, quantity) == expected


def test_an_interval_of_values_over_one_prints_as_before():
    values = (2.7, 1.3, 48.25)
    assert fmt_estimate(*values, "rmst") == tuple(fmt_value(v, "rmst") for v in values)


def test_shown_rows_print_one_precision():
    row = {"analysis": "iptw", "label": "SMD of age", "quantity": "smd", "median": 0.0201,
           "lo": 0.000759, "hi": 0.084, "reason": ""}
    assert shown_rows([row])[0][2:4] == ["0.0201", "[0.0008, 0.0840]"]
