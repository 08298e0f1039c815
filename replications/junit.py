"""``tacebench replicate --junit FILE``: the verdicts as JUnit XML, the format CI systems read.

One ``<testsuite>`` per study (its ``name`` the study id) and one ``<testcase>`` per
distinct number and per paired shift (``classname`` the study id, ``name`` the target or
shift id; the other ids quoting the same number are in the ``also`` property). A test case

- **fails** exactly where ``--strict`` fails the study (:mod:`replications.strict`): a
  required target or shift that is simulated and not reproduced (not reproduced, not
  estimable on data like the paper's, or undetermined) and not declared an expected
  failure; a stale expected failure; a stale mislabel. The message carries the numbers;
- is **skipped** when it is not judged: not simulated (a spec gap), not estimable,
  undetermined at the run's replicates, a response shift that is uninformative, or a
  declared expected failure that still fails as declared (as pytest reports ``xfail``);
- **passes** otherwise, a number not reproduced but not required included (its
  ``verdict`` property says so: only required numbers gate CI).

Every test case has properties: verdict, role, required, reported value, simulated
median, the simulated 95% interval, z and, where worlds ran, the robustness label and
tipping points. The strict JUnit schemas (Apache Ant's, which Jenkins reads, and Maven
Surefire's) allow ``<properties>`` on a test suite only, so they are the suite's
properties named ``<id>.<property>`` (``os_hr_iptw.z``), and the case's ``<system-out>``
repeats them as one line, which CI systems show with the test case. A study folder
that does not load is one test case with an ``<error>``. The XML is built from the JSON
form of the run (``results.json``), so ``tacebench report`` writes the same file from a
results folder.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Sequence

from tacebench.engine.files import atomic_write

from .forest import bounds
from .response_shifts import UNINFORMATIVE
from .verdicts import NOT_SIMULATED

__all__ = ["junit_xml", "write_junit", "case_outcome", "case_properties", "distinct_rows",
           "tipping_text"]

_NOT_JUDGED = ("not estimable", "undetermined", UNINFORMATIVE, NOT_SIMULATED)


def _num(v) -> str:
    """A number as a property value: 6 significant digits, '' when missing."""
    if v is None:
        return ""
    if isinstance(v, str):          # infinities travel as text in results.json
        return v
    if isinstance(v, bool):
        return str(v).lower()
    return f"{v:.6g}" if isinstance(v, float) and math.isfinite(v) else str(v)


def distinct_rows(study: dict) -> list[tuple[dict, tuple[str, ...]]]:
    """The targets of one study's dict, one per distinct number (the first quote of each
    accounting group), each with the ids of its other quotes; then every shift."""
    groups = (study.get("accounting") or {}).get("groups") or []
    others = {g[0]: tuple(g[1:]) for g in groups}
    hidden = {x for g in groups for x in g[1:]}
    rows = [(t, others.get(t["id"], ())) for t in study.get("targets", [])
            if t["id"] not in hidden]
    return rows + [(s, ()) for s in study.get("shifts", [])]


def _flagged(study: dict) -> set[tuple[str, str]]:
    """(rule, target id) of every audit finding in the dict form (ids joined by ', ')."""
    return {(f["rule"], tid.strip()) for f in study.get("audit", [])
            for tid in (f.get("targets") or "").split(",") if tid.strip()}


def case_outcome(row: dict, study: dict) -> tuple[str, str]:
    """('failure' | 'skipped' | 'passed', message) of one target or shift, by the rules
    of ``--strict`` (see the module docstring)."""
    declared = {d["target"]: d for d in (study.get("strict") or {}).get("expected_failures", [])}
    mislabel = (study.get("mislabels") or {}).get(row["id"])
    verdict = row.get("verdict")
    if row["id"] in declared:
        d = declared[row["id"]]
        if not d.get("holds"):
            return "failure", f"expected failure {row['id']}: {d.get('status')}"
        return "skipped", f"expected failure: {d.get('reason')} ({d.get('status')})"
    if mislabel and (mislabel.get("finding"), row["id"]) not in _flagged(study):
        return "failure", (f"mislabel of {row['id']} is stale: the audit no longer reports "
                           f"{mislabel.get('finding')} on it")
    if row.get("spec_gap"):
        return "skipped", f"not simulated: {row.get('reason') or 'the study cannot compute it'}"
    if row.get("required") and verdict not in ("reproduced", UNINFORMATIVE):
        return "failure", _failure_text(row, study)
    if verdict in _NOT_JUDGED:
        reason = row.get("reason") or "no verdict"
        return "skipped", reason if reason.startswith(verdict) else f"{verdict}: {reason}"
    return "passed", ""


def _failure_text(row: dict, study: dict) -> str:
    """The numbers of a failing required row, for the CI log."""
    verdict = row.get("verdict")
    text = f"required {row['id']} {'NOT reproduced' if verdict == 'not reproduced' else verdict}"
    if row.get("median") is not None:
        med, lo, hi = bounds(row)       # a median's null upper bound: not reached
        text += (f": reported {_num(row.get('reported'))}, simulated median "
                 f"{_num(med)}, 95% interval [{_num(lo)}, "
                 f"{'NR' if hi == math.inf else _num(hi)}], z {_num(row.get('z'))}")
    if row.get("reason"):
        text += f"; {row['reason']}"
    return text + f" (R = {study.get('reps')}, seed {study.get('seed')})"


def case_properties(row: dict, also: tuple[str, ...], study: dict) -> list[tuple[str, str]]:
    """(name, value) of one test case: verdict, role, reported value, simulated median
    and 95% interval, z, estimable share, and the robustness over the worlds."""
    rob = (study.get("robustness") or {}).get(row["id"]) or {}
    # a Kaplan-Meier median's null upper bound is not reached: "inf", not left out
    hi = bounds(row)[2] if row.get("median") is not None else row.get("hi")
    items = [("verdict", row.get("verdict")), ("role", row.get("role")),
             ("required", bool(row.get("required"))),
             ("quantity", row.get("quantity", "shift")), ("scale", row.get("scale")),
             ("reported", row.get("reported")), ("simulated_median", row.get("median")),
             ("interval_lo", row.get("lo")),
             ("interval_hi", None if isinstance(hi, float) and math.isnan(hi) else hi),
             ("z", row.get("z")), ("borderline", bool(row.get("borderline"))),
             ("estimable", f"{row.get('n_estimable', 0)}/{row.get('n_reps') or study.get('reps')}")]
    if also:
        items.append(("also", ", ".join(also)))
    if rob:
        items.append(("robustness", rob.get("label")))
        tips = [t for t in rob.get("tipping", []) if t]
        if tips:
            items.append(("tipping_points", "; ".join(tipping_text(t) for t in tips)))
    return [(name, _num(value)) for name, value in items if value is not None and value != ""]


def tipping_text(t: dict) -> str:
    """A tipping point of ``results.json`` (a dict) in the words of
    :meth:`replications.robustness.Tipping.text`."""
    k = t.get("k")
    if t.get("judged") is False:            # no member judged the number
        return f"{t.get('family')}: not judged"
    if k is None or (isinstance(k, str) and "inf" in k):
        return f"{t.get('family')}: > {_num(t.get('k_max'))}"
    return f"{t.get('family')}: k = {float(k):.2g}"


def _suite(root: ET.Element, study: dict) -> None:
    suite = ET.SubElement(root, "testsuite", name=study["study"])
    props = ET.SubElement(suite, "properties")
    for name in ("title", "reps", "seed"):
        if study.get(name) is not None:
            ET.SubElement(props, "property", name=name, value=_num(study[name]))
    counts = dict(tests=0, failures=0, errors=0, skipped=0)
    if study.get("error"):
        case = ET.SubElement(suite, "testcase", classname=study["study"], name="load",
                             time="0")
        ET.SubElement(case, "error", type="spec error",
                      message=f"the study folder does not load: {study['error']}")
        counts.update(tests=1, errors=1)
    for row, also in distinct_rows(study):
        case = ET.SubElement(suite, "testcase", classname=study["study"], name=row["id"],
                             time="0")
        outcome, message = case_outcome(row, study)
        if outcome != "passed":
            ET.SubElement(case, outcome, type=row.get("verdict") or outcome,
                          message=message).text = message
            counts["failures" if outcome == "failure" else "skipped"] += 1
        items = case_properties(row, also, study)
        # the strict schemas (Ant, Surefire) allow properties on the suite only: each
        # case's are there, prefixed with its id, and in its system-out as one line
        for name, value in items:
            ET.SubElement(props, "property", name=f"{row['id']}.{name}", value=value)
        ET.SubElement(case, "system-out").text = "; ".join(f"{n} {v}" for n, v in items)
        counts["tests"] += 1
    for k, v in counts.items():
        suite.set(k, str(v))
    suite.set("time", f"{float(study.get('elapsed_seconds') or 0):.3f}")
    ET.SubElement(suite, "system-out").text = ""
    ET.SubElement(suite, "system-err").text = ""


def junit_xml(studies: Sequence[dict]) -> str:
    """The JUnit XML document of a run.

    Parameters
    ----------
    studies : sequence of dict
        One dict per study, as ``StudyReport.to_dict()`` gives and ``results.json`` holds.

    Returns
    -------
    str
        An XML document with a ``<testsuites>`` root.
    """
    root = ET.Element("testsuites", name="tacebench replicate")
    for study in studies:
        _suite(root, study)
    totals = {k: sum(int(s.get(k)) for s in root) for k in ("tests", "failures", "errors")}
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{sum(float(s.get('time')) for s in root):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write_junit(studies: Sequence[dict], path: str | Path) -> Path:
    """Write :func:`junit_xml` to ``path`` (folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = junit_xml(studies)
    # whole or absent: a CI job never reads a cut-off report as a complete one
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
