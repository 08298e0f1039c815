"""``misprint`` in targets.toml: the quote check reads the print, everything else the number
meant, and the audit reports the misprint as a finding about the paper."""
from __future__ import annotations

import pytest

from tacebench.replications.audit import audit_targets, misprint_check
from tacebench.replications.targets import as_printed, describe_misprint, parse_targets

from .test_targets_declarations import problems

QUOTE = "Sora+PD-1 therapy (HR, 1.61; 95% CI, 117–2.41; P = 0.006)"
WHY = "the decimal point of 1.17 lost"


def hr(ci=(1.17, 2.41), source=QUOTE, **kw):
    return {"id": "os_hr_psm", "analysis": "psm", "quantity": "hr", "endpoint": "os",
            "contrast": ["Sora", "Len"], "value": 1.61, "ci": list(ci), "p": 0.006,
            "role": "predicted", "where": "text", "source": source, **kw}


def misprinted(**m):
    return hr(misprint={"ci": [117, 2.41], "why": WHY, **m})


def doc(*targets):
    return {"study": {"id": "demo"}, "targets": list(targets)}


def test_the_target_holds_the_number_meant_and_the_misprint_the_print():
    t = parse_targets(doc(misprinted()))["os_hr_psm"]
    assert t.ci == (1.17, 2.41)                               # what everything computes with
    assert t.misprint.numbers == (("ci_lo", 117.0),)          # only the bound printed wrongly
    assert t.misprint.texts == (("ci_lo", "117"),) and t.misprint.why == WHY
    assert t.printed_text("ci_lo") == "1.17" and t.resolution("ci_lo") == pytest.approx(0.005)
    assert describe_misprint(t) == "CI printed 117-2.41, read as 1.17-2.41"
    assert t.to_dict()["misprint"] == describe_misprint(t)
    p = as_printed(t)                                         # the audit's view of the print
    assert p.ci == (117.0, 2.41) and p.printed_text("ci_lo") == "117" and p.misprint is None


def test_the_quote_check_looks_for_the_print_not_the_number_meant():
    # without the declaration the number meant is not in the quote
    assert problems(doc(hr()))["targets[0].ci[0]"].kind == "number-not-in-source"
    # a print the quote does not have is named under the misprint's key
    p = problems(doc(misprinted(ci=[118, 2.41])))["targets[0].misprint.ci[0]"]
    assert p.value == 118 and "not printed" in p.message


def test_a_corrected_bound_reads_with_the_decimals_of_its_neighbours():
    """TOML writes 1.00 as 1.0: the bound meant still has the two decimals printed beside
    it, so its rounding is that of 1.00."""
    ast = {**hr(ci=(1.0, 1.0), source="AST (HR: 1.00 [95% CI: 1.00–100])"), "value": 1.0,
           "misprint": {"ci": [1.0, 100], "why": WHY}}
    del ast["p"]
    t = parse_targets(doc(ast))["os_hr_psm"]
    assert t.printed_text("ci_hi") == "1.00" and describe_misprint(t) == \
        "CI printed 1.00-100, read as 1.00-1.00"


def test_a_misprinted_percentage_is_stored_on_the_target_scale():
    rate = {"id": "orr_len_psm", "analysis": "psm", "quantity": "rate", "endpoint": "orr",
            "arm": "Len", "percent": 20.7, "role": "predicted", "where": "text",
            "source": "ORR was 270.0% in the Len arm",
            "misprint": {"percent": 270.0, "why": WHY}}
    t = parse_targets(doc(rate))["orr_len_psm"]
    assert t.value == pytest.approx(0.207) and t.misprint.numbers == (("value", 2.7),)
    assert describe_misprint(t) == "estimate printed 270.0%, read as 20.7%"


@pytest.mark.parametrize("change, key, words", [
    ({"why": None}, "why", "is required"),
    ({"why": ""}, "why", "non-empty string"),
    ({"ci": [1.17, 2.41]}, "ci", "equals the number meant"),
    ({"ci": [117]}, "ci", "[lower, upper]"),
    ({"ci": [117, "x"]}, "ci", "[lower, upper]"),
    ({"se": 0.2}, "se", "states no se"),
    ({"colour": "red"}, "colour", "unknown key"),
])
def test_misprint_problems_name_file_key_and_value(change, key, words):
    m = {k: v for k, v in {"ci": [117, 2.41], "why": WHY, **change}.items() if v is not None}
    by_key = problems(doc(hr(misprint=m)))
    p = by_key[f"targets[0].misprint.{key}"]
    assert words in p.message and "demo/targets.toml" in str(p)


