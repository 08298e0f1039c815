"""``mislabel`` and ``[[expected_failures]]`` in targets.toml: parsing and validation."""
from __future__ import annotations

import pytest

from tacebench.replications.strict import finding_problems
from tacebench.replications.targets import (ExpectedFailure, Mislabel, expected_id,
                                            parse_targets)

DISCUSSION = "better ORR (69.5% vs 61.0%)"
RESULTS = "ORR was 7.3%, 20.7% and the DCR was 61.0%, 69.5%"


def rate(tid, endpoint, percent, source=RESULTS, **kw):
    return {"id": tid, "analysis": "psm", "quantity": "rate", "endpoint": endpoint,
            "arm": "Len", "percent": percent, "role": "predicted", "where": "text",
            "source": source, **kw}


def mislabelled(**m):
    label = {"printed": "orr", "is": "dcr", "reason": "the Results call 69.5% the DCR",
             "finding": "same_as_agree", **m}
    return rate("orr_len_psm_discussion", "orr", 69.5, DISCUSSION, where="discussion",
                same_as="orr_len_psm", mislabel={k: v for k, v in label.items()
                                                 if v is not None})


def doc(*targets, **extra):
    base = [rate("orr_len_psm", "orr", 20.7), rate("dcr_len_psm", "dcr", 69.5)]
    return {"study": {"id": "demo"}, "targets": base + list(targets), **extra}


def problems(data) -> dict:
    with pytest.raises(ValueError) as info:
        parse_targets(data, file="demo/targets.toml")
    assert "demo/targets.toml" in str(info.value)
    return {p.key: p for p in info.value.problems}


def test_a_mislabel_is_parsed_and_the_target_carries_what_the_number_is():
    t = parse_targets(doc(mislabelled()))["orr_len_psm_discussion"]
    assert t.endpoint == "dcr"                        # judged as DCR
    assert t.mislabel == Mislabel("endpoint", "orr", "dcr", "the Results call 69.5% the DCR",
                                  "same_as_agree")
    assert t.mislabel.describe() == "printed as orr, judged as dcr (audit: same_as_agree)"
    assert t.source == DISCUSSION and t.same_as == "orr_len_psm"    # the quote as printed
    assert expected_id(t) == "orr_len_psm"            # named as printed
    assert t.to_dict()["mislabel"].startswith("printed as orr")


def hr_as(actual: str) -> dict:
    """An HR target whose quote label is said to be wrong: it is an ``actual``."""
    return {"id": "os_hr_psm", "analysis": "psm", "quantity": "hr", "endpoint": "os",
            "contrast": ["Len", "Sora"], "value": 0.59, "role": "predicted", "where": "text",
            "source": "HR 0.59",
            "mislabel": {"printed": "hr", "is": actual, "reason": "r", "finding": "f"}}


def test_a_quantity_mislabel_changes_the_quantity_and_its_checks():
    hr = hr_as("odds_ratio")
    t = parse_targets(doc(hr))["os_hr_psm"]
    assert t.quantity == "odds_ratio" and t.mislabel.key == "quantity"
    hr["mislabel"]["is"] = "km_rate"                  # a km_rate needs a time
    assert problems(doc(hr))["targets[2].time"].kind == "missing-key"


@pytest.mark.parametrize("label, key, words", [
    ({"is": "orr"}, "is", "printed label itself"),                 # to the same quantity
    ({"is": "ttp"}, "is", "names no endpoint"),                    # unknown endpoint
    ({"printed": "pfs"}, "printed", "endpoint ('orr') or quantity ('rate')"),
    ({"reason": None}, "reason", "is required"),
    ({"finding": None}, "finding", "is required"),
    ({"finding": "Same As"}, "finding", "snake_case"),
    ({"colour": "red"}, "colour", "unknown key"),
])
def test_mislabel_problems_name_file_key_and_value(label, key, words):
    by_key = problems(doc(mislabelled(**label)))
    p = by_key[f"targets[2].mislabel.{key}"]
    assert words in p.message
    assert key in str(p) and "demo/targets.toml" in str(p)


def test_a_quantity_mislabel_to_an_unknown_quantity():
    p = problems(doc(hr_as("incidence_ratio")))["targets[2].mislabel.is"]
    assert p.value == "incidence_ratio" and "is not a quantity" in p.message


def test_mislabel_must_be_a_table():
    t = rate("orr_len_psm_discussion", "orr", 69.5, DISCUSSION, mislabel="dcr")
    assert "must be a table" in problems(doc(t))["targets[2].mislabel"].message


def test_expected_failures_are_parsed():
    ef = [{"target": "dcr_len_psm", "reason": "why", "finding": "same_as_agree"},
          {"target": "orr_len_psm", "reason": "why", "evidence": "docs: a written analysis"}]
    st = parse_targets(doc(expected_failures=ef))
    assert st.expected_failures == (
        ExpectedFailure("dcr_len_psm", "why", "same_as_agree", None),
        ExpectedFailure("orr_len_psm", "why", None, "docs: a written analysis"))


def test_expected_failure_problems():
    reported = rate("n_len_psm", "orr", 20.7, role="reported")
    ef = [{"target": "nope", "reason": "r", "finding": "x"},
          {"target": "n_len_psm", "reason": "r", "finding": "x"},
          {"target": "orr_len_psm", "reason": "r"},
          {"target": "dcr_len_psm", "finding": "x", "shade": 1},
          {"target": "dcr_len_psm", "reason": "r", "evidence": "e"},
          "orr_len_psm"]
    by_key = problems(doc(reported, expected_failures=ef))
    assert by_key["expected_failures[0].target"].kind == "unknown-target"
    assert "never judged" in by_key["expected_failures[1].target"].message
    assert "finding" in by_key["expected_failures[2].finding"].message
    assert by_key["expected_failures[3].reason"].kind == "missing-key"
    assert by_key["expected_failures[3].shade"].kind == "unknown-key"
    assert "declared twice" in by_key["expected_failures[4].target"].message
    assert "must be a table" in by_key["expected_failures[5]"].message
    assert "must be an array" in problems(doc(expected_failures={"target": "x"}))[
        "expected_failures"].message


def test_findings_must_name_an_audit_rule():
    ef = [{"target": "dcr_len_psm", "reason": "r", "finding": "same_as_agrees"}]
    st = parse_targets(doc(mislabelled(finding="no_such_rule"), expected_failures=ef))
    probs = {p.key: p for p in finding_problems(st, "demo/targets.toml")}
    assert set(probs) == {"targets[2].mislabel.finding", "expected_failures[0].finding"}
    assert probs["targets[2].mislabel.finding"].value == "no_such_rule"
    assert "same_as_agree" in probs["expected_failures[0].finding"].message  # lists the known
    assert finding_problems(parse_targets(doc(mislabelled())), "x") == []
