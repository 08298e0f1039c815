"""Rules on counts, percentages and group sizes (GRIM-style arithmetic, no statistics)."""
from __future__ import annotations

from collections import defaultdict

from .findings import Finding
from .registry import AuditContext, rule
from .conventions import column_key
from .readings import DOUBLE, TRUNCATE, exact_rate, implied_counts, percent_readings
from .rounding import fmt, gap, overlap, printed, truncation_interval

__all__ = ["percent_matches_count", "counts_sum_to_group_size", "arms_sum_to_total",
           "pooled_count_equals_arm_sum", "implied_counts", "denominators_not_resolved"]

_RATES = ("rate", "proportion")


def _pp(x: float) -> str:
    return f"{100 * x:.2f}%"


@rule("percent_matches_count", "proportions")
def percent_matches_count(ctx: AuditContext):
    """A printed percentage must be some count / denominator rounded (GRIM, Brown & Heathers 2017).

    Tolerance: the printed percentage allows ``[x - h, x + h]`` with ``h`` half a unit in
    its last printed digit (decimals read from the quote). A count of people is exact; a
    weighted count and a weighted denominator are rounded numbers themselves, so the
    implied ratio is an interval ``[(c - hc) / (n + hn), (c + hc) / (n - hn)]``. Without a
    count, some whole count ``k`` in ``0..n`` must give ``k / n`` inside the interval
    (unweighted targets only: a weighted count can be any real). The denominator is the
    target's own, else the group size of its analysis and arm: a ``group_size`` target of
    that analysis and arm (``weighted_group_size`` for a weighted target, whose count is a
    share of the arm's sum of weights), else ``cohort.toml``'s arm size only when the
    analysis is whole arms of the cohort, unadjusted (:meth:`AuditContext.group_size`). A
    sub-population (imaging cohort, landmark, subgroup) or a matched or weighted sample
    without its own group size is skipped, never measured against the whole cohort
    (``denominators_not_resolved`` lists what was skipped). A mismatch that truncation
    (``[x, x + 2h)``) would explain is a warning, otherwise an error. A count above its
    denominator is an error, a percentage printed with it or not.
    """
    for t in ctx:
        if t.quantity not in _RATES:
            continue
        if t.value is None:
            if t.count is not None:
                yield from _count_within_denominator(ctx, t)
            continue
        den = ctx.denominator(t)
        if den is None or den.size.lo <= 0:
            ctx.skipped(t.id, "no group size for its analysis and arm")
            continue
        v, c, n = printed(t, "value"), printed(t, "count"), den.size
        if c is None and not (not t.weighted and n.lo == n.hi and n.value == int(n.value)):
            ctx.skipped(t.id, "a weighted share without its weighted count")
            continue
        # the group-size targets it divides by are compared too
        ids = (t.id, *den.ids)
        ctx.checked(*ids)
        if c is not None:
            if c.lo > n.hi:
                ctx.failed(*ids)
                yield _exceeds(t, c, den)
                continue
            implied = (c.lo / n.hi, c.hi / n.lo)
            shown = f"{c.text}/{n.text} = {_pp(c.value / n.value)}"
        elif not t.weighted and n.lo == n.hi and n.value == int(n.value):
            ks = implied_counts(v, int(n.value))
            if len(ks) > 0:
                continue
            k = min(range(int(n.value) + 1), key=lambda j: abs(j / n.value - v.value))
            implied = (k / n.value, k / n.value)
            shown = f"no whole count of {n.text} gives {v.text}; nearest {k}/{n.text} = " \
                    f"{_pp(k / n.value)}"
        else:
            continue
        if overlap(implied, (v.lo, v.hi)):
            continue
        conv = ctx.conventions
        if conv is not None and conv.explained_by_missing(t.id):
            continue                          # reported once, by undisclosed_missing_data
        reading = _reading(ctx, t, c, n)
        if reading is None:
            continue                          # the paper's convention for this column
        ctx.failed(*ids)
        yield Finding("percent_matches_count", "error" if reading == "" else "warning",
                      ids,
                      f"{t.id}: {v.text} printed, but {shown} (denominator from "
                      f"{den.origin}){reading}",
                      100 * gap(implied, (v.lo, v.hi)), "percentage points", v.text,
                      _pp(sum(implied) / 2))


