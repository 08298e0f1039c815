"""The audit's precision and recall, measured on constructed papers with planted slips.

Every paper is drawn from a seed (tests/replications/audit_corpus/builder.py): clean
numbers under the paper's own conventions (its two-proportion test, a truncated column,
rows forced to 100, rows of one arm on n - 1 patients), with slips of each rule's kind
planted and recorded. Precision and recall are computed per rule family and must reach
95% and 90%. The default run audits 30 papers; the ``slow`` run 150.
"""
from __future__ import annotations

import pytest

from tacebench.replications.audit import audit_targets
from tacebench.replications.targets import parse_targets

from .audit_corpus.builder import SLIP_RULES, build_paper
from .audit_corpus.measure import measure, table

MIN_PRECISION, MIN_RECALL = 0.95, 0.90


def _check(scores):
    print("\n" + table(scores))
    low = {f: (round(s.precision, 3), round(s.recall, 3)) for f, s in scores.items()
           if s.precision < MIN_PRECISION or s.recall < MIN_RECALL}
    assert not low, f"families below {MIN_PRECISION:.0%} precision / {MIN_RECALL:.0%} " \
                    f"recall: {low}\n{table(scores)}"


def test_precision_and_recall_per_family():
    scores, _ = measure(range(24), range(1000, 1006))
    assert {s.family for s in scores.values() if s.planted} >= {
        "agreement", "claims", "comparisons", "conventions", "intervals", "printing",
        "proportions", "pvalues", "subsets", "survival"}
    _check(scores)


@pytest.mark.slow
def test_precision_and_recall_per_family_large_corpus():
    scores, _ = measure(range(120), range(1000, 1030))
    _check(scores)


@pytest.mark.parametrize("seed", range(1000, 1004))
def test_clean_papers_raise_no_flag(seed):
    report = audit_targets(parse_targets(build_paper(seed, clean=True).data()))
    flagged = [(f.rule, f.targets) for f in report if f.severity != "info"]
    planted = build_paper(seed, clean=True).slips       # only undisclosed missing data
    assert all(kind == "missing_data" for kind, _ in planted)
    assert all(rule == "undisclosed_missing_data" for rule, _ in flagged), flagged


def test_the_measure_can_fail(monkeypatch):
    """Slips recorded on targets no finding names: every flag is a false positive and
    recall is zero, so the thresholds above are not met by construction."""
    from .audit_corpus import measure as m

    def misrecorded(seed, clean=False):
        paper = build_paper(seed, clean=clean)
        paper.slips = [(kind, "no_such_target") for kind, _ in paper.slips]
        return paper
    monkeypatch.setattr(m, "build_paper", misrecorded)
    scores, false_positives = m.measure(range(2))
    assert false_positives and all(s.true_positives == 0 for s in scores.values())
    assert all(s.recall == 0 for s in scores.values() if s.planted)
    assert set(SLIP_RULES) >= {k for k, _ in build_paper(0).slips}
