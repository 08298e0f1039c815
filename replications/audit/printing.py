"""How numbers are printed: garbled numerals and intervals labelled with the wrong name."""
from __future__ import annotations

import re

from .findings import Finding
from .intervals import _parts
from .registry import AuditContext, rule
from .rounding import overlap

__all__ = ["malformed_numbers", "range_is_symmetric_ci", "MALFORMED"]

#: A numeral with two decimal points ("12.3.0"), or a decimal point with no digit after
#: it inside a number ("12.,3"): no rounding or unit reading makes it a number. Version
#: strings ("R version 4.5.1", "v4.1.3") are not numbers of the paper and are skipped.
MALFORMED = re.compile(r"(?<![\w.])(?<!version )(?<!v)(\d+\.\d+\.\d+)(?![\w.]*\.\d)")


@rule("malformed_numbers", "printing")
def malformed_numbers(ctx: AuditContext):
    """A target's quote prints a garbled numeral (``12.3.0``): an error, one per quote.

    The transcribed value is what the curator read it as; the finding says that the
    printed text itself is not a number (two decimal points), whatever was meant.
    """
    seen = set()
    for t in ctx:
        if t.source in seen:
            continue
        seen.add(t.source)
        bad = [m.group(1) for m in MALFORMED.finditer(t.source)]
        ids = tuple(o.id for o in ctx if o.source == t.source)
        ctx.checked(*ids)
        if bad:
            ctx.failed(*ids)
            yield Finding("malformed_numbers", "error", ids,
                          f"{t.where}: {', '.join(repr(b) for b in bad)} printed in "
                          f"\"{t.source[:120]}\" is not a number (two decimal points)",
                          None, None, bad[0], "a number")


def _symmetric(t) -> bool:
    """Is the interval symmetric about the estimate within the three numbers' rounding?"""
    v, lo, hi = _parts(t)
    below = (v.lo - lo.hi, v.hi - lo.lo)
    above = (hi.lo - v.hi, hi.hi - v.lo)
    return overlap(below, above) and below[1] > 0


@rule("range_is_symmetric_ci", "printing")
def range_is_symmetric_ci(ctx: AuditContext):
    """An interval labelled "range" that is symmetric about its median is likely a CI.

    The range of observed times (minimum to maximum) has no reason to be centred on the
    median; a Wald-type confidence interval (``median -+ 1.96 SE``, as SPSS prints for a
    Kaplan-Meier median) is centred exactly. A "range" symmetric within the rounding of
    the three numbers is a warning; two or more in the same paper (a labelling habit, not
    a coincidence) are errors.
    """
    hits = [t for t in ctx if t.interval == "range" and t.quantity == "km_median"
            and _parts(t) is not None and _symmetric(t)]
    distinct = {(t.endpoint, t.arm, t.value, t.ci) for t in hits}
    for t in ctx:
        if t.interval == "range" and t.quantity == "km_median" and _parts(t) is not None:
            ctx.checked(t.id)
    for t in hits:
        v, lo, hi = _parts(t)
        ctx.failed(t.id)
        yield Finding("range_is_symmetric_ci", "error" if len(distinct) >= 2 else "warning",
                      (t.id,),
                      f"{t.id}: {v.text} (range {lo.text}-{hi.text}) is symmetric about the "
                      f"median ({v.value - lo.value:.3g} below, {hi.value - v.value:.3g} "
                      "above): a confidence interval labelled \"range\"?"
                      + (f" ({len(distinct)} such intervals in the paper)"
                         if len(distinct) >= 2 else ""),
                      abs((v.value - lo.value) - (hi.value - v.value)), "value units",
                      "range", "confidence interval")
