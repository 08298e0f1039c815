"""The ``--strict`` gate of ``tacebench replicate``: what fails a CI run, and why.

A study passes when each target or shift marked ``required`` is reproduced. It fails (exit
status 1) on

- a required target or shift that is simulated and not reproduced (``not reproduced``;
  ``undetermined``, still within Monte Carlo error of its interval's bound at the largest
  R allowed, so not shown to be reproduced; or ``not estimable`` because too few
  simulated cohorts allow the paper's analysis), unless the study declares it in
  ``[[expected_failures]]``;
- a declared expected failure that reproduces now (a stale declaration), whose target the
  study cannot simulate (the declaration cannot be checked), or whose audit ``finding``
  the audit no longer reports on that target (its justification is gone);
- a ``mislabel`` whose audit ``finding`` the audit no longer reports on its target;
- a spec error: the study folder does not load.

Spec gaps, targets the study cannot simulate (an endpoint the cohort does not generate, a
term no model binds: the warnings of ``tacebench check``), never count as the paper
failing: they are listed, and they do not fail the gate. Declared expected failures that
still fail are listed in their own section of the report.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from .analysis.problems import SPEC_GAP, Problems
from .audit import RULES
from .response_shifts import UNINFORMATIVE
from .summaries import ReproductionResult, ShiftResult
from .targets import ExpectedFailure
from .verdicts import NOT_SIMULATED, UNDETERMINED

__all__ = ["Declared", "StrictOutcome", "strict_outcome", "strict_status", "strict_lines",
           "finding_problems", "plain_reason", "expected_lines"]


@dataclass(frozen=True)
class Declared:
    """One declared expected failure and what the run made of it: ``holds`` while the
    target fails as declared, ``status`` in plain words."""

    declaration: ExpectedFailure
    holds: bool
    status: str

    @property
    def target(self) -> str:
        return self.declaration.target

    def to_dict(self) -> dict:
        return {**asdict(self.declaration), "holds": self.holds, "status": self.status}


@dataclass(frozen=True)
class StrictOutcome:
    """The gate's verdict on one study: ``failures`` fail it, ``gaps`` are listed only."""

    study: str
    failures: tuple[str, ...] = ()
    declared: tuple[Declared, ...] = ()
    gaps: tuple[str, ...] = ()
    #: False when nothing was simulated (``--audit-only``): no target was judged
    simulated: bool = True

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {"passed": self.passed, "failures": list(self.failures),
                "expected_failures": [d.to_dict() for d in self.declared],
                "spec_gaps": list(self.gaps), "simulated": self.simulated}


def plain_reason(reason: str) -> str:
    """A check warning as a row's reason: without the target id prefix (the row names the
    target) and the verdict suffix (the row shows the verdict)."""
    text = re.sub(r"^target '[^']+'(: | needs )", "", reason or "")
    return text.replace(f"; {SPEC_GAP}", "")


def _verdict_text(x) -> str:
    """``"NOT reproduced (z -2.27)"`` / ``"undetermined (...)"`` / ``"not estimable
    (estimable 0/200: ...)"``: the verdict's own word (an undetermined target was called
    'not estimable' here)."""
    if x.verdict == "not reproduced":
        return f"NOT reproduced (z {x.z:+.2f})"
    if x.verdict == "reproduced":
        return f"reproduced (z {x.z:+.2f})"
    word = x.verdict if x.verdict in (UNDETERMINED, NOT_SIMULATED) else "not estimable"
    return f"{word} ({x.reason})" if x.reason else word


def _flagged(findings: Iterable) -> set[tuple[str, str]]:
    """(rule, target id) for every audit finding."""
    return {(f.rule, tid) for f in findings for tid in f.targets}


def _declared(d, row, flagged) -> Declared:
    status, holds = None, False
    if row is None:
        status = "names no simulated target or shift: cannot be checked"
    elif row.spec_gap:
        status = (f"the study cannot simulate it (spec gap: {plain_reason(row.reason)}): "
                  "cannot be checked")
    elif row.verdict == "reproduced":
        status = (f"stale declaration: it now reproduces, {_verdict_text(row)}; remove it "
                  "from [[expected_failures]]")
    elif d.finding and (d.finding, d.target) not in flagged:
        status = (f"stale declaration: the audit no longer reports {d.finding} on it "
                  f"({_verdict_text(row)})")
    else:
        status, holds = f"fails as declared: {_verdict_text(row)}", True
    return Declared(d, holds, status)


