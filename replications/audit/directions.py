"""Directions of effect stated in words, checked against what the paper's numbers say.

A ``direction`` claim (:mod:`replications.targets.claims`) records a sentence's reading:
a higher value of a variable is ``better`` or ``worse`` for the patient ("more preserved
liver function (higher ALBI scores)": higher ALBI is better). Two sources can contradict
it: the variable's declared clinical direction (a higher ALBI grade, Child-Pugh class, BCLC
stage, ECOG status or AFP means a sicker patient, by the scales' definitions), and the
ratios the claim lists - the paper's own hazard or odds ratios of the higher vs the lower
level, whose side of 1 says which level fared worse.
"""
from __future__ import annotations

from tacebench.replications.targets.claims import CLINICAL_DIRECTIONS

from .claims import claim_ref
from .findings import Finding
from .registry import AuditContext, rule
from .rounding import printed

__all__ = ["ratio_direction", "direction_matches_evidence", "RESPONSE_ENDPOINTS"]

#: Endpoints whose event is good for the patient (an odds ratio above 1 favours the
#: first level); any other odds ratio's event (adverse events) is harmful.
RESPONSE_ENDPOINTS = ("orr", "dcr", "response", "cr", "pr")


def ratio_direction(t) -> tuple[str | None, str]:
    """What a ratio of the higher vs the lower level says of the higher level.

    Parameters
    ----------
    t : Target
        A ``hr`` (events - death, progression - are harmful: HR > 1 is worse) or an
        ``odds_ratio`` (of a response endpoint: OR > 1 is better; of any other, worse).

    Returns
    -------
    (str or None, str)
        ``"better"``, ``"worse"``, or None when the ratio's rounding interval reaches 1 or
        its quantity carries no direction; and the reason in words.
    """
    if t.quantity not in ("hr", "odds_ratio") or t.value is None:
        return None, f"a {t.quantity} has no direction of effect"
    v = printed(t, "value")
    if v.lo <= 1.0 <= v.hi:
        return None, f"{t.id} {v.text} is 1 within its rounding"
    good_event = t.quantity == "odds_ratio" and (t.endpoint or "").startswith(RESPONSE_ENDPOINTS)
    above = v.lo > 1.0
    side = "better" if above == good_event else "worse"
    label = "HR" if t.quantity == "hr" else "OR"
    return side, f"{label} {v.text} of {t.endpoint or 'the outcome'}"


@rule("direction_matches_evidence", "claims")
def direction_matches_evidence(ctx: AuditContext):
    """A direction of effect in words must agree with the variable's clinical direction
    and with the paper's own ratios.

    Applies to ``direction`` claims. Contradicted when the claim's ``higher`` (better or
    worse) is the opposite of the declared direction of its ``variable``
    (:data:`~replications.targets.claims.CLINICAL_DIRECTIONS`), or of a listed estimate
    whose rounding interval lies wholly on one side of 1 (:func:`ratio_direction`). An
    error: no rounding reconciles "better" with "worse"; an estimate at 1 within its
    rounding is recorded as not checkable.
    """
    for c in getattr(ctx.targets, "claims", ()):
        if c.kind != "direction":
            continue
        bad = []
        declared = CLINICAL_DIRECTIONS.get(c.variable)
        if declared is not None:
            ctx.checked(claim_ref(c))
            if declared != c.higher:
                bad.append(("", f"a higher {c.variable} is clinically {declared}"))
        for tid in c.estimates:
            t = ctx.get(tid)
            side, why = ratio_direction(t)
            if side is None:
                ctx.skipped(tid, why)
                continue
            ctx.checked(claim_ref(c), tid)
            if side != c.higher:
                bad.append((tid, f"the paper's {why} says higher is {side} ({t.where})"))
        if bad:
            ids = tuple(dict.fromkeys(i for i, _ in bad if i))
            reading = f"a higher {c.variable} is {c.higher}"
            for i, _ in bad:
                ctx.failed(claim_ref(c), i)
            yield Finding("direction_matches_evidence", "error", (claim_ref(c),) + ids,
                          f"{c.where} claims \"{c.quote}\" ({reading}), but "
                          + "; ".join(text for _, text in bad), float(len(bad)), "numbers",
                          c.quote, reading)
