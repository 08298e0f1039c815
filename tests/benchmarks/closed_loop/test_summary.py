"""The closed loop's tables count undetermined numbers apart (benchmarks.closed_loop.summary)."""
from __future__ import annotations

import pandas as pd

from tacebench.benchmarks.closed_loop.summary import null_table, power_table


def _rows(verdicts, slip=""):
    return pd.DataFrame({"paper": range(len(verdicts)), "kind": "ph", "slip": slip,
                         "role": "predicted", "analysis": "crude", "quantity": "hr",
                         "id": "os_hr_crude", "verdict": verdicts, "z": 0.5, "size": 0.3})


def test_undetermined_numbers_are_counted_not_hidden():
    """The tables showed judged (reproduced + not reproduced) only: at R = 100, 124 of the
    ph papers' 2,399 clean predicted numbers were undetermined and in no column, and out
    of the rates' denominators."""
    rows = _rows(["reproduced"] * 6 + ["not reproduced", "undetermined", "undetermined"])
    (row,) = null_table(rows).to_dict("records")
    # an undetermined number is judged and not flagged: 1 'not reproduced' of 9
    assert (row["judged"], row["undetermined"], row["not_reproduced"]) == (9, 2, 1)
    assert abs(row["rate"] - 1 / 9) < 1e-12
    slipped = pd.concat([rows, _rows(["not reproduced", "undetermined"], slip="move-0.3")])
    table = power_table(slipped)
    moved = table[table["slip"] == "move-0.3"].iloc[0]
    assert (moved["judged"], moved["undetermined"], moved["flagged"]) == (2, 1, 1)
