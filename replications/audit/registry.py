"""The rule registry and the context every rule reads.

A rule is a function ``(ctx: AuditContext) -> Iterable[Finding]`` registered with
:func:`rule`; :data:`RULES` maps its name to a :class:`Rule`. Rules never simulate and never
special-case a study: they read targets (and, when present, the arm sizes of
``cohort.toml``) through the lookups of :class:`AuditContext`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from replications.targets import StudyTargets, Target

from .findings import Finding
from .rounding import Printed, printed

__all__ = ["Rule", "RULES", "rule", "AuditContext", "GroupSize"]


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
    origin: str          # a target id, "denominator of <id>", or "cohort.toml arm <label>"


@dataclass(frozen=True)
class AuditContext:
    """Targets of one study plus lookups shared by the rules.

    ``arm_sizes`` maps an arm label to its size from ``cohort.toml``, used only as the last
    resort for a denominator (after a target's own ``denominator`` and the study's
    ``group_size`` targets of the same analysis).
    """

    targets: StudyTargets
    arm_sizes: Mapping[str, float] = field(default_factory=dict)
    cohort_counts: tuple = ()      # (location, arm, counts, n) from cohort.toml variables

    def __iter__(self):
        return iter(self.targets)

    def get(self, target_id: str) -> Target | None:
        return self.targets.by_id.get(target_id)

    def arms(self, analysis: str) -> tuple[str, ...]:
        """Arms that appear in any target of ``analysis`` (in order of appearance)."""
        return tuple(dict.fromkeys(t.arm for t in self.targets
                                   if t.analysis == analysis and t.arm is not None))

    def group_size(self, analysis: str, arm: str | None, weighted: bool) -> GroupSize | None:
        """The size of ``arm`` (None: all arms) in ``analysis``.

        Among several ``group_size`` targets (the same size printed in several places) the
        most frequent value wins, ties going to a table; a total missing as such is the sum
        of the arms' sizes. Weighted targets look for ``weighted_group_size``.
        """
        quantity = "weighted_group_size" if weighted else "group_size"
        cands = [t for t in self.targets if t.quantity == quantity and t.analysis == analysis
                 and t.arm == arm and t.value is not None]
        if cands:
            freq = Counter(t.value for t in cands)
            best = max(cands, key=lambda t: (freq[t.value], t.where.startswith("table")))
            return GroupSize(printed(best, "value", exact=not weighted), best.id)
        if arm is None:
            arms = self.arms(analysis)
            parts = [self.group_size(analysis, a, weighted) for a in arms]
            if arms and all(p is not None for p in parts):
                lo = sum(p.size.lo for p in parts)
                hi = sum(p.size.hi for p in parts)
                text = " + ".join(p.size.text for p in parts)
                return GroupSize(Printed((lo + hi) / 2, lo, hi, text),
                                 " + ".join(p.origin for p in parts))
            return None
        if not weighted and arm in self.arm_sizes:
            n = float(self.arm_sizes[arm])
            return GroupSize(Printed(n, n, n, f"{n:g}"), f"cohort.toml arm {arm!r}")
        return None

    def denominator(self, t: Target) -> GroupSize | None:
        """A rate's denominator: its own, else the group size of its analysis and arm."""
        if t.denominator is not None:
            d = t.denominator
            return GroupSize(Printed(d, d, d, f"{d:g}"), f"denominator of {t.id}")
        return self.group_size(t.analysis, t.arm, t.weighted)
