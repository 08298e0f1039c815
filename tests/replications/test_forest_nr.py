"""A Kaplan-Meier median whose simulated upper bound is not reached: results.json holds
null there, and the HTML forest printed "[6.3, -]", drew no interval and added a false
"(within printed precision)" note where the text table prints "[6.3, NR]"."""
from __future__ import annotations

import json
import math
from dataclasses import replace

from tacebench.replications.forest import bounds, forest_svg
from tacebench.replications.html_sections import forest_rows

_ROW = {"id": "ttp_median", "analysis": "crude", "quantity": "km_median", "role": "predicted",
        "median": 12.018121054118005, "lo": 6.276330794605799, "hi": math.inf,
        "reported": 9.1, "scale": "identity", "robust_sd": 4.72687504668796,
        "z": -0.7106722361312919, "verdict": "reproduced"}


def _as_in_results_json(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in json.loads(json.dumps(row)).items()}


def test_a_null_upper_bound_of_a_median_reads_not_reached():
    row = _as_in_results_json(_ROW)
    assert row["hi"] is None
    assert bounds(row)[2] == math.inf
    (forest,) = forest_rows({"study": "s", "targets": [row]})
    assert forest.hi == math.inf and forest.lo <= forest.point
    assert forest.note.startswith("9.1 vs 12.0 [6.3, NR]")
    assert "printed precision" not in forest.note
    # the interval is drawn (to the axis edge): one path more than without it
    drawn, undrawn = (forest_svg([r], "x").count("<path")
                      for r in (forest, replace(forest, hi=math.nan)))
    assert drawn == undrawn + 1


def test_no_note_when_a_bound_is_missing():
    row = _as_in_results_json({**_ROW, "quantity": "hr", "lo": None, "hi": None})
    (forest,) = forest_rows({"study": "s", "targets": [row]})
    assert math.isnan(forest.hi) and "printed precision" not in forest.note
    assert bounds(row)[2] != math.inf            # only a median's upper bound is NR
