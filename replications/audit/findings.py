"""Audit findings as data: one frozen record per inconsistency, a report with a tidy view."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import pandas as pd

__all__ = ["SEVERITIES", "Finding", "AuditReport"]

#: ``error``: arithmetic that cannot hold under any rounding of the printed numbers;
#: ``warning``: an inconsistency with a benign explanation (truncation instead of rounding,
#: a different test, a non-Wald interval, one unit in the last digit); ``info``: worth
#: knowing, not a slip (e.g. how weighted group sizes compare with the arm sizes).
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

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}; got {self.severity!r}")
        object.__setattr__(self, "targets", tuple(self.targets))

    def to_dict(self) -> dict:
        out = asdict(self)
        out["targets"] = ", ".join(self.targets)
        return out


@dataclass(frozen=True)
class AuditReport:
    """The findings of all rules run on one study."""

    study: str
    findings: tuple[Finding, ...]
    rules: tuple[str, ...]
    n_targets: int

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
        cols = ["study", "rule", "severity", "targets", "message", "discrepancy", "unit",
                "reported", "expected"]
        rows = [f.to_dict() for f in self.findings]
        return pd.DataFrame(rows, columns=cols)