def test_misprint_problems_are_collected_at_once():
    by_key = problems(doc(hr(misprint={"ci": [1.17, 2.41], "se": 0.2})))
    assert {"targets[0].misprint.ci", "targets[0].misprint.se",
            "targets[0].misprint.why"} <= set(by_key)
    assert problems(doc(hr(misprint=[117, 2.41])))["targets[0].misprint"].kind \
        == "malformed-value"
    assert "at least one number" in problems(doc(hr(misprint={"why": WHY})))[
        "targets[0].misprint"].message


def test_the_audit_reports_the_misprint_instead_of_the_failure_the_print_draws():
    as_printed_report = audit_targets(parse_targets(doc(hr(ci=(117, 2.41)))))
    assert as_printed_report.select(rule="ci_contains_estimate", severity="error")
    report = audit_targets(parse_targets(doc(misprinted())))
    assert not report.select(rule="ci_contains_estimate")
    (f,) = report.select(rule="misprint")
    assert f.severity == "error" and f.targets == ("os_hr_psm",)
    assert f.reported == "CI 117-2.41" and f.expected == "CI 1.17-2.41"
    assert WHY in f.message and "fails ci_contains_estimate" in f.message
    assert report.counts()["error"] == as_printed_report.counts()["error"]
    cov = {r.rule: r for r in report.coverage.rules}
    assert (cov["misprint"].ran, cov["misprint"].failed) == (1, 1)
    assert misprint_check(parse_targets(doc(misprinted()))) == []


def test_a_correction_that_fixes_nothing_is_a_check_error():
    still = parse_targets(doc(hr(ci=(1.71, 2.41), misprint={"ci": [117, 2.41], "why": WHY})))
    (tid, msg), = misprint_check(still)
    assert tid == "os_hr_psm" and "still fail ci_contains_estimate" in msg
    # a print the audit finds nothing wrong with: a log-symmetric 1.07 read as 1.08
    fine = hr(ci=(1.08, 2.41), source="HR, 1.61; 95% CI, 1.07–2.41",
              misprint={"ci": [1.07, 2.41], "why": WHY})
    del fine["p"]
    fine = parse_targets(doc(fine))
    (tid, msg), = misprint_check(fine)
    assert "nothing wrong with the print" in msg
    (f,) = audit_targets(fine).select(rule="misprint")
    assert f.severity == "info"


def test_the_reports_show_the_print_next_to_the_number_meant():
    """The results table's note and the HTML forest note carry the print once for the
    copies of one number that share it."""
    from types import SimpleNamespace as NS

    from tacebench.replications.html_sections import forest_rows
    from tacebench.replications.result_rows import target_rows
    shown = {"printed": "CI printed 117-2.41, read as 1.17-2.41", "why": WHY}
    row = dict(verdict="reproduced", borderline=False, misfit=False, reason="", calibration="",
               role="predicted", residual=float("nan"), reported_text="1.61", reported=1.61,
               quantity="hr", median=1.6, lo=1.2, hi=2.1, z=0.1, z_extrapolated=False,
               reading="", reading_declared=True, reproduced_under=None, analysis="mv",
               contested_by=(), scale="log")
    result = NS(accounting=NS(groups=[("a", "b")], tied={}), expected_failures=(), mislabels={},
                misprints={"a": shown, "b": shown}, readings=[],
                targets=[NS(id="a", **row), NS(id="b", **row)])
    (cells,) = target_rows(result, width=None)
    assert cells[-1].count(shown["printed"]) == 1
    study = {"targets": [dict(id="a", **row), dict(id="b", **row)],
             "accounting": {"groups": [["a", "b"]]}, "misprints": result.misprints}
    (forest,) = forest_rows(study)
    assert forest.note.count(shown["printed"]) == 1
