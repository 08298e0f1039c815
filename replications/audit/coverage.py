"""What the audit checked: per rule, checks run, passed and failed; numbers left unchecked.

The rules record each check as they make it (:meth:`~.registry.AuditContext.checked`) and
each number they apply to but cannot check, with the missing input
(:meth:`~.registry.AuditContext.skipped`), and each check that failed
(:meth:`~.registry.AuditContext.failed`, one per error or warning, on the numbers of the
check it reports); a check counts once however often it ran, failed if it ever failed.
A reported number no consistency check reached is listed with the reason: the inputs a
rule needed were missing (the rule's words), or no rule applies to it.
``malformed_numbers`` reads every quote's characters, not the number against others, so
it does not count as checking a number.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from .registry import RULES, CheckLog

__all__ = ["RuleCoverage", "Unchecked", "Coverage", "audit_coverage", "coverage_lines",
           "coverage_table", "COVERAGE_HEAD"]

#: Rules whose checks read the printed text, not the number (they do not cover it).
TEXT_ONLY = frozenset({"malformed_numbers"})
#: The reason of a number no rule looks at.
NO_RULE = "no rule applies"


@dataclass(frozen=True)
class RuleCoverage:
    """One rule's checks: run, passed, failed, and numbers it could not check."""

    rule: str
    family: str
    ran: int
    passed: int
    failed: int
    findings: int
    not_checkable: int


@dataclass(frozen=True)
class Unchecked:
    """A reported number no rule checked, and why."""

    target: str
    quantity: str
    where: str
    reason: str


@dataclass(frozen=True)
class Coverage:
    """The audit's coverage of one study."""

    rules: tuple[RuleCoverage, ...]
    unchecked: tuple[Unchecked, ...]
    n_targets: int

    def to_dict(self) -> dict:
        return {"rules": [asdict(r) for r in self.rules],
                "unchecked": [asdict(u) for u in self.unchecked],
                "n_targets": self.n_targets}

    @classmethod
    def from_dict(cls, d: dict) -> "Coverage":
        """The inverse of :meth:`to_dict` (a ``results.json`` study's ``audit_coverage``)."""
        return cls(tuple(RuleCoverage(**r) for r in d["rules"]),
                   tuple(Unchecked(**u) for u in d["unchecked"]), d["n_targets"])

    def by_reason(self) -> dict[str, list[str]]:
        """Unchecked target ids grouped by reason (in order of first appearance)."""
        out = defaultdict(list)
        for u in self.unchecked:
            out[u.reason].append(u.target)
        return dict(out)


def audit_coverage(log: CheckLog, findings, targets, rules) -> Coverage:
    """Tally the checks the rules logged against their findings.

    Parameters
    ----------
    log : CheckLog
        What the rules recorded while they ran.
    findings : iterable of Finding
        The audit's findings (merged or not: a finding names every number involved).
    targets : StudyTargets
        The study's reported numbers.
    rules : iterable of str
        The rules that ran.

    Returns
    -------
    Coverage
        Per rule, distinct checks run, passed and failed (as the rule recorded them), its
        findings and the numbers it could not check; and each target no consistency
        check reached, with its reason.
    """
    n_findings, flagged = defaultdict(int), defaultdict(set)
    for f in findings:
        n_findings[f.rule] += 1
        if f.severity != "info":
            flagged[f.rule].update(f.targets)
    checks, failed = defaultdict(set), defaultdict(set)
    for name, ids, passed in log.checks:
        checks[name].add(ids)
        if not passed:
            failed[name].add(ids)
    skipped = defaultdict(dict)
    for name, tid, reason in log.skipped:
        skipped[name].setdefault(tid, reason)
    rows = []
    for name in rules:
        ran = checks.get(name, set())
        n_failed = len(failed.get(name, set()))
        not_checkable = len(set(skipped.get(name, {})) - {i for ids in ran for i in ids})
        rows.append(RuleCoverage(name, RULES[name].family, len(ran), len(ran) - n_failed,
                                 n_failed, n_findings.get(name, 0), not_checkable))
    covered = {i for name, ids, _ in log.checks if name not in TEXT_ONLY for i in ids}
    covered |= {i for name, ids in flagged.items() if name not in TEXT_ONLY for i in ids}
    unchecked = []
    for t in targets:
        if t.id in covered:
            continue
        why = [f"{name}: {s[t.id]}" for name, s in skipped.items() if t.id in s]
        unchecked.append(Unchecked(t.id, t.quantity, t.where,
                                   "; ".join(why) if why
                                   else f"{NO_RULE} ({_what(t, targets.by_id)})"))
    return Coverage(tuple(rows), tuple(unchecked), len(targets))


def _what(t, by_id) -> str:
    """The number in the words of the rules' scope, for "no rule applies (...)"."""
    if t.quantity == "p_value":
        kinds = {by_id[i].quantity for i in t.compares if i in by_id}
        if kinds == {"median"}:
            return ("a p-value of two medians: a rank test, which medians with their IQR or "
                    "range cannot reproduce")
        if kinds == {"mean"}:
            return "a p-value of two means without the SDs and group sizes of a t-test"
        return "a p-value without the counts, means and SDs, or interval it was computed from"
    if t.quantity in ("hr", "odds_ratio") and not t.ci:
        return f"a {t.quantity} without an interval"
    return f"a {t.quantity} with nothing printed to check it against"


#: The columns of the per-rule table.
COVERAGE_HEAD = ("rule", "family", "checks", "passed", "failed", "findings", "not checkable")


def coverage_table(cov: Coverage) -> tuple[str, list[list[str]]]:
    """The summary sentence and the per-rule rows (rules that ran a check, found something
    or could not check a number), as text: what the console, Markdown and HTML show."""
    active = [r for r in cov.rules if r.ran or r.findings or r.not_checkable]
    body = [[r.rule, r.family, str(r.ran), str(r.passed), str(r.failed), str(r.findings),
             str(r.not_checkable)] for r in active]
    n = len(cov.unchecked)
    summary = (f"Audit coverage: {sum(r.ran for r in cov.rules)} check(s) by {len(active)} "
               f"rule(s); {cov.n_targets - n} of {cov.n_targets} reported numbers checked")
    return summary, body


def coverage_lines(cov: Coverage, markdown: bool = False, max_ids: int = 8) -> list[str]:
    """The coverage as text: a per-rule table and the unchecked numbers by reason."""
    summary, body = coverage_table(cov)
    head = list(COVERAGE_HEAD)
    if markdown:
        table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        table += ["| " + " | ".join(row) + " |" for row in body]
    else:
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        table = ["  " + "  ".join(x.ljust(w) for x, w in zip(row, widths))
                 for row in [head] + body]
    n = len(cov.unchecked)
    out = [summary, ""]
    out += table
    if n:
        out += ["", f"Numbers no rule checked ({n}):"]
        for reason, ids in cov.by_reason().items():
            more = f" and {len(ids) - max_ids} more" if len(ids) > max_ids else ""
            out.append(("- " if markdown else "  - ") + f"{reason}: {len(ids)} "
                       f"({', '.join(ids[:max_ids])}{more})")
    return out
