"""Rules tying Kaplan-Meier medians to the landmark survival rates of the same curve, and
differences of medians to the medians."""
from __future__ import annotations

from collections import defaultdict

from .findings import Finding
from .registry import AuditContext, rule
from .rounding import gap, overlap, printed

__all__ = ["median_matches_rates", "rates_decrease_over_time",
           "median_difference_matches_medians"]


def _curves(ctx: AuditContext):
    """KM medians and rates grouped by curve: (endpoint, arm, analysis)."""
    curves = defaultdict(lambda: {"median": [], "rate": []})
    seen = set()
    for t in ctx:
        if t.value is None or t.endpoint is None:
            continue
        key = (t.endpoint, t.arm, t.analysis)
        if (key, t.quantity, t.time, t.value) in seen:    # a copy printed elsewhere
            continue
        seen.add((key, t.quantity, t.time, t.value))
        if t.quantity == "km_median":
            curves[key]["median"].append(t)
        elif t.quantity == "km_rate" and t.time is not None:
            curves[key]["rate"].append(t)
    return curves


def _label(key) -> str:
    endpoint, arm, analysis = key
    return f"{endpoint.upper()} {arm + ', ' if arm else ''}{analysis}"


@rule("median_matches_rates", "survival")
def median_matches_rates(ctx: AuditContext):
    """A KM median ``m`` and a landmark rate ``S(t)`` of the same curve must agree.

    The KM median is the first time the curve reaches 0.5 or below, so ``S(t) > 0.5``
    before it and ``S(t) <= 0.5`` from it on. With rounding, the median can be anywhere
    in ``[m - h, m + h]`` and the rate in ``[s - h', s + h']``; a finding only when ``t``
    is before every allowed median while no allowed rate exceeds 0.5, or after every
    allowed median while every allowed rate exceeds 0.5. Curves are matched by endpoint,
    arm and analysis.
    """
    for key, c in _curves(ctx).items():
        for m_t in c["median"]:
            m = printed(m_t, "value")
            for r_t in c["rate"]:
                ctx.checked(m_t.id, r_t.id)
                s, t = printed(r_t, "value"), r_t.time
                if t < m.lo and s.hi < 0.5:
                    msg, disc = (f"survival {s.text} at {t:g} months is below 50% before the "
                                 f"median of {m.text} months"), 0.5 - s.hi
                elif t > m.hi and s.lo > 0.5:
                    msg, disc = (f"survival {s.text} at {t:g} months is above 50% after the "
                                 f"median of {m.text} months"), s.lo - 0.5
                else:
                    continue
                ctx.failed(m_t.id, r_t.id)
                yield Finding("median_matches_rates", "error", (m_t.id, r_t.id),
                              f"{_label(key)}: {msg}", 100 * disc, "percentage points",
                              f"{s.text} at {t:g} months",
                              ">50%" if t < m.lo else "<=50%")


@rule("rates_decrease_over_time", "survival")
def rates_decrease_over_time(ctx: AuditContext):
    """Landmark survival rates of one curve cannot increase with time.

    A finding when a later rate's rounding interval lies wholly above an earlier one's.
    """
    for key, c in _curves(ctx).items():
        rates = sorted(c["rate"], key=lambda r: r.time)
        for i, early in enumerate(rates):
            for late in rates[i + 1:]:
                a, b = printed(early, "value"), printed(late, "value")
                ctx.checked(early.id, late.id)
                if late.time > early.time and b.lo > a.hi:
                    ctx.failed(early.id, late.id)
                    yield Finding("rates_decrease_over_time", "error", (early.id, late.id),
                                  f"{_label(key)}: survival rises from {a.text} at "
                                  f"{early.time:g} to {b.text} at {late.time:g} months",
                                  100 * (b.lo - a.hi), "percentage points", b.text,
                                  f"<= {a.text}")


@rule("median_difference_matches_medians", "survival")
def median_difference_matches_medians(ctx: AuditContext):
    """A difference of two KM medians ("extends the median by 7 months") must be the
    difference of the medians printed for the contrast's arms in the same analysis.

    Each printed number is an interval of half a unit in its last digit: the medians
    allow ``m_first - m_second`` anywhere in ``[lo_1 - hi_2, hi_1 - lo_2]``; a finding
    (error) when the difference's own interval lies outside it. The first median printed
    for each arm is used (copies of it are compared by ``same_as_agree``).
    """
    curves = _curves(ctx)
    for t in ctx:
        if t.quantity != "median_difference" or t.value is None or not t.contrast:
            continue
        arms = [curves.get((t.endpoint, arm, t.analysis), {}).get("median")
                for arm in t.contrast]
        if not all(arms):
            ctx.skipped(t.id, "no median printed for both arms in its analysis")
            continue
        first, second = arms[0][0], arms[1][0]
        d, a, b = printed(t, "value"), printed(first, "value"), printed(second, "value")
        ctx.checked(t.id, first.id, second.id)
        allowed = (a.lo - b.hi, a.hi - b.lo)
        if overlap((d.lo, d.hi), allowed):
            continue
        ctx.failed(t.id, first.id, second.id)
        yield Finding("median_difference_matches_medians", "error", (t.id, first.id, second.id),
                      f"{_label((t.endpoint, None, t.analysis))}: a median difference of "
                      f"{d.text} months, while the medians printed are {a.text} "
                      f"({t.contrast[0]}) and {b.text} ({t.contrast[1]}): "
                      f"{a.value - b.value:g}", gap((d.lo, d.hi), allowed), "months", d.text,
                      f"{a.text} - {b.text}")
