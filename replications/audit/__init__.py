"""An audit of a study's published numbers: internal consistency, no simulation.

Each rule (one module per family: :mod:`.proportions`, :mod:`.intervals`,
:mod:`.survival`, :mod:`.agreement`, :mod:`.weights`, :mod:`.comparisons`,
:mod:`.cohort`) reads the study's targets and returns :class:`Finding` records naming the
targets, the rule, the size of the discrepancy and a severity. Every tolerance comes from
the paper's own rounding (the printed decimals of each number) and is justified in the
rule's docstring; no rule knows any particular study.

>>> report = audit_study("path/to/study")     # a folder with targets.toml  # doctest: +SKIP
>>> report.to_frame()                                                   # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from replications.targets import StudyTargets, load_targets

# importing the rule modules registers their rules
from . import (agreement, cohort, comparisons, intervals, proportions,  # noqa: F401
               survival, weights)
from .cohort import cohort_facts
from .findings import SEVERITIES, AuditReport, Finding
from .registry import RULES, AuditContext, Rule, rule

__all__ = ["audit_study", "audit_targets", "AuditReport", "Finding", "AuditContext", "Rule",
           "RULES", "SEVERITIES", "rule", "cohort_facts"]

_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def audit_targets(targets: StudyTargets, *, arm_sizes=None, cohort_counts=(),
                  rules: Iterable[str] | None = None) -> AuditReport:
    """Run the audit rules (all, or those named) on loaded targets.

    ``arm_sizes`` (label -> n) and ``cohort_counts`` come from :func:`cohort_facts`.
    """
    names = list(RULES) if rules is None else list(rules)
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ValueError(f"rules: unknown rule name(s) {unknown!r}; known: {sorted(RULES)}")
    ctx = AuditContext(targets, dict(arm_sizes or {}), tuple(cohort_counts))
    found = []
    for name in names:
        for f in RULES[name].func(ctx):
            found.append(Finding(**{**f.__dict__, "study": targets.study_id}))
    found.sort(key=lambda f: (_ORDER[f.severity], f.rule))
    return AuditReport(targets.study_id, tuple(found), tuple(names), len(targets))


def audit_study(study: str | Path | StudyTargets, *,
                rules: Iterable[str] | None = None) -> AuditReport:
    """Audit a study: a folder (or its ``targets.toml``), or targets already loaded.

    The ``cohort.toml`` next to the targets, when present, supplies arm sizes (a last-resort
    denominator) and the per-arm counts checked by ``cohort_counts_fit_arm_sizes``.
    """
    if isinstance(study, StudyTargets):
        targets, folder = study, (study.path.parent if study.path else None)
    else:
        path = Path(study)
        folder = path if path.is_dir() else path.parent
        targets = load_targets(folder)
    arm_sizes, counts = ({}, ())
    if folder is not None and (folder / "cohort.toml").is_file():
        arm_sizes, counts = cohort_facts(folder)
    return audit_targets(targets, arm_sizes=arm_sizes, cohort_counts=counts, rules=rules)
