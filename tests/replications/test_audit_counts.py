"""Counts against percentages and denominators: a subset printed as a count against its
set printed as a percentage, and counts larger than their group."""
from __future__ import annotations

from tacebench.replications.audit import audit_targets
from tacebench.replications.targets import parse_targets

#: whole arms of the cohort, unadjusted: the arms' sizes are the denominators
ARMS = {"crude": {"TACE": 100, "TACE+S": 100}}


def _paper(*rows):
    base = {"analysis": "crude", "role": "reported", "where": "text", "quantity": "rate",
            "arm": "TACE"}
    return parse_targets({"study": {"id": "s"}, "targets": [{**base, **r} for r in rows]})


def _flags(rep, rule):
    return [f for f in rep.select(rule=rule) if f.severity != "info"]


def test_a_subset_count_above_its_set_percentage_is_an_error():
    """ORR 45 (45.0%) of 100 with DCR 33.0% printed alone: the responders exceed the
    patients with disease control (the probe's mini2)."""
    rep = audit_targets(_paper(
        {"id": "orr", "endpoint": "orr", "count": 45, "percent": 45.0,
         "source": "ORR was 45 (45.0%) with TACE"},
        {"id": "dcr", "endpoint": "dcr", "percent": 33.0, "source": "DCR was 33.0% with TACE"}),
        arm_sizes=ARMS, rules=["subset_within_set"])
    (f,) = _flags(rep, "subset_within_set")
    assert set(f.targets) == {"orr", "dcr"} and f.unit == "percentage points"


def test_a_subset_count_only_against_a_set_percentage_uses_the_arm_size():
    ok = audit_targets(_paper(
        {"id": "orr", "endpoint": "orr", "count": 30, "source": "30 patients responded"},
        {"id": "dcr", "endpoint": "dcr", "percent": 33.0, "source": "DCR was 33.0%"}),
        arm_sizes=ARMS, rules=["subset_within_set"])
    assert not _flags(ok, "subset_within_set")
    (row,) = [r for r in ok.coverage.rules if r.rule == "subset_within_set"]
    assert (row.ran, row.failed) == (1, 0)
    bad = audit_targets(_paper(
        {"id": "orr", "endpoint": "orr", "count": 36, "source": "36 patients responded"},
        {"id": "dcr", "endpoint": "dcr", "percent": 33.0, "source": "DCR was 33.0%"}),
        arm_sizes=ARMS, rules=["subset_within_set"])
    assert len(_flags(bad, "subset_within_set")) == 1
    # no arm size: a count cannot be read as a share, the pair is not compared
    unknown = audit_targets(_paper(
        {"id": "orr", "endpoint": "orr", "count": 36, "source": "36 patients responded"},
        {"id": "dcr", "endpoint": "dcr", "percent": 33.0, "source": "DCR was 33.0%"}),
        rules=["subset_within_set"])
    assert not _flags(unknown, "subset_within_set")


def test_more_events_than_patients_is_an_error_without_a_percentage():
    """130 deaths in an arm of 100, no percentage printed (the probe's mini5)."""
    rep = audit_targets(_paper(
        {"id": "deaths", "endpoint": "os", "level": "deaths", "count": 130,
         "source": "130 patients died in the TACE group"}),
        arm_sizes=ARMS, rules=["percent_matches_count"])
    (f,) = _flags(rep, "percent_matches_count")
    assert "exceeds its denominator 100" in f.message and f.discrepancy == 30
    ok = audit_targets(_paper(
        {"id": "deaths", "endpoint": "os", "level": "deaths", "count": 70,
         "source": "70 patients died in the TACE group"}),
        arm_sizes=ARMS, rules=["percent_matches_count"])
    assert not _flags(ok, "percent_matches_count")
    assert "deaths" not in {u.target for u in ok.coverage.unchecked}


def test_a_count_equal_to_its_percentage_keeps_its_own_printed_form():
    """"45 (45.0%)": the count is 45 as printed, not the percentage's 45.0 (a message
    quoting it must not read like a percentage); a weighted count keeps its decimals."""
    from tacebench.replications.audit.rounding import printed
    t = _paper({"id": "orr", "endpoint": "orr", "count": 45, "percent": 45.0,
                "source": "ORR was 45 (45.0%) with TACE"}).by_id["orr"]
    assert printed(t, "count").text == "45" and printed(t, "value").text == "45.0%"
    w = _paper({"id": "orr", "endpoint": "orr", "count": 45.0, "percent": 45.0,
                "weighted": True, "source": "ORR was 45.0 (45.0%) after weighting"}).by_id["orr"]
    assert printed(w, "count").text == "45.0"
