"""Ratio CIs and their p-values: how off centre an estimate is, p-values that do not
decide significance, and the decimal-point hint."""
from __future__ import annotations

import math
import re

from tacebench.replications.audit import audit_targets
from tacebench.replications.targets import parse_targets


def _run(rule, value, lo, hi, p=None, p_text=None):
    src = f"HR {value} (95% CI {lo}-{hi}; p {p_text or p})"
    row = {"id": "hr_x", "analysis": "crude", "role": "reported", "where": "text",
           "quantity": "hr", "endpoint": "os", "contrast": ["B", "A"],
           "value": float(value), "ci": [float(lo), float(hi)], "source": src}
    if p is not None:
        row["p"] = float(p)
    if p_text is not None:
        row["p_text"] = p_text
    targets = parse_targets({"study": {"id": "s"}, "targets": [row]})
    return list(audit_targets(targets, rules=[rule]))


def _share(message):
    return int(re.search(r"off centre by (\d+)%", message).group(1))


def test_off_centre_is_a_share_of_the_half_width_and_says_so():
    """1.18 (0.92-1.66): log(1.18) is 16% of the log half-width below the log-midpoint
    (8% of the width); beyond the rounding allowance 13% of the half-width (6.4% of the
    width, not 13%); an estimate at its bound, 1.00 (1.00-100), is 100% of the half-width
    (50% of the width)."""
    (f,) = _run("ratio_ci_log_symmetric", "1.18", "0.92", "1.66")
    half = math.log(1.66 / 0.92) / 2
    by_hand = abs(math.log(1.18) - (math.log(0.92) + math.log(1.66)) / 2) / half
    assert "half-width" in f.message and _share(f.message) <= round(100 * by_hand)
    assert _share(f.message) == 13
    (e,) = _run("ratio_ci_log_symmetric", "1.00", "1.00", "100", p_text="<0.001")
    assert _share(e.message) == 100 and "half-width" in e.message


def test_a_p_that_does_not_decide_significance_is_no_decision_error():
    """HR 0.7 (0.52-0.96): the centred CI gives p 0.019-0.032. A printed 0.05 covers
    0.045-0.055, either side of 0.05: a warning (the probe's mini6); 0.06 is on the other
    side: an error that says so."""
    (w,) = _run("p_value_matches_ci_centre", "0.7", "0.52", "0.96", p="0.05")
    assert w.severity == "warning" and "disagree" not in w.message
    (e,) = _run("p_value_matches_ci_centre", "0.7", "0.52", "0.96", p="0.06")
    assert e.severity == "error" and "disagree on significance at 0.05" in e.message
