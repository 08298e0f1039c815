"""The audit's coverage counts what the rules recorded: each check passed or failed as
the rule decided it, and no number a flag names is listed as unchecked."""
from __future__ import annotations

from pathlib import Path

import pytest

from tacebench.replications.audit import RULES, audit_targets
from tacebench.replications.audit.cohort import analysis_arm_sizes, cohort_facts, read_cohort
from tacebench.replications.audit.conventions import infer_conventions
from tacebench.replications.audit.registry import AuditContext
from tacebench.replications.targets import load_targets, parse_targets

STUDIES = Path(__file__).resolve().parents[2] / "tacebench" / "studies"
IDS = sorted(p.name for p in STUDIES.iterdir() if (p / "targets.toml").is_file())


def _paper(*rows):
    base = {"analysis": "crude", "role": "reported", "where": "table 3"}
    return parse_targets({"study": {"id": "s"},
                          "targets": [{**base, **r} for r in rows]})


def _ae(tid, endpoint, count, arm="A"):
    return {"id": tid, "quantity": "rate", "endpoint": endpoint, "arm": arm,
            "count": count, "source": f"{endpoint} {count}"}


def _row(rep, name):
    (row,) = [r for r in rep.coverage.rules if r.rule == name]
    return row


def test_a_check_sharing_a_number_with_a_failed_one_still_passes():
    """ae_any 10 contains ae_rash 12 (fails) and ae_fever 5 (passes): one failed check,
    not two because both pairs name ae_any."""
    rep = audit_targets(_paper({"id": "n_a", "quantity": "group_size", "arm": "A",
                                "value": 40, "source": "(n = 40)"},
                               _ae("any", "ae_any", 10), _ae("rash", "ae_rash", 12),
                               _ae("fever", "ae_fever", 5)), rules=["subset_within_set"])
    assert len(rep.select(rule="subset_within_set")) == 1
    row = _row(rep, "subset_within_set")
    assert (row.ran, row.passed, row.failed) == (2, 1, 1)


def _study_context(sid):
    folder = STUDIES / sid
    cohort = read_cohort(folder) if (folder / "cohort.toml").is_file() else None
    counts = cohort_facts(folder, cohort)[1] if cohort is not None else ()
    ctx = AuditContext(load_targets(folder), analysis_arm_sizes(folder, cohort), counts)
    return AuditContext(ctx.targets, ctx.arm_sizes, ctx.cohort_counts,
                        infer_conventions(ctx))


def _corpus_context(seed):
    """A constructed paper with planted slips (:mod:`.audit_corpus`): flags of every kind."""
    from .audit_corpus.builder import build_paper
    ctx = AuditContext(parse_targets(build_paper(seed).data()))
    return AuditContext(ctx.targets, conventions=infer_conventions(ctx))


def _run_each_rule(sid):
    """(rule, its errors and warnings, the checks it logged) for every rule on a study
    (a shipped study's id, or the seed of a constructed paper)."""
    ctx = _corpus_context(sid) if isinstance(sid, int) else _study_context(sid)
    for name, r in RULES.items():
        ctx.log.rule = name
        start = len(ctx.log.checks)
        flags = [f for f in r.func(ctx) if f.severity != "info"]
        yield name, flags, ctx.log.checks[start:], set(ctx.targets.by_id)


@pytest.mark.parametrize("sid", IDS + [0, 1, 2])
def test_every_flag_is_a_failed_check_and_every_failed_check_a_flag(sid):
    """Every rule, on every shipped study: each error or warning comes with a failed check
    of its rule on numbers it names, and every failed check with such a flag."""
    for name, flags, log, _ in _run_each_rule(sid):
        failed = [set(c[1]) for c in log if not c[2]]
        for f in flags:
            assert any(c <= set(f.targets) for c in failed), (name, f.message)
        for c in failed:
            assert any(c <= set(f.targets) for f in flags), (name, c)


