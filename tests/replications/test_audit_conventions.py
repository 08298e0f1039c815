"""The audit's readings of printed numbers, its inferred conventions, and the new rules
(the exact 2 x k test, subsets, parallel tests, claims, printing) on small hand-made studies."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.contingency import fisher_exact_test
from tacebench.replications.audit import audit_targets
from tacebench.replications.audit.readings import (DOUBLE, ROUND, TRUNCATE,
                                                   percent_readings)
from tacebench.replications.audit.rounding import Printed
from tacebench.replications.audit.tables import fisher_freeman_halton_2xk
from tacebench.replications.targets import parse_targets


def _pct(x: float) -> Printed:
    h = 0.0005
    return Printed(x, x - h, x + h, f"{100 * x:.1f}")


def test_readings_of_a_printed_percentage():
    assert percent_readings(46, 294, _pct(0.157), 1, 100) == {DOUBLE}      # 15.646 -> 15.7
    assert percent_readings(14, 167, _pct(0.083), 1, 100) == {TRUNCATE}    # 8.38 -> 8.3
    assert ROUND in percent_readings(14, 167, _pct(0.084), 1, 100)
    assert percent_readings(21, 129, _pct(0.170), 1, 100) == frozenset()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 25), min_size=4, max_size=4))
def test_freeman_halton_reduces_to_fisher_on_2x2(cells):
    t = np.array(cells).reshape(2, 2)
    if (t.sum(axis=0) == 0).any() or (t.sum(axis=1) == 0).any():
        return
    assert fisher_freeman_halton_2xk(t) == pytest.approx(fisher_exact_test(t).p_value,
                                                         rel=1e-9, abs=1e-12)


def _study(targets, claims=()):
    return parse_targets({"study": {"id": "s"}, "targets": list(targets),
                          "claims": list(claims)})


def _rate(tid, arm, count, pct, endpoint=None, **kw):
    return {"id": tid, "analysis": "a", "quantity": "rate", "arm": arm, "count": count,
            "percent": pct, "role": "reported", "where": "table 1",
            "source": f"{count} ({pct}%)", **({"endpoint": endpoint} if endpoint else {}),
            **kw}


def _n(arm, n):
    return {"id": f"n_{arm.lower()}", "analysis": "a", "quantity": "group_size", "arm": arm,
            "value": n, "role": "reported", "where": "table 1", "source": f"n = {n}"}


def test_any_adverse_event_below_one_event_is_an_error():
    rep = audit_targets(_study([_n("A", 100), _rate("any", "A", 30, 30.0, "ae_any"),
                                _rate("fever", "A", 35, 35.0, "ae_fever")]))
    found = rep.select(rule="subset_within_set")
    assert len(found) == 1 and found[0].severity == "error"
    ok = audit_targets(_study([_n("A", 100), _rate("any", "A", 40, 40.0, "ae_any"),
                               _rate("fever", "A", 35, 35.0, "ae_fever")]))
    assert not ok.select(rule="subset_within_set")


def test_undisclosed_missing_data_needs_two_numbers():
    rows = [_n("A", 245), _rate("c", "A", 106, 43.4, term="cirrhosis"),
            _rate("p", "A", 27, 11.1, term="pvtt")]
    rep = audit_targets(_study(rows))
    assert len(rep.select(rule="undisclosed_missing_data")) == 1
    assert not rep.select(rule="percent_matches_count")
    alone = audit_targets(_study(rows[:2]))
    assert not alone.select(rule="undisclosed_missing_data")
    assert alone.select(rule="percent_matches_count", severity="error")


def test_claims_are_checked_and_quoted():
    targets = [{"id": "smd_x", "analysis": "m", "quantity": "smd", "term": "x",
                "value": 0.25, "role": "reported", "where": "table 1",
                "source": "x 0.25"}]
    claims = [{"id": "bal", "kind": "balance", "where": "text", "analysis": "m",
               "threshold": 0.1, "quote": "all SMDs below 0.1"},
              {"id": "wk", "kind": "conversion", "where": "text", "value": 43,
               "unit": "weeks", "converted": 10.8, "converted_unit": "months",
               "quote": "43 weeks (10.8 months)"},
              {"id": "ok", "kind": "conversion", "where": "text", "value": 43,
               "unit": "weeks", "converted": 9.9, "converted_unit": "months",
               "quote": "43 weeks (9.9 months)"}]
    rep = audit_targets(_study(targets, claims))
    flagged = {t for f in rep.select(rule="claims_match_tables") for t in f.targets}
    assert {"claim bal", "claim wk", "smd_x"} <= flagged and "claim ok" not in flagged
    assert any(f.quotes == ("all SMDs below 0.1", "x 0.25")
               for f in rep.select(rule="claims_match_tables"))


@pytest.mark.parametrize("claim, message", [
    ({"kind": "balance", "quote": "q"}, "a balance claim needs analysis"),
    ({"kind": "follow_up", "quote": "q", "follow_up_max": 3, "window": ["2020-05", "2019-01"]},
     "first <= last"),
    ({"kind": "conversion", "quote": "q", "value": 1, "unit": "fortnights", "converted": 1,
      "converted_unit": "days"}, "must be one of"),
])
def test_bad_claims_are_named(claim, message):
    with pytest.raises(ValueError, match=message):
        _study([], [{"id": "c", "where": "text", **claim}])


def test_garbled_number_and_symmetric_ranges():
    med = [{"id": f"m{i}", "analysis": "a", "quantity": "km_median", "endpoint": e,
            "value": 9.1, "ci": list(ci), "interval": "range", "role": "reported",
            "where": "text", "source": src}
           for i, (e, ci, src) in enumerate([
               ("pfs", (4.0, 14.2), "9.1 (range: 4.0, 14.2)"),
               ("ttp", (5.5, 12.7), "9.1 (range 5.5, 12.7)"),
               ("os", (2.0, 30.5), "12.3.0 months; 9.1 (range 2.0, 30.5)")])]
    rep = audit_targets(_study(med))
    assert {t for f in rep.select(rule="range_is_symmetric_ci") for t in f.targets} == \
        {"m0", "m1"}
    assert rep.select(rule="range_is_symmetric_ci")[0].severity == "error"
    assert [f.targets for f in rep.select(rule="malformed_numbers")] == [("m2",)]


def test_a_count_printed_alone_contradicts_a_not_determined_claim():
    """"86 subjects had hand and foot skin reaction" is a number of an endpoint the paper
    says it did not determine, though it has a count and no rate."""
    targets = [{"id": "ae_hfsr", "analysis": "crude", "quantity": "rate", "role": "reported",
                "endpoint": "ae_hfsr", "arm": "A", "count": 86, "where": "text",
                "source": "86 subjects had hand and foot skin reaction"}]
    claims = [{"id": "claim_nd", "kind": "not_determined", "where": "discussion",
               "endpoints": ["ae_hfsr"], "quote": "adverse events were not determined"}]
    (f,) = audit_targets(_study(targets, claims)).select(rule="claims_match_tables")
    assert "ae_hfsr" in f.targets and "ae_hfsr 86 (text)" in f.message
