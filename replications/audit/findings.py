"""Audit findings as data: one frozen record per inconsistency, a report with a tidy view."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["SEVERITIES", "Finding", "AuditReport", "merge_copies"]

#: ``error``: no reading of the paper's conventions and rounding reconciles the numbers;
#: ``warning``: one reading does, but it is unusual (truncation in a rounded table,
#: double rounding, a different test from the paper's, one unit in the last digit,
#: undisclosed missing data); ``info``: the paper's conventions and other facts worth
#: knowing, not slips (e.g. how weighted group sizes compare with the arm sizes).
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One audit finding.

    Attributes
    ----------
    rule : the rule's registered name.
    severity : ``error`` | ``warning`` | ``info``.
    targets : the target ids involved (or ``cohort.toml`` locations).
    message : plain-words statement with the numbers.
    discrepancy : size of the inconsistency in ``unit`` (the smallest distance between what
        was printed and what the other numbers allow), or None when not a distance.
    unit : unit of ``discrepancy`` (``"percentage points"``, ``"log units"``, ...).
    reported, expected : printed value(s) and what the arithmetic gives, as text.
    study : the study id (filled in by :func:`replications.audit.audit_targets`).
    quotes : the source quotes of every target involved, copies of one number included
        (filled in by :func:`replications.audit.audit_targets`).
    """

    rule: str
    severity: str
    targets: tuple[str, ...]
    message: str
    discrepancy: float | None = None
    unit: str | None = None
    reported: str | None = None
    expected: str | None = None
    study: str | None = None
    quotes: tuple[str, ...] = ()

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}; got {self.severity!r}")
        object.__setattr__(self, "targets", tuple(self.targets))
        object.__setattr__(self, "quotes", tuple(self.quotes))

    def to_dict(self) -> dict:
        out = asdict(self)
        out["targets"] = ", ".join(self.targets)
        out["quotes"] = " | ".join(self.quotes)
        return out


@dataclass(frozen=True)
class AuditReport:
    """The findings of all rules run on one study."""

    study: str
    findings: tuple[Finding, ...]
    rules: tuple[str, ...]
    n_targets: int
    #: per rule, checks run / passed / failed, and the numbers left unchecked
    #: (:class:`replications.audit.coverage.Coverage`); None if not measured
    coverage: object = None

    def __iter__(self):
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def counts(self) -> dict[str, int]:
        """Number of findings per severity (all severities present, possibly 0)."""
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in SEVERITIES}

    def select(self, *, rule: str | None = None, severity: str | None = None,
               target: str | None = None) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings
                     if (rule is None or f.rule == rule)
                     and (severity is None or f.severity == severity)
                     and (target is None or target in f.targets))

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        cols = ["study", "rule", "severity", "targets", "message", "discrepancy", "unit",
                "reported", "expected", "quotes"]
        rows = [f.to_dict() for f in self.findings]
        return pd.DataFrame(rows, columns=cols)


def merge_copies(findings, groups: dict[str, str], quotes: dict[str, str],
                 analyses: dict[str, str]) -> list[Finding]:
    """One finding per slip: findings of one rule and severity merged when they name
    copies of the same numbers (``same_as``), or the same relation broken in each arm of
    one quote (one table row or sentence, one analysis).

    Parameters
    ----------
    findings : iterable of Finding
        In severity order (the first of a set is kept, the others' targets added).
    groups : dict
        Target id -> the id of its ``same_as`` group (a number printed in several places).
    quotes : dict
        Target id -> its source quote.
    analyses : dict
        Target id -> its analysis.

    Returns
    -------
    list of Finding
        Findings comparing copies with each other (``same_as_agree``) merge only when the
        same deviating value is printed in several copies: two fields of one pair are
        two slips.
    """
    out, index = [], {}
    for f in findings:
        roots = frozenset(groups.get(i, i) for i in f.targets)
        if f.rule == "same_as_agree":     # one deviating value printed in several copies
            keys = [(f.rule, f.severity, roots, f.reported, f.expected)]
        else:
            keys = [(f.rule, f.severity, roots),
                    (f.rule, f.severity, frozenset(quotes.get(r, r) for r in roots),
                     frozenset(analyses.get(i) for i in f.targets))]
        hit = next((index[k] for k in keys if k in index), None)
        if hit is None or not f.targets:
            for k in keys:
                index.setdefault(k, len(out))
            out.append(replace(f, quotes=tuple(dict.fromkeys(
                quotes[i] for i in f.targets if i in quotes))))
            continue
        kept = out[hit]
        extra = tuple(i for i in f.targets if i not in kept.targets)
        out[hit] = replace(kept, targets=kept.targets + extra, quotes=tuple(dict.fromkeys(
            kept.quotes + tuple(quotes[i] for i in extra if i in quotes))))
    return [replace(f, message=f"{f.message} (also: {', '.join(f.targets[len(o.targets):])})")
            if len(f.targets) > len(o.targets) else f
            for f, o in zip(out, _first_of(out, findings))]


def _first_of(merged, findings):
    """The original finding each merged one started from (same order)."""
    firsts, it = [], iter(findings)
    for m in merged:
        for f in it:
            if f.rule == m.rule and f.message == m.message:
                firsts.append(f)
                break
    return firsts
