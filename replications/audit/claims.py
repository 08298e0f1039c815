"""Claims in a paper's words (``[[claims]]``) checked against its own tables.

Each claim is a quote with a structured reading (:mod:`replications.targets.claims`); a
finding names the claim (``claim <id>``), quotes it, and lists the numbers that contradict
it. No claim is read from free text: the study's curator transcribes the quote and its
reading, and the audit only does the arithmetic.
"""
from __future__ import annotations

from tacebench.replications.targets.claims import UNITS_IN_DAYS

from .comparisons import proportions_by_term, recomputed_smd
from .findings import Finding
from .intervals import reported_p_interval
from .registry import AuditContext, rule
from .rounding import fmt, printed

__all__ = ["claims_match_tables", "claim_ref"]


def claim_ref(claim) -> str:
    """How a finding names a claim among its targets."""
    return f"claim {claim.id}"


def _balance(ctx: AuditContext, c):
    """SMDs at or above the claimed threshold: printed, or recomputed from proportions."""
    bad = []
    for t in ctx:
        if (t.quantity == "smd" and t.analysis == c.analysis and t.value is not None
                and (not c.terms or t.term in c.terms)):
            s = printed(t, "value")
            if s.lo >= c.threshold:
                bad.append((t.id, f"{t.term} SMD {s.text} printed"))
    printed_terms = {t.term for t in ctx if t.quantity == "smd" and t.analysis == c.analysis}
    for (term, analysis), arms in proportions_by_term(ctx).items():
        if analysis != c.analysis or (c.terms and term not in c.terms):
            continue
        rng = recomputed_smd(arms)
        if rng is not None and rng[0] >= c.threshold and term not in printed_terms:
            ids = [x.id for a in arms.values() for x in a.values()]
            bad.append((ids[0], f"{term} SMD {fmt(rng[0], 2)}-{fmt(rng[1], 2)} recomputed "
                                f"from the printed proportions"))
    return bad, f"SMDs below {fmt(c.threshold)} in {c.analysis}"


def _significance(ctx: AuditContext, c):
    """p-values of the claimed terms on the other side of ``alpha``."""
    bad = []
    for t in ctx:
        if t.analysis != c.analysis or t.term not in c.terms or t.endpoint is None:
            continue                  # an effect on an outcome, not a baseline difference
        rep = reported_p_interval(t)
        if rep is None:
            continue
        if (not c.significant and rep[1] < c.alpha) or (c.significant and rep[0] >= c.alpha):
            bad.append((t.id, f"{t.term} p {rep[2]} ({t.where})"))
    word = "significant" if c.significant else "not significant"
    return bad, f"{', '.join(c.terms)} {word} at {fmt(c.alpha)} in {c.analysis}"


def _not_determined(ctx: AuditContext, c):
    """Reported numbers of endpoints the paper says it did not determine: a value, or a
    count printed alone (\"86 subjects had hand and foot skin reaction\")."""
    bad = [(t.id, f"{t.endpoint} {_shown(t)} ({t.where})") for t in ctx
           if t.endpoint in c.endpoints and (t.value is not None or t.count is not None)
           and (c.analysis is None or t.analysis == c.analysis)]
    return bad, f"{', '.join(c.endpoints)} not determined"


def _shown(t) -> str:
    """A target's number as printed: its value, else its count."""
    p = printed(t, "value") if t.value is not None else printed(t, "count")
    return p.text if p is not None else f"{t.value if t.value is not None else t.count:g}"


def _conversion(ctx: AuditContext, c):
    """A converted duration that the unit lengths do not give within its rounding."""
    exact = c.value * UNITS_IN_DAYS[c.unit] / UNITS_IN_DAYS[c.converted_unit]
    # half a unit in the converted number's last digit, read from the quote as printed
    text = f"{c.converted:g}"
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    for token in c.quote.replace("(", " ").replace(")", " ").split():
        if token.replace(".", "", 1).isdigit() and float(token) == c.converted:
            decimals = len(token.split(".", 1)[1]) if "." in token else 0
    half = 0.5 * 10.0 ** -decimals
    # the source number is rounded too: allow its own half unit, converted
    slack = half + 0.5 * UNITS_IN_DAYS[c.unit] / UNITS_IN_DAYS[c.converted_unit]
    if abs(exact - c.converted) <= slack:
        return [], ""
    return ([("", f"{fmt(c.value)} {c.unit} is {exact:.{max(decimals, 1)}f} "
                  f"{c.converted_unit}, printed {fmt(c.converted)}")],
            f"{fmt(c.value)} {c.unit} = {fmt(c.converted)} {c.converted_unit}")


def _follow_up(ctx: AuditContext, c):
    """A follow-up longer than the months between the window's first and last month."""
    months = c.window_months
    if c.follow_up_max <= months:
        return [], ""
    return ([("", f"a follow-up of {fmt(c.follow_up_max)} months does not fit in "
                  f"{c.window[0]} to {c.window[1]} ({months} months)")],
            f"follow-up within {c.window[0]} to {c.window[1]}")


_CHECKS = {"balance": _balance, "significance": _significance,
           "not_determined": _not_determined, "conversion": _conversion,
           "follow_up": _follow_up}


@rule("claims_match_tables", "claims")
def claims_match_tables(ctx: AuditContext):
    """A claim in the paper's words must agree with the paper's own numbers.

    ``balance``: every printed SMD of the analysis below the threshold (its rounding
    interval not wholly at or above it), and every SMD recomputed from printed
    proportions (:func:`~.comparisons.recomputed_smd`, under rounding) where none is
    printed; ``significance``: every p of the named terms on the claimed side of
    ``alpha`` (a p whose rounding interval lies wholly on the other side contradicts it);
    ``not_determined``: no reported number of the endpoints; ``conversion``: the
    converted duration within half a unit of the source and the converted number's last
    digits (a month is 365.25 / 12 days); ``follow_up``: the longest follow-up within the
    months of the study window. Each contradiction is an error: no rounding reconciles
    it, and the claim is quoted in the finding.
    """
    for c in getattr(ctx.targets, "claims", ()):
        if c.kind not in _CHECKS:
            continue                  # directions: direction_matches_evidence
        bad, reading = _CHECKS[c.kind](ctx, c)
        ids = tuple(dict.fromkeys(i for i, _ in bad if i))
        ctx.checked(claim_ref(c), *ids)       # one check: the claim, with what it contradicts
        if not bad:
            continue
        ctx.failed(claim_ref(c), *ids)
        yield Finding("claims_match_tables", "error", (claim_ref(c),) + ids,
                      f"{c.where} claims \"{c.quote}\" ({reading}), but "
                      + "; ".join(text for _, text in bad), float(len(bad)), "numbers",
                      c.quote, reading)
