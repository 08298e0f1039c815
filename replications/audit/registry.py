"""The rule registry and the context every rule reads.

A rule is a function ``(ctx: AuditContext) -> Iterable[Finding]`` registered with
:func:`rule`; :data:`RULES` maps its name to a :class:`Rule`. Rules never simulate and never
special-case a study: they read targets (and, when present, the arms of each analysis from
``analysis.toml`` and ``cohort.toml``) through the lookups of :class:`AuditContext`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterable, Mapping

from tacebench.replications.targets import StudyTargets, Target

from .findings import Finding
from .rounding import Printed, printed

__all__ = ["Rule", "RULES", "rule", "AuditContext", "GroupSize", "CheckLog"]


@dataclass(frozen=True)
class Rule:
    name: str
    family: str
    func: Callable[["AuditContext"], Iterable[Finding]]
    description: str


#: Every registered rule, by name, in registration order.
RULES: dict[str, Rule] = {}


def rule(name: str, family: str):
    """Register ``func`` as audit rule ``name`` of ``family`` (its module's topic)."""
    def deco(func):
        if name in RULES:
            raise ValueError(f"rule name {name!r} is registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        RULES[name] = Rule(name, family, func, doc[0] if doc else "")
        return func
    return deco


@dataclass(frozen=True)
class GroupSize:
    """A resolved denominator: its printed interval and where it came from."""

    size: Printed
    origin: str          # target id(s), "denominator of <id>", or "cohort.toml arm ..."
    #: the group-size targets it was read from (none for a rate's own denominator or
    #: cohort.toml's arm size): the numbers a check against it compares
    ids: tuple[str, ...] = ()


@dataclass
class CheckLog:
    """What the rules checked, as they run: the audit's coverage (:mod:`.coverage`).

    ``checks`` holds ``[rule, target ids, passed]`` per check a rule made (an identity
    tested, a p-value recomputed): ``passed`` is True until the rule records the check as
    failed (:meth:`AuditContext.failed`, just before the error or warning it yields);
    ``skipped`` ``(rule, target id, reason)`` per number a rule applies to but could not
    check (its inputs missing). :func:`replications.audit.audit_targets` sets ``rule``
    before it runs each rule.
    """

    rule: str = ""
    checks: list = field(default_factory=list)
    skipped: list = field(default_factory=list)


@dataclass(frozen=True)
class AuditContext:
    """Targets of one study plus lookups shared by the rules.

    ``arm_sizes`` maps an analysis name to its arms: ``{analysis: {arm label: n or None}}``
    (from :func:`replications.audit.cohort.analysis_arm_sizes`). ``n`` is ``cohort.toml``'s
    head count of the arm, given only when the analysis population is whole arms of the
    cohort and nothing is weighted or matched (population ``"all"`` or ``arm`` filters,
    adjustment ``none``); ``None`` marks an arm of a sub-population (imaging cohort,
    landmark population, a ``where`` subgroup) or of a weighted / matched / model-fitted
    sample, whose size only the paper's own numbers give. An analysis missing from the
    mapping (not in ``analysis.toml``) has the arms its targets name and no cohort sizes.
    """

    targets: StudyTargets
    arm_sizes: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    cohort_counts: tuple = ()      # (location, arm, counts, n) from cohort.toml variables
    #: the paper's conventions (:func:`replications.audit.conventions.infer_conventions`),
    #: filled in by :func:`replications.audit.audit_targets` before the rules run
    conventions: object = None
    #: the coverage log the rules write to (:meth:`checked`, :meth:`skipped`)
    log: CheckLog = field(default_factory=CheckLog, compare=False)

    def checked(self, *ids: str) -> None:
        """Record one check of the running rule on the numbers ``ids`` (passed so far)."""
        self.log.checks.append([self.log.rule, tuple(i for i in ids if i), True])

    def failed(self, *ids: str) -> None:
        """Record that the running rule's check on ``ids`` failed: the latest check it
        recorded on exactly these numbers, else a new (failed) check on them.

        A rule calls it for each error or warning it yields, naming the numbers of the
        check the finding reports, so that :mod:`.coverage` counts failed checks, not
        checks that merely share a number with a finding.
        """
        key = tuple(i for i in ids if i)
        for entry in reversed(self.log.checks):
            if entry[0] == self.log.rule and entry[1] == key:
                entry[2] = False
                return
        self.log.checks.append([self.log.rule, key, False])

    def skipped(self, target_id: str, reason: str) -> None:
        """Record that the running rule applies to ``target_id`` but lacks ``reason``."""
        self.log.skipped.append((self.log.rule, target_id, reason))

    def __iter__(self):
        return iter(self.targets)

    def get(self, target_id: str) -> Target | None:
        return self.targets.by_id.get(target_id)

    def arms(self, analysis: str) -> tuple[str, ...]:
        """The arms of ``analysis``: from ``analysis.toml`` and ``cohort.toml`` when known
        (an ``arm`` population filter keeps one), else those its targets name."""
        if analysis in self.arm_sizes:
            return tuple(self.arm_sizes[analysis])
        return tuple(dict.fromkeys(t.arm for t in self.targets
                                   if t.analysis == analysis and t.arm is not None))

    def whole_cohort(self, analysis: str) -> bool:
        """Is ``analysis`` whole arms of the cohort, unadjusted (its arm sizes known)?"""
        sizes = self.arm_sizes.get(analysis)
        return bool(sizes) and all(n is not None for n in sizes.values())

    @cached_property
    def _group_sizes(self) -> dict[tuple, list[Target]]:
        """The printed group sizes by (quantity, analysis, arm), in the targets' order: the
        rules ask for them thousands of times per study."""
        out: dict[tuple, list[Target]] = {}
        for t in self.targets:
            if t.quantity in ("group_size", "weighted_group_size") and t.value is not None:
                out.setdefault((t.quantity, t.analysis, t.arm), []).append(t)
        return out

    def group_size(self, analysis: str, arm: str | None, weighted: bool) -> GroupSize | None:
        """The size of ``arm`` (None: all arms) in ``analysis``, or None if unknown.

        Resolution, in order: a ``group_size`` target of the same analysis and arm
        (``weighted_group_size`` when ``weighted``: a weighted count is a share of the arm's
        sum of weights, a rounded real, never of its head count); among several (the same
        size printed in several places) the most frequent value wins, ties going to a table. A total missing as such is the sum of the arms' sizes. Last,
        for an unweighted size only, ``cohort.toml``'s arm size when the analysis is whole
        arms of the cohort, unadjusted; never for a sub-population, a matched or weighted
        sample, or an analysis ``analysis.toml`` does not define.
        """
        quantity = "weighted_group_size" if weighted else "group_size"
        cands = self._group_sizes.get((quantity, analysis, arm), [])
        if cands:
            freq = Counter(t.value for t in cands)
            best = max(cands, key=lambda t: (freq[t.value], t.where.startswith("table")))
            return GroupSize(printed(best, "value", exact=not weighted), best.id, (best.id,))
        if arm is None:
            arms = self.arms(analysis)
            parts = [self.group_size(analysis, a, weighted) for a in arms]
            if arms and all(p is not None for p in parts):
                lo = sum(p.size.lo for p in parts)
                hi = sum(p.size.hi for p in parts)
                text = " + ".join(p.size.text for p in parts)
                return GroupSize(Printed((lo + hi) / 2, lo, hi, text),
                                 " + ".join(p.origin for p in parts),
                                 tuple(i for p in parts for i in p.ids))
            return None
        n = self.arm_sizes.get(analysis, {}).get(arm)
        if not weighted and n is not None:
            n = float(n)
            return GroupSize(Printed(n, n, n, f"{n:g}"),
                             f"cohort.toml arm {arm!r} ({analysis}: whole cohort, unadjusted)")
        return None

    def denominator(self, t: Target) -> GroupSize | None:
        """A rate's denominator: its own, else the group size of its analysis and arm.

        An own ``denominator`` is a head count (exact) for an unweighted target; for a
        weighted one it is a sum of weights, rounded to the digits it is written with
        (``296`` allows 295.5-296.5, ``160.8`` allows 160.75-160.85).
        """
        if t.denominator is not None:
            d = t.denominator
            h = _half_unit(d) if t.weighted else 0.0
            return GroupSize(Printed(d, d - h, d + h, f"{d:g}"), f"denominator of {t.id}")
        return self.group_size(t.analysis, t.arm, t.weighted)


def _half_unit(x: float) -> float:
    """Half a unit in the last digit of ``x`` as written (shortest repr; 296.0 -> 0.5)."""
    text = repr(float(x))
    if "e" in text or "." not in text or text.endswith(".0"):
        return 0.5
    return 0.5 * 10.0 ** -len(text.split(".", 1)[1])