def _exceeds(t, c, den) -> Finding:
    n = den.size
    return Finding("percent_matches_count", "error", (t.id, *den.ids),
                   f"{t.id}: count {c.text} exceeds its denominator {n.text} ({den.origin})",
                   c.lo - n.hi, "counts", c.text, f"<= {n.text}")


def _count_within_denominator(ctx: AuditContext, t):
    """A count printed without a percentage against its denominator, when known (a count
    with no group size to compare is not listed as skipped: there is no percentage)."""
    den = ctx.denominator(t)
    if den is None or den.size.lo <= 0:
        return
    c = printed(t, "count")
    ctx.checked(t.id, *den.ids)
    if c.lo > den.size.hi:
        ctx.failed(t.id, *den.ids)
        yield _exceeds(t, c, den)


def _reading(ctx: AuditContext, t, c, n) -> str | None:
    """How a percentage that rounding does not give can still have been printed.

    None: the column's (or row's) inferred convention gives it, so there is nothing to
    report; a note (a warning): a reading that gives it but that the table does not use
    elsewhere (truncation, double rounding, a row forced to 100 once); "" (an error): no
    reading gives it. Needs an exact count and denominator.
    """
    conv = ctx.conventions
    r = exact_rate(ctx, t)
    if r is None or c is None:
        if c is None:
            return ""
        tr = truncation_interval(printed(t, "value"))
        implied = (c.lo / n.hi, c.hi / n.lo)
        return (" (consistent only if the paper truncated instead of rounding)"
                if implied[1] >= tr[0] and implied[0] < tr[1] else "")
    if conv is not None and t.id in conv.forced:
        return None                           # reported by conventions_inferred
    got = percent_readings(r.count, r.n, r.value, r.decimals, r.scale)
    if TRUNCATE in got:
        if conv is not None and conv.columns.get(column_key(t)) == TRUNCATE:
            return None
        return " (consistent only if the paper truncated instead of rounding)"
    if DOUBLE in got:
        return (f" (double rounding: {_pp(r.count / r.n)} rounded first to "
                f"{r.decimals + 1} decimal(s), then to {r.decimals})")
    return ""


def _partitions(ctx: AuditContext):
    groups = defaultdict(dict)
    for t in ctx:
        if t.partition and t.quantity in _RATES:
            key = (t.partition, t.analysis, t.arm, t.weighted)
            groups[key].setdefault(t.level, t)      # copies of a level count once
    return groups