@pytest.mark.parametrize("sid", IDS + [0, 1, 2])
def test_every_number_a_flag_names_was_checked_by_its_rule(sid):
    """Every target an error or warning names is among its rule's checks, so coverage
    cannot list a number as unchecked while a finding is about it."""
    for name, flags, log, ids in _run_each_rule(sid):
        checked = {i for c in log for i in c[1]}
        for f in flags:
            assert set(f.targets) & ids <= checked, (name, f.targets)


def test_the_arms_a_total_is_compared_with_are_checked():
    rep = audit_targets(_paper(*({"id": f"n_{a.lower()}", "quantity": "group_size", "arm": a,
                                  "value": v, "source": f"(n = {v})"}
                                 for a, v in (("A", 282), ("B", 116))),
                               {"id": "n_all", "quantity": "group_size", "value": 398,
                                "source": "398 patients"}))
    assert not rep.findings or all(f.severity == "info" for f in rep.findings)
    assert not {u.target for u in rep.coverage.unchecked} & {"n_a", "n_b", "n_all"}


def test_weighted_group_sizes_are_checked_against_their_arms():
    rows = [{"id": f"n_{a.lower()}", "quantity": "group_size", "arm": a, "value": 100,
             "source": "(n = 100)"} for a in "AB"]
    rows += [{"id": f"w_{a.lower()}", "analysis": "iptw", "quantity": "weighted_group_size",
              "arm": a, "value": 98.6, "unweighted": f"n_{a.lower()}", "source": "(n = 98.6)"}
             for a in "AB"]
    rep = audit_targets(_paper(*rows), rules=["weighted_group_sizes"])
    assert rep.select(rule="weighted_group_sizes")
    assert _row(rep, "weighted_group_sizes").ran == 2
    assert not {u.target for u in rep.coverage.unchecked} & {"w_a", "w_b"}


def test_the_html_report_shows_the_coverage():
    """The per-rule table and the numbers no rule checked, as the console prints them."""
    from tacebench.replications.html_report import render_html
    from tacebench.replications.report import StudyReport
    rep = audit_targets(_paper({"id": "n_a", "quantity": "group_size", "arm": "A",
                                "value": 40, "source": "(n = 40)"},
                               _ae("any", "ae_any", 10), _ae("rash", "ae_rash", 12),
                               {"id": "os_p", "quantity": "p_value", "endpoint": "os",
                                "p": 0.03, "source": "log-rank p = 0.03"}))
    study = StudyReport("s", audit=rep.findings, coverage=rep.coverage).to_dict()
    html = render_html([study])
    assert 'id="s-coverage"' in html and "Audit coverage:" in html
    row = next(r for r in rep.coverage.rules if r.rule == "subset_within_set")
    assert ("<td>subset_within_set</td><td>subsets</td>"
            f"<td>{row.ran}</td><td>{row.passed}</td><td>{row.failed}</td>") in html
    n = len(rep.coverage.unchecked)
    assert f"Numbers no rule checked ({n})" in html and "<code>os_p</code>" in html


def test_the_group_size_a_percentage_divides_by_is_checked():
    """48/282 = 17.0% passes and 60/282 = 17.0% fails; either way the group size is one
    of the numbers compared, and the failure names it."""
    n_a = {"id": "n_a", "quantity": "group_size", "arm": "A", "value": 282,
           "source": "(n = 282)"}
    for count, flags in ((48, 0), (60, 1)):
        rep = audit_targets(_paper(n_a, {"id": "x_a", "quantity": "proportion", "arm": "A",
                                         "term": "x", "count": count, "percent": 17.0,
                                         "source": f"{count} (17.0%)"}),
                            rules=["percent_matches_count"])
        found = rep.select(rule="percent_matches_count")
        assert len(found) == flags
        assert all(set(f.targets) == {"x_a", "n_a"} for f in found)
        assert "n_a" not in {u.target for u in rep.coverage.unchecked}
