"""The same number printed in several places (abstract, text, tables, figures) must agree."""
from __future__ import annotations

from tacebench.replications.targets import Target

from .findings import Finding
from .registry import AuditContext, rule
from .rounding import Printed, fmt, gap, overlap, printed

__all__ = ["same_as_agree"]

_FIELDS = (("value", "value"), ("ci_lo", "CI lower bound"), ("ci_hi", "CI upper bound"),
           ("se", "SE"), ("count", "count"))


def _value(ctx: AuditContext, t: Target) -> Printed | None:
    """A rate's proportion, from count / denominator when only the count is printed."""
    v = printed(t, "value")
    if v is not None or t.count is None or t.quantity not in ("rate", "proportion"):
        return v
    den = ctx.denominator(t)
    if den is None or den.size.lo <= 0:
        return None
    c = printed(t, "count")
    return Printed(c.value / den.size.value, c.lo / den.size.hi, c.hi / den.size.lo,
                   f"{c.text}/{den.size.text}")


def _p(t: Target) -> tuple[float, float, str] | None:
    if t.p is not None:
        p = printed(t, "p")
        return p.lo, p.hi, p.text
    if t.p_bound is not None:
        op, x = t.p_bound
        return (0.0, x, t.p_text) if op.startswith("<") else (x, 1.0, t.p_text)
    return None


def _swap_hint(ctx: AuditContext, odd: Printed, other: Target) -> str:
    """Name the other arm's target, printed where ``other`` is, that ``odd`` matches."""
    for o in ctx:
        if (o.quantity == other.quantity and o.analysis == other.analysis
                and o.arm not in (None, other.arm) and o.where == other.where
                and o.endpoint == other.endpoint and o.term == other.term
                and o.level == other.level and o.value is not None):
            ov = printed(o, "value")
            if overlap((ov.lo, ov.hi), (odd.lo, odd.hi)):
                return (f"; {odd.text} is the value of {o.id} (arm {o.arm}, {o.where}): "
                        "arm labels swapped?")
    return ""


@rule("same_as_agree", "agreement")
def same_as_agree(ctx: AuditContext):
    """Copies linked by ``same_as`` must print compatible numbers and the same contrast.

    Each shared field (value, CI bounds, SE, count, p) is compared as rounding intervals:
    overlapping intervals agree; intervals that only touch (one unit apart in the last
    digit, e.g. 12.7 and 12.8) are a warning, since two roundings of one number cannot
    both be right but the gap is a half-unit; anything further apart is an error. A rate
    printed only as a count is compared through count / denominator. Two copies of a
    ratio printed for opposite contrasts (A vs B and B vs A) with the same value are an
    error: one of the two labels inverts the effect.
    """
    for group in ctx.targets.same_as_groups():
        ref = _reference(ctx, group)
        for other in group:
            if other is not ref:
                ctx.checked(ref.id, other.id)
                for f in _compare(ctx, ref, other):
                    ctx.failed(ref.id, other.id)
                    yield f


def _reference(ctx: AuditContext, group) -> Target:
    """The copy most others agree with (ties: a table, then the Results text), so that one
    deviating copy gives one finding rather than one per pair."""
    def agree(a, b):
        return not any(f.severity == "error" for f in _compare(ctx, a, b))
    rank = {"table": 0, "text": 1}
    return max(group, key=lambda a: (sum(agree(a, b) for b in group if b is not a),
                                     -rank.get(a.where.split()[0], 2)))


def _compare(ctx: AuditContext, a: Target, b: Target):
    ids = (a.id, b.id)
    both_counts = a.count is not None and b.count is not None
    for name, label in _FIELDS:
        if name == "value" and both_counts and (a.value is None or b.value is None):
            continue                      # a value derived from a count: compare the counts
        pa = _value(ctx, a) if name == "value" else printed(a, name)
        pb = _value(ctx, b) if name == "value" else printed(b, name)
        if pa is None or pb is None:
            continue
        if overlap((pa.lo, pa.hi), (pb.lo, pb.hi)) and (
                overlap((pa.lo, pa.hi), (pb.lo, pb.hi), strict=True)
                or pa.lo == pa.hi or pb.lo == pb.hi):
            continue
        touching = overlap((pa.lo, pa.hi), (pb.lo, pb.hi))
        scale = 100.0 if (a.percent_scale or b.percent_scale) and name != "count" else 1.0
        hint = (_swap_hint(ctx, pa, b) or _swap_hint(ctx, pb, a)) if (
            name == "value" and a.arm) else ""
        yield Finding("same_as_agree", "warning" if touching else "error", ids,
                      f"{a.id} / {b.id}: {label} printed as {pa.text} ({a.where}) and {pb.text} "
                      f"({b.where})"
                      + (" - one unit apart in the last digit" if touching else "") + hint,
                      scale * abs(pa.value - pb.value),
                      "percentage points" if scale == 100 else "counts" if name == "count"
                      else "value units", pb.text, pa.text)
    pa, pb = _p(a), _p(b)
    if pa and pb and not overlap(pa[:2], pb[:2]):
        yield Finding("same_as_agree", "error", ids,
                      f"{a.id} / {b.id}: p printed as {pa[2]} ({a.where}) and {pb[2]} ({b.where})",
                      gap(pa[:2], pb[:2]), "p", pb[2], pa[2])
    if a.contrast and b.contrast and a.contrast != b.contrast:
        yield Finding("same_as_agree", "error", ids,
                      f"{a.id} / {b.id}: the same {a.quantity} ({fmt(a.value)}) is labelled "
                      f"{a.contrast[0]} vs {a.contrast[1]} ({a.where}) and "
                      f"{b.contrast[0]} vs {b.contrast[1]} ({b.where}): one label inverts "
                      "the direction of the effect", None, None,
                      f"{b.contrast[0]} vs {b.contrast[1]}", f"{a.contrast[0]} vs {a.contrast[1]}")