@rule("counts_sum_to_group_size", "proportions")
def counts_sum_to_group_size(ctx: AuditContext):
    """The levels of a partition (``partition = ...``) must add up to the group size.

    Counts of people must add up exactly; weighted counts are rounded, so the sum of their
    intervals must meet the rounded weighted group size. Where counts are missing, the
    percentages must add up to 100% within the sum of their rounding half-units. Groups
    are (partition, analysis, arm); the group size is the levels' shared ``denominator``
    if they print one, else the analysis's group size for that arm, resolved as in
    ``percent_matches_count`` (no group size: skipped).
    """
    for (name, analysis, arm, weighted), levels in _partitions(ctx).items():
        ts = list(levels.values())
        if len(ts) < 2:
            continue
        ids = tuple(t.id for t in ts)
        where = f"{name} in {analysis}" + (f", arm {arm}" if arm else "")
        counts = [printed(t, "count") for t in ts]
        if all(c is not None for c in counts):
            dens = {t.denominator for t in ts}
            n = (ctx.denominator(ts[0]) if len(dens) == 1 and None not in dens
                 else ctx.group_size(analysis, arm, weighted))
            if n is None:
                continue
            ctx.checked(*ids, *n.ids)
            lo, hi = sum(c.lo for c in counts), sum(c.hi for c in counts)
            if overlap((lo, hi), (n.size.lo, n.size.hi)):
                continue
            total = " + ".join(c.text for c in counts)
            ctx.failed(*ids, *n.ids)
            yield Finding("counts_sum_to_group_size", "error", ids + (n.ids or (n.origin,)),
                          f"{where}: counts {total} = {fmt(sum(c.value for c in counts), 6)}, "
                          f"group size {n.size.text} ({n.origin})",
                          gap((lo, hi), (n.size.lo, n.size.hi)), "counts",
                          fmt(sum(c.value for c in counts), 6), n.size.text)
            continue
        values = [printed(t, "value") for t in ts]
        if any(v is None for v in values):
            continue
        ctx.checked(*ids)
        lo, hi = sum(v.lo for v in values), sum(v.hi for v in values)
        if not overlap((lo, hi), (1.0, 1.0)):
            total = fmt(100 * sum(v.value for v in values), 6)
            ctx.failed(*ids)
            yield Finding("counts_sum_to_group_size", "error", ids,
                          f"{where}: percentages add up to {total}%, not 100% within rounding",
                          100 * gap((lo, hi), (1.0, 1.0)), "percentage points", f"{total}%",
                          "100%")


@rule("arms_sum_to_total", "proportions")
def arms_sum_to_total(ctx: AuditContext):
    """The arms' group sizes of an analysis must add up to its total group size.

    Exact for head counts; weighted sizes are compared as rounded intervals. Every printed
    total (abstract, text, table) is checked against the sum of the arms. The arms are the
    analysis's (``analysis.toml`` and ``cohort.toml``; else those its targets name), each
    arm's size its ``group_size`` target in the same analysis, or ``cohort.toml``'s only
    for a whole-cohort, unadjusted analysis: the total of a sub-population (e.g. 255
    patients with a response assessment) is never compared with the cohort's arms.
    """
    for quantity, weighted in (("group_size", False), ("weighted_group_size", True)):
        totals = [t for t in ctx if t.quantity == quantity and t.arm is None]
        for tot in totals:
            arms = ctx.arms(tot.analysis)
            parts = [ctx.group_size(tot.analysis, a, weighted) for a in arms]
            if not arms or any(p is None for p in parts):
                continue
            lo, hi = sum(p.size.lo for p in parts), sum(p.size.hi for p in parts)
            n = printed(tot, "value", exact=not weighted)
            ids = (tot.id,) + tuple(i for p in parts for i in p.ids)
            ctx.checked(*ids)
            if overlap((lo, hi), (n.lo, n.hi)):
                continue
            total = " + ".join(p.size.text for p in parts)
            ctx.failed(*ids)
            yield Finding("arms_sum_to_total", "error",
                          ids + tuple(p.origin for p in parts if not p.ids),
                          f"{tot.analysis}: total {n.text} printed ({tot.where}), but the arms "
                          f"add up to {total} = {fmt((lo + hi) / 2, 6)}",
                          gap((lo, hi), (n.lo, n.hi)), "counts", n.text, fmt((lo + hi) / 2, 6))


