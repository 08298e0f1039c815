"""Precision and recall of the audit on the constructed corpus, per rule family."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tacebench.replications.audit import RULES, audit_targets
from tacebench.replications.targets import parse_targets

from .builder import SLIP_RULES, build_paper

#: Findings that flag a slip (``info`` reports conventions and facts, never a slip).
FLAGS = ("error", "warning")


@dataclass(frozen=True)
class FamilyScore:
    family: str
    true_positives: int
    false_positives: int
    planted: int
    found: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0


def measure(seeds, clean_seeds=()) -> tuple[dict[str, FamilyScore], list]:
    """Audit every constructed paper and score each rule family.

    A flagged finding (error or warning) is a true positive when it names a target of a
    planted slip, a false positive otherwise; a planted slip is found when a flagged
    finding of one of the rules its kind is for (:data:`SLIP_RULES`) names its target.
    Returns the scores and the false positives (for inspection).
    """
    tp, fp, planted, found = (defaultdict(int) for _ in range(4))
    false_positives = []
    papers = [build_paper(s) for s in seeds] + [build_paper(s, clean=True) for s in clean_seeds]
    for paper in papers:
        report = audit_targets(parse_targets(paper.data()))
        flagged = [f for f in report if f.severity in FLAGS]
        slip_ids = {tid for _, tid in paper.slips}
        for f in flagged:
            fam = RULES[f.rule].family
            if slip_ids & set(f.targets):
                tp[fam] += 1
            else:
                fp[fam] += 1
                false_positives.append((paper.study_id, f))
        for kind, tid in paper.slips:
            fam = RULES[SLIP_RULES[kind][0]].family
            planted[fam] += 1
            found[fam] += any(f.rule in SLIP_RULES[kind] and tid in f.targets for f in flagged)
    families = sorted(set(tp) | set(fp) | set(planted))
    return ({fam: FamilyScore(fam, tp[fam], fp[fam], planted[fam], found[fam])
             for fam in families}, false_positives)


def table(scores: dict[str, FamilyScore]) -> str:
    """The scores as a fixed-width text table."""
    lines = [f"{'family':<12} {'precision':>9} {'TP':>4} {'FP':>4} {'recall':>7} "
             f"{'found':>5} {'planted':>7}"]
    for s in scores.values():
        lines.append(f"{s.family:<12} {s.precision:>9.1%} {s.true_positives:>4} "
                     f"{s.false_positives:>4} {s.recall:>7.1%} {s.found:>5} {s.planted:>7}")
    return "\n".join(lines)
