"""Counts of a subset cannot exceed those of the set containing it (no statistics)."""
from __future__ import annotations

import re
from collections import defaultdict

from tacebench.replications.targets import Target

from .agreement import _value
from .findings import Finding
from .registry import AuditContext, rule
from .rounding import gap, printed

__all__ = ["subset_within_set", "subset_pairs"]

_GRADE = re.compile(r"^(?P<base>.+?)_(?:grade_?3_?4|g3_?4|grade_?3_?plus|severe)$")
_RESPONSE = re.compile(r"^(?P<kind>orr|dcr)(?P<suffix>_.+)?$")


def subset_pairs(endpoint: str, level: str | None, endpoints: set[str]) -> list[str]:
    """Endpoints (``"name"`` or ``"name:level"``) that contain ``endpoint`` (and ``level``).

    - ``ae_any`` contains every other ``ae_*`` endpoint (any adverse event includes each
      one, and each grade of each);
    - ``ae_x`` contains ``ae_x_grade3_4`` (grade 3/4 events are events of any grade);
    - ``dcr[_s]`` contains ``orr[_s]`` (disease control = CR + PR + SD, response = CR + PR);
    - ``orr[_s]`` contains the ``CR`` and ``PR`` levels of ``response[_s]``, ``dcr[_s]``
      also ``SD``.
    """
    out = []
    if endpoint.startswith("ae_") and endpoint != "ae_any" and "ae_any" in endpoints:
        out.append("ae_any")
    m = _GRADE.match(endpoint)
    if m and m.group("base") in endpoints:
        out.append(m.group("base"))
    m = _RESPONSE.match(endpoint)
    if m and m.group("kind") == "orr":
        out.append("dcr" + (m.group("suffix") or ""))
    if endpoint.startswith("response") and level:
        suffix = endpoint[len("response"):]
        if level.upper() in ("CR", "PR"):
            out.append("orr" + suffix)
        if level.upper() in ("CR", "PR", "SD"):
            out.append("dcr" + suffix)
    return [e for e in out if e in endpoints]


def _bounds(ctx: AuditContext, t: Target, scale: str = "count"
            ) -> tuple[float, float, str, str] | None:
    """``(lo, hi, text, scale)`` of a rate as a count when printed (and ``scale`` is
    ``"count"``), else as a proportion: its printed percentage, or its count over its
    denominator (None when neither is known)."""
    if t.count is not None and scale == "count":
        c = printed(t, "count")
        return c.lo, c.hi, c.text, "count"
    v = _value(ctx, t)
    return None if v is None else (v.lo, v.hi, v.text, "proportion")


@rule("subset_within_set", "subsets")
def subset_within_set(ctx: AuditContext):
    """A subset's count (or rate) cannot exceed its set's: any AE >= each AE, any grade >=
    grade 3/4, DCR >= ORR >= CR (see :func:`subset_pairs`).

    Compared within one analysis and arm, wherever each is printed (the two share the
    arm's denominator): counts exactly (head counts), rates as rounding intervals, counts
    with counts when both are printed; a count with a percentage as proportions, the
    count over the arm's size (when the size is unknown, the pair is skipped). Error when
    the subset's interval lies wholly above the set's: no rounding gives it.
    """
    by_key = defaultdict(list)
    for t in ctx:
        if t.quantity in ("rate", "proportion") and t.endpoint and not t.weighted:
            by_key[(t.analysis, t.arm)].append(t)
    for (analysis, arm), ts in by_key.items():
        endpoints = {t.endpoint for t in ts}
        for sub in ts:
            for sup_ep in subset_pairs(sub.endpoint, sub.level, endpoints):
                for sup in (s for s in ts if s.endpoint == sup_ep and s.level is None):
                    a, b = _bounds(ctx, sub), _bounds(ctx, sup)
                    if a is not None and b is not None and a[3] != b[3]:
                        # a count and a percentage: both as proportions, the count over
                        # its denominator (skipped when the arm's size is unknown)
                        a, b = (_bounds(ctx, sub, "proportion"),
                                _bounds(ctx, sup, "proportion"))
                    if a is None or b is None:
                        continue
                    ctx.checked(sub.id, sup.id)
                    if a[0] <= b[1] + 1e-12:
                        continue
                    what = sub.endpoint + (f" {sub.level}" if sub.level else "")
                    ctx.failed(sub.id, sup.id)
                    yield Finding("subset_within_set", "error", (sub.id, sup.id),
                                  f"{what} ({a[2]}) exceeds {sup.endpoint} ({b[2]}), which "
                                  f"contains it ({analysis}, {arm or 'all arms'}; "
                                  f"{sub.where} and {sup.where})",
                                  gap(a[:2], b[:2]) * (100 if a[3] == "proportion" else 1),
                                  "percentage points" if a[3] == "proportion" else "counts",
                                  a[2], f"<= {b[2]}")
