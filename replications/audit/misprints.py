"""Declared misprints (a target's ``misprint``) as findings about the paper.

The rules read a target's numbers as meant; the print is read only here. The audit's
other rules run once more on the numbers as printed: the findings the print draws and
the numbers meant do not are what the misprint explains. They are reported as one
``misprint`` finding per misprint, with the print, the correction and why, in place of
the generic finding (``ci_contains_estimate`` on ``117-2.41``) the print would draw.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from tacebench.replications.targets import as_printed, describe_misprint, misprint_pairs

from .conventions import infer_conventions
from .findings import SEVERITIES, Finding
from .registry import RULES, AuditContext, CheckLog, rule

__all__ = ["MisprintOutcome", "misprint_outcomes", "misprint", "misprint_errors"]

_RULE = "misprint"


@dataclass(frozen=True)
class MisprintOutcome:
    """What a declared misprint explains, and what its correction leaves.

    ``fails``: the findings the print draws and the numbers meant do not; ``still``:
    findings of the numbers meant by a rule the print fails, which the correction does
    not clear.
    """

    target: str
    fails: tuple[Finding, ...]
    still: tuple[Finding, ...]


def _key(f: Finding) -> tuple:
    return f.rule, f.severity, f.targets, f.message


def _run(ctx: AuditContext, names, ids: set[str]) -> list[Finding]:
    """The findings of rules ``names`` on ``ctx`` that name one of ``ids``."""
    out = []
    for name in names:
        ctx.log.rule = name
        out += [f for f in RULES[name].func(ctx) if ids.intersection(f.targets)]
    return out


def misprint_outcomes(ctx: AuditContext) -> list[MisprintOutcome]:
    """Per target with a misprint: the findings its print draws that its numbers meant
    do not, and the findings of its numbers meant by the same rules.

    The other rules run on a copy of the study with every misprint as printed (its own
    conventions inferred; the coverage of ``ctx`` untouched); the rules the print fails
    run again on the numbers meant. A finding identical in both (a p-value two copies
    print differently, beside a misprinted bound) is not the misprint's.
    """
    marked = [t.id for t in ctx if t.misprint is not None]
    if not marked:
        return []
    ids = set(marked)
    study = replace(ctx.targets, targets=tuple(as_printed(t) for t in ctx.targets))
    printed_ctx = replace(ctx, targets=study, conventions=None, log=CheckLog())
    printed_ctx = replace(printed_ctx, conventions=infer_conventions(printed_ctx))
    before = _run(printed_ctx, [n for n in RULES if n != _RULE], ids)
    after = _run(replace(ctx, log=CheckLog()), dict.fromkeys(f.rule for f in before), ids)
    kept = {_key(f) for f in after}
    out = []
    for tid in marked:
        fails = tuple(f for f in before if tid in f.targets and _key(f) not in kept)
        rules = {f.rule for f in fails}
        known = {_key(f) for f in before}
        still = tuple(f for f in after if tid in f.targets and f.rule in rules
                      and _key(f) not in known)
        out.append(MisprintOutcome(tid, fails, still))
    return out


@rule(_RULE, "printing")
def misprint(ctx: AuditContext):
    """A number the study declares misprinted, with the print, the number meant and why.

    Reported in place of the findings the print draws and the number meant does not (the
    other rules read the numbers meant), at the severity of the most severe of them: an
    error where no reading of the print is right. Info where the audit finds nothing
    wrong with the print, which ``tacebench check`` rejects, as it rejects a correction
    still failing a rule the print fails (:func:`misprint_errors`).
    """
    for o in misprint_outcomes(ctx):
        t = ctx.get(o.target)
        ctx.checked(t.id)
        severity = min((f.severity for f in o.fails), key=SEVERITIES.index, default="info")
        if severity != "info":
            ctx.failed(t.id)
        rules = ", ".join(dict.fromkeys(f.rule for f in o.fails)) or "no rule of the audit"
        pairs = misprint_pairs(t)
        yield Finding(_RULE, severity, (t.id,),
                      f"{t.id}: {describe_misprint(t)}: {t.misprint.why}; as printed it "
                      f"fails {rules}", reported="; ".join(f"{k} {w}" for k, w, _ in pairs),
                      expected="; ".join(f"{k} {n}" for k, _, n in pairs))


def misprint_errors(ctx: AuditContext) -> list[tuple[str, str]]:
    """``(target id, message)`` for each misprint declaration that corrects nothing: the
    audit finds nothing wrong with the print, or the numbers meant still fail a rule the
    print fails."""
    out = []
    for o in misprint_outcomes(ctx):
        if not o.fails:
            out.append((o.target, "the audit finds nothing wrong with the print: a "
                        "misprint is one the paper's own numbers show"))
        out += [(o.target, f"the numbers meant still fail {f.rule}, as the print does: "
                 f"{f.message}") for f in o.still]
    return out
