"""JUnit XML of a replication run: schema-valid, one test case per distinct number and
shift, failures exactly where --strict fails, skips where nothing is judged."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from tacebench.api import replicate
from tacebench.cli import main
from tacebench.replications.junit import case_outcome, distinct_rows, junit_xml

XSD = Path(__file__).parent / "junit.xsd"
FICTIONAL = Path(__file__).parent / "fictional_study"


@pytest.fixture(scope="module")
def schema():
    """The JUnit schema (xmlschema comes with the test extra: .[test])."""
    xmlschema = pytest.importorskip("xmlschema", reason="xmlschema validates the schema")
    return xmlschema.XMLSchema(str(XSD))


def test_valid_against_the_schema_one_case_per_number(fictional_results, schema):
    text = junit_xml(fictional_results)
    schema.validate(text)
    root = ET.fromstring(text)
    (suite,) = root.findall("testsuite")
    study = fictional_results[0]
    cases = suite.findall("testcase")
    assert suite.get("name") == study["study"]
    assert len(cases) == len(distinct_rows(study)) == int(suite.get("tests"))
    assert {c.get("classname") for c in cases} == {study["study"]}
    names = [c.get("name") for c in cases]
    assert len(set(names)) == len(names) and "os_hr_crude_to_psm" in names
    props = {p.get("name").removeprefix("os_hr_crude."): p.get("value")
             for p in suite.find("properties") if p.get("name").startswith("os_hr_crude.")}
    out = next(c for c in cases if c.get("name") == "os_hr_crude").find("system-out").text
    assert f"z {props['z']}" in out and f"reported {props['reported']}" in out
    row = next(t for t in study["targets"] if t["id"] == "os_hr_crude")
    assert props["verdict"] == row["verdict"] and props["required"] == "true"
    assert float(props["reported"]) == pytest.approx(row["reported"], rel=1e-5)
    assert float(props["z"]) == pytest.approx(row["z"], abs=1e-5)
    assert float(props["interval_lo"]) < float(props["simulated_median"]) < \
        float(props["interval_hi"])
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert int(suite.get("skipped")) == len(skipped) == sum(
        r["verdict"] == "undetermined" for r, _ in distinct_rows(study))
    assert int(suite.get("failures")) == 0 == len(study["strict"]["failures"])


def test_schema_rejects_malformed_documents(fictional_results, schema):
    good = junit_xml(fictional_results)
    assert schema.is_valid(good)
    assert not schema.is_valid(good.replace('<testcase classname=', '<testcase cls=', 1))
    assert not schema.is_valid(good.replace('tests="', 'tests="-', 1))
    for child in ('<failure message="no type" />', "<properties />"):
        root = ET.fromstring(good)
        root.find("testsuite/testcase").insert(0, ET.fromstring(child))
        assert not schema.is_valid(ET.tostring(root, "unicode")), child


def test_failures_where_strict_fails_with_the_numbers(required_psm_study, schema):
    study = required_psm_study
    report = replicate(study, reps=12, seed=3, decompose_reps=0, n_jobs=1, max_reps=12,
                       worlds="none")
    text = junit_xml([report.to_dict()])
    schema.validate(text)
    root = ET.fromstring(text)
    failed = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["os_hr_psm"]
    assert len(report.strict.failures) == 1 == int(root.get("failures"))
    message = failed[0].find("failure").get("message")
    row = next(x for x in report.result.targets if x.id == "os_hr_psm")
    assert "reported 0.4" in message and "95% interval" in message
    assert f"{row.median:.6g}" in message


_VERDICTS = ("reproduced", "not reproduced", "not estimable", "undetermined", "uninformative")


@given(verdict=st.sampled_from(_VERDICTS), required=st.booleans(), gap=st.booleans(),
       declared=st.sampled_from([None, True, False]))
def test_outcome_rules(verdict, required, gap, declared):
    row = {"id": "x", "verdict": verdict, "required": required, "spec_gap": gap,
           "reason": "why", "median": 1.0, "reported": 2.0, "lo": 0.5, "hi": 1.5, "z": 2.5}
    strict = {"expected_failures": [] if declared is None else
              [{"target": "x", "holds": declared, "reason": "r", "status": "s"}]}
    outcome, message = case_outcome(row, {"strict": strict, "reps": 12, "seed": 1})
    if declared is not None:
        assert outcome == ("skipped" if declared else "failure")
    elif gap:
        assert outcome == "skipped" and message.startswith("not simulated")
    elif required and verdict not in ("reproduced", "uninformative"):
        assert outcome == "failure" and "required x" in message
    elif verdict in ("not estimable", "undetermined", "uninformative"):
        assert outcome == "skipped"
    else:
        assert outcome == "passed" and message == ""


def test_replicate_and_report_write_the_same_junit(tmp_path, capsys, schema, monkeypatch):
    out = tmp_path / "run"
    args = ["replicate", str(FICTIONAL), "--reps", "12", "--seed", "3", "--n-jobs", "1",
            "--decompose-reps", "0", "--max-reps", "12", "--worlds", "none",
            "--out", str(out), "--junit", str(tmp_path / "a.xml"),
            "--html", str(tmp_path / "a.html")]
    assert main(args) == 0
    assert main(["report", str(out), "--junit", str(tmp_path / "b.xml")]) == 0
    capsys.readouterr()
    a, b = (ET.parse(tmp_path / f).getroot() for f in ("a.xml", "b.xml"))
    schema.validate(str(tmp_path / "b.xml"))
    assert [(c.get("name"), [x.tag for x in c]) for c in a.iter("testcase")] == \
        [(c.get("name"), [x.tag for x in c]) for c in b.iter("testcase")]
    assert (out / "report.html").is_file()          # report's default HTML file
    # replicate --html embeds the KM figures it draws (os and pfs of the crude analysis)
    assert (tmp_path / "a.html").read_text().count("data:image/png;base64,") == 2
    # a folder given for the file: refused before anything is written
    assert main(["report", str(out), "--junit", str(tmp_path)]) == 2
    assert "--junit" in capsys.readouterr().err
    # a full disk: report stops with status 1 and leaves no cut-off file
    from tests.engine.test_files import disk_fills_at

    disk_fills_at(monkeypatch, tmp_path / "c.xml")
    assert main(["report", str(out), "--junit", str(tmp_path / "c.xml")]) == 1
    assert "tacebench report: stopped:" in capsys.readouterr().err
    assert not (tmp_path / "c.xml").exists()


def test_report_command_names_a_missing_results_file(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "results.json" in err and str(tmp_path) in err


@pytest.mark.parametrize("kind", ["junit", "html"])
def test_a_report_that_cannot_be_written_is_absent_not_cut_off(fictional_results, tmp_path,
                                                                monkeypatch, kind):
    """A CI job reads the JUnit file: a full disk must leave none rather than half of one."""
    from tacebench.engine.files import WriteFailed
    from tacebench.replications.html_report import write_html
    from tacebench.replications.junit import write_junit
    from tests.engine.test_files import disk_fills_at

    path = tmp_path / ("junit.xml" if kind == "junit" else "report.html")
    disk_fills_at(monkeypatch, path)
    write = write_junit if kind == "junit" else write_html
    with pytest.raises(WriteFailed, match=path.name):
        write(fictional_results, path)
    assert list(tmp_path.iterdir()) == []


def test_a_median_not_reached_and_a_family_judged_nowhere_are_said_so():
    """A Kaplan-Meier median's null upper bound was left out of the properties (and
    printed 'None' in a failure message); a family whose members all left the number
    undetermined read '> k_max', a claim no member judged."""
    from tacebench.replications.junit import _failure_text, case_properties, tipping_text

    row = {"id": "ttp_median", "verdict": "not reproduced", "role": "predicted",
           "quantity": "km_median", "scale": "identity", "reported": 9.1,
           "median": 12.0, "lo": 6.3, "hi": None, "z": -2.5, "n_estimable": 200}
    study = {"reps": 200, "seed": 1, "robustness": {}}
    assert ("interval_hi", "inf") in case_properties(row, (), study)
    assert "95% interval [6.3, NR]" in _failure_text(row, study)
    assert tipping_text({"family": "unmeasured_confounder", "k": None, "k_max": 1.0,
                     "judged": False}) == "unmeasured_confounder: not judged"