@rule("pooled_count_equals_arm_sum", "proportions")
def pooled_count_equals_arm_sum(ctx: AuditContext):
    """A count given for the whole cohort must equal the sum of the same count per arm.

    Matches targets with the same quantity, endpoint, term, level and analysis; applies
    only when every arm of the analysis has the count. Exact for head counts, rounded
    intervals for weighted counts.
    """
    per_arm = defaultdict(dict)
    for t in ctx:
        if t.quantity in _RATES and t.count is not None and t.arm is not None:
            key = (t.quantity, t.endpoint, t.term, t.level, t.analysis, t.weighted)
            per_arm[key].setdefault(t.arm, t)
    for t in ctx:
        if t.quantity not in _RATES or t.count is None or t.arm is not None:
            continue
        arms = per_arm.get((t.quantity, t.endpoint, t.term, t.level, t.analysis, t.weighted))
        wanted = ctx.arms(t.analysis)
        if not arms or len(wanted) < 2 or set(arms) != set(wanted):
            continue
        parts = [printed(arms[a], "count") for a in wanted]
        lo, hi = sum(p.lo for p in parts), sum(p.hi for p in parts)
        c = printed(t, "count")
        ctx.checked(t.id, *(arms[a].id for a in wanted))
        if overlap((lo, hi), (c.lo, c.hi)):
            continue
        ctx.failed(t.id, *(arms[a].id for a in wanted))
        yield Finding("pooled_count_equals_arm_sum", "error",
                      (t.id,) + tuple(arms[a].id for a in wanted),
                      f"pooled count {c.text} printed, but the arms give "
                      f"{' + '.join(p.text for p in parts)} = {fmt((lo + hi) / 2, 6)}",
                      gap((lo, hi), (c.lo, c.hi)), "counts", c.text, fmt((lo + hi) / 2, 6))


def _unresolved(ctx: AuditContext, t) -> tuple[str, ...]:
    """The arms (None: the whole analysis) whose size ``t`` would need and cannot get."""
    if t.quantity in _RATES and t.denominator is None and (
            t.value is not None or (t.partition and t.count is not None)):
        if t.weighted and t.count is None:
            return ()                    # a weighted share alone says nothing about counts
        return () if ctx.denominator(t) is not None else (t.arm,)
    if t.quantity in ("group_size", "weighted_group_size") and t.arm is None:
        weighted = t.quantity == "weighted_group_size"
        return tuple(a for a in ctx.arms(t.analysis)
                     if ctx.group_size(t.analysis, a, weighted) is None)
    return ()


@rule("denominators_not_resolved", "proportions")
def denominators_not_resolved(ctx: AuditContext):
    """Which percentages and totals went unchecked for want of a group size (``info``).

    A denominator comes from the target's own ``denominator``, a ``group_size`` target of
    the same analysis and arm (``weighted_group_size`` for a weighted number), or
    ``cohort.toml``'s arm size when the analysis is whole arms of the cohort, unadjusted
    (:meth:`AuditContext.group_size`). A sub-population (imaging cohort, landmark,
    subgroup), a matched or weighted sample, or an analysis ``analysis.toml`` does not
    define has no other source: rather than guess from the whole cohort, the rules skip
    such numbers, and this finding (one per analysis) says which, and what to add
    (``denominator``, or the arm's ``group_size``) to have them checked.
    """
    missing = defaultdict(dict)
    for t in ctx:
        arms = _unresolved(ctx, t)
        if arms:
            missing[t.analysis][t.id] = arms
    for analysis, by_id in missing.items():
        ids = list(by_id)
        arms = list(dict.fromkeys(a for v in by_id.values() for a in v))
        arm_text = ", ".join("all arms" if a is None else repr(a) for a in arms)
        weighted = all(ctx.get(i).weighted or ctx.get(i).quantity == "weighted_group_size"
                       for i in ids)
        if weighted:
            why = "weighted numbers need the weighted group size (sum of weights) of their arm"
        elif analysis not in ctx.arm_sizes:
            why = "analysis.toml does not define this analysis, so no arm size is assumed"
        elif ctx.whole_cohort(analysis):
            why = f"cohort.toml has no such arm in this analysis (arms {list(ctx.arms(analysis))})"
        else:
            why = ("its population is not whole arms of the cohort, unadjusted (a "
                   "sub-population, or a matched, weighted or model-fitted sample), so "
                   "cohort.toml's arm sizes do not apply")
        shown = ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")
        yield Finding("denominators_not_resolved", "info", tuple(ids),
                      f"{analysis}: {len(ids)} number(s) not checked against a group size "
                      f"({shown}): no group size printed for {arm_text}; {why}. To check "
                      "them, add the arm's `group_size` target (or a rate's own `denominator`)")
