"""The reported SE a target's CI implies (the ``se_ratio`` column's numerator)."""
from __future__ import annotations

import math

from tacebench.replications.summaries import _reported_se
from tacebench.replications.targets import parse_targets


def _hr(value, ci, source):
    (t,) = parse_targets({"study": {"id": "s"}, "targets": [
        {"id": "x", "analysis": "a", "quantity": "hr", "term": "n", "value": value,
         "ci": ci, "role": "predicted", "where": "table 3", "source": source}]})
    return t


def test_the_width_of_a_ci_that_excludes_its_estimate_is_no_se():
    """Seed 000's "1.10 (2.86-3.18)": a misprint, so no SE from its width."""
    assert math.isnan(_reported_se(_hr(1.10, [2.86, 3.18], "1.10 (2.86-3.18)"), "log"))
    ok = _reported_se(_hr(1.10, [0.86, 1.41], "1.10 (0.86-1.41)"), "log")
    assert ok == (math.log(1.41) - math.log(0.86)) / (2 * 1.959964)


def test_an_estimate_on_its_bound_after_rounding_keeps_its_se():
    # 0.66 (0.31-0.65): outside by one unit of the last digit, within the three roundings
    assert math.isfinite(_reported_se(_hr(0.66, [0.31, 0.65], "0.66 (0.31-0.65)"), "log"))
