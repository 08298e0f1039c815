"""An audit of a study's published numbers: internal consistency, no simulation.

Each rule (one module per family: :mod:`.proportions`, :mod:`.intervals`,
:mod:`.survival`, :mod:`.agreement`, :mod:`.weights`, :mod:`.comparisons`, :mod:`.means`,
:mod:`.cohort`) reads the study's targets and returns :class:`Finding` records naming the
targets, the rule, the size of the discrepancy and a severity. Every tolerance comes from
the paper's own rounding (the printed decimals of each number) and is justified in the
rule's docstring; no rule knows any particular study.

>>> report = audit_study("path/to/study")     # a folder with targets.toml  # doctest: +SKIP
>>> report.to_frame()                                                   # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable, Mapping

from tacebench.replications.targets import StudyTargets, load_targets

# importing the rule modules registers their rules
from . import (agreement, claims, cohort, comparisons, conventions,  # noqa: F401
               directions, intervals, means, printing, proportions, pvalues, subsets,
               survival, tables, weights)
from . import misprints  # noqa: F401  (registered last: it reruns the rules above)
from .claims import claim_ref
from .cohort import analysis_arm_sizes, cohort_facts, read_cohort
from .conventions import infer_conventions
from .coverage import Coverage, audit_coverage, coverage_lines
from .findings import SEVERITIES, AuditReport, Finding, merge_copies
from .misprints import misprint_errors
from .registry import RULES, AuditContext, Rule, rule

__all__ = ["audit_study", "audit_targets", "AuditReport", "Finding", "AuditContext", "Rule",
           "RULES", "SEVERITIES", "rule", "cohort_facts", "Coverage", "coverage_lines",
           "misprint_check"]

_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def audit_targets(targets: StudyTargets, *, arm_sizes=None, cohort_counts=(),
                  rules: Iterable[str] | None = None) -> AuditReport:
    """Run the audit rules (all, or those named) on loaded targets.

    ``arm_sizes`` is ``{analysis: {arm label: n or None}}``, as
    :func:`replications.audit.cohort.analysis_arm_sizes` reads it from ``analysis.toml``
    and ``cohort.toml``: the arms of each analysis, with the cohort's head count where the
    analysis is whole arms of the cohort, unadjusted (see :class:`AuditContext`). Without
    it no denominator comes from the cohort. ``cohort_counts`` comes from
    :func:`cohort_facts`.
    """
    names = list(RULES) if rules is None else list(rules)
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ValueError(f"rules: unknown rule name(s) {unknown!r}; known: {sorted(RULES)}")
    ctx = _context(targets, arm_sizes, cohort_counts)
    found = []
    for name in names:
        ctx.log.rule = name
        for f in RULES[name].func(ctx):
            found.append(Finding(**{**f.__dict__, "study": targets.study_id}))
    found.sort(key=lambda f: (_ORDER[f.severity], f.rule))
    groups = {t.id: g[0].id for g in targets.same_as_groups() for t in g}
    quotes = {t.id: t.source for t in targets}
    quotes.update({claim_ref(c): c.quote for c in targets.claims})
    found = merge_copies(found, groups, quotes, {t.id: t.analysis for t in targets})
    coverage = audit_coverage(ctx.log, found, targets, names)
    return AuditReport(targets.study_id, tuple(found), tuple(names), len(targets), coverage)


def _context(targets: StudyTargets, arm_sizes, cohort_counts) -> AuditContext:
    ctx = AuditContext(targets, _check_arm_sizes(arm_sizes), tuple(cohort_counts))
    return replace(ctx, conventions=infer_conventions(ctx))


def _check_arm_sizes(arm_sizes) -> dict[str, dict[str, float | None]]:
    if arm_sizes is None:
        return {}
    ok = isinstance(arm_sizes, Mapping) and all(
        isinstance(arms, Mapping) and all(
            n is None or (isinstance(n, (int, float)) and not isinstance(n, bool) and n > 0)
            for n in arms.values())
        for arms in arm_sizes.values())
    if not ok:
        raise ValueError(
            f"arm_sizes: expected {{analysis: {{arm label: n or None}}}}, got {arm_sizes!r}; "
            "a cohort's arm sizes are the denominators of whole-cohort, unadjusted analyses "
            "only (see replications.audit.cohort.analysis_arm_sizes)")
    return {a: dict(arms) for a, arms in arm_sizes.items()}


def audit_study(study: str | Path | StudyTargets, *,
                rules: Iterable[str] | None = None) -> AuditReport:
    """Audit a study: a folder (or its ``targets.toml``), or targets already loaded.

    ``analysis.toml`` and ``cohort.toml`` next to the targets, when present, supply each
    analysis's arms and, for whole-cohort unadjusted analyses, the arm sizes (the last
    source of a denominator, :func:`~replications.audit.cohort.analysis_arm_sizes`), and
    the per-arm counts checked by ``cohort_counts_fit_arm_sizes``.
    """
    if isinstance(study, StudyTargets):
        targets, folder = study, (study.path.parent if study.path else None)
    else:
        path = Path(study)
        folder = path if path.is_dir() else path.parent
        targets = load_targets(folder)
    arm_sizes, counts = _folder_facts(folder)
    return audit_targets(targets, arm_sizes=arm_sizes, cohort_counts=counts, rules=rules)


def _folder_facts(folder: Path | None) -> tuple[dict, tuple]:
    """The arms of each analysis (with whole-cohort sizes) and cohort.toml's per-arm counts."""
    arm_sizes, counts = {}, ()
    if folder is not None:
        # parsed once for both; an unreadable file raises here, as cohort_facts did
        cohort = read_cohort(folder) if (folder / "cohort.toml").is_file() else None
        arm_sizes = analysis_arm_sizes(folder, cohort)
        if cohort is not None:
            counts = cohort_facts(folder, cohort)[1]
    return arm_sizes, counts


def misprint_check(targets: StudyTargets) -> list[tuple[str, str]]:
    """``(target id, message)`` for each declared misprint that corrects nothing
    (:func:`.misprints.misprint_errors`), the study's arms and counts read from the
    folder of ``targets`` as :func:`audit_study` reads them."""
    if not any(t.misprint is not None for t in targets):
        return []
    folder = targets.path.parent if targets.path else None
    return misprint_errors(_context(targets, *_folder_facts(folder)))