def strict_outcome(study: str, result: ReproductionResult | None, findings: Sequence = (),
                   error: str | None = None) -> StrictOutcome:
    """Apply the gate to one study's run.

    Parameters
    ----------
    study : str
        The study id (for the messages).
    result : ReproductionResult or None
        The verdicts; None when nothing was simulated (``--audit-only``, or an error).
    findings : sequence of Finding
        The audit's findings on the study's published numbers.
    error : str, optional
        Why the study folder did not load (a spec error).

    Returns
    -------
    StrictOutcome
    """
    if error:
        return StrictOutcome(study, (f"{study}: spec error, the study folder does not load: "
                                     f"{error}",))
    if result is None:
        return StrictOutcome(study, simulated=False)
    flagged = _flagged(findings)
    rows = {x.id: x for x in (*result.targets, *result.shifts)}
    declared = tuple(_declared(d, rows.get(d.target), flagged)
                     for d in result.expected_failures)
    excused = {d.target for d in declared}
    failures = [f"{study}: expected failure {d.target}: {d.status}"
                for d in declared if not d.holds]
    failures += [f"{study}: required {'shift' if isinstance(x, ShiftResult) else 'target'} "
                 f"{x.id} "
                 f"{_verdict_text(x)}, not declared in [[expected_failures]]"
                 for x in rows.values() if x.required and x.verdict not in ("reproduced", UNINFORMATIVE)
                 and not x.spec_gap and x.id not in excused]
    failures += [f"{study}: mislabel of {tid} ({m.describe()}): stale, the audit no longer "
                 f"reports {m.finding} on it" for tid, m in result.mislabels.items()
                 if (m.finding, tid) not in flagged]
    gaps = [f"{study}: required {x.id}: not simulated ({plain_reason(x.reason)})"
            for x in rows.values() if x.required and x.spec_gap]
    return StrictOutcome(study, tuple(failures), declared, tuple(gaps))


def expected_lines(outcome: StrictOutcome, markdown: bool = False) -> list[str]:
    """The report's section of declared expected failures, each with what the run made of
    it (empty without declarations).

    Parameters
    ----------
    outcome : StrictOutcome
        One study's gate.
    markdown : bool
        Markdown list items instead of indented lines.

    Returns
    -------
    list of str
    """
    if not outcome.declared:
        return []
    out = ["", "Expected failures (declared in targets.toml with their justification):"]
    for d in outcome.declared:
        e = d.declaration
        basis = "; ".join(x for x in (f"audit: {e.finding}" if e.finding else "",
                                      f"analysis: {e.evidence}" if e.evidence else "") if x)
        out.append(f"{'-' if markdown else '  -'} {d.target}: {d.status}. Why: {e.reason} "
                   f"({basis})")
    return out


def strict_status(outcomes: Sequence[StrictOutcome]) -> int:
    """Exit status of ``--strict``: 1 if any study fails the gate, else 0."""
    return 0 if all(o.passed for o in outcomes) else 1


def strict_lines(outcomes: Sequence[StrictOutcome]) -> list[str]:
    """What ``--strict`` prints: the exit status first, then every reason, plainly."""
    status = strict_status(outcomes)
    n_fail = sum(len(o.failures) for o in outcomes)
    held = [d for o in outcomes for d in o.declared if d.holds]
    gaps = [g for o in outcomes for g in o.gaps]
    unjudged = sum(not o.simulated for o in outcomes)
    # (with --audit-only it said "every required target reproduced" of targets never run)
    passed = ("every required target reproduced" if not unjudged else
              "every study folder loads; no target judged (nothing simulated)"
              if unjudged == len(outcomes) else
              f"every required target reproduced in the {len(outcomes) - unjudged} "
              f"simulated study(ies); {unjudged} not simulated")
    head = (f"strict: exit {status}: " + (f"{n_fail} failure(s)" if status else passed)
            + f"; {len(held)} declared expected failure(s) still failing; "
            f"{len(gaps)} required target(s) not simulated (spec gaps, not failing)")
    lines = [head]
    lines += [f"  FAIL {f}" for o in outcomes for f in o.failures]
    lines += [f"  expected failure {o.study}: {d.target}: {d.declaration.reason}"
              for o in outcomes for d in o.declared if d.holds]
    lines += [f"  spec gap {g}" for g in gaps]
    return lines


def finding_problems(targets, file: str) -> list:
    """Declarations naming an audit rule that does not exist (``tacebench check`` errors).

    Parameters
    ----------
    targets : StudyTargets or None
        The parsed ``targets.toml``.
    file : str
        Its path, for the messages.

    Returns
    -------
    list of Problem
        One per ``mislabel.finding`` or ``expected_failures[i].finding`` that names no
        rule of the audit.
    """
    probs = Problems(file)
    if targets is None:
        return []
    known = f"must name an audit rule; known: {sorted(RULES)}"
    for i, t in enumerate(targets.targets):
        if t.mislabel is not None and t.mislabel.finding not in RULES:
            probs.add(f"targets[{i}].mislabel.finding", t.mislabel.finding, known,
                      "unknown-finding")
    for i, e in enumerate(targets.expected_failures):
        if e.finding is not None and e.finding not in RULES:
            probs.add(f"expected_failures[{i}].finding", e.finding, known, "unknown-finding")
    return list(probs)
