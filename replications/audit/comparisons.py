"""Rules recomputing two-arm comparisons of proportions: test p-values and SMDs."""
from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np

from tacebench.estimators.kernels import yang_dalton_smd

from .findings import Finding
from .intervals import reported_p_interval
from .counts import two_by_two_p_values, whole_count
from .registry import AuditContext, rule
from .rounding import fmt, gap, overlap, printed

__all__ = ["two_proportion_p", "smd_matches_proportions", "two_by_two_p_values", "whole_count",
           "proportions_by_term", "recomputed_smd"]


@rule("two_proportion_p", "comparisons")
def two_proportion_p(ctx: AuditContext):
    """A p-value comparing two proportions must match a standard test of their counts.

    Applies to ``p_value`` targets whose ``compares`` names two rate/proportion targets
    with whole counts (printed, or the single count their percentage allows). The printed
    p allows half a unit in its last digit (``p < x`` allows ``[0, x]``); it must match
    Pearson's chi-square with or without Yates' correction or Fisher's exact test, the
    tests a table of two proportions is reported with. Error when no test agrees on
    significance at 0.05, otherwise a warning.
    """
    for t in ctx:
        if t.quantity != "p_value" or len(t.compares) != 2:
            continue
        arms = [ctx.get(i) for i in t.compares]
        counts = [whole_count(ctx, a) for a in arms if a is not None]
        rep = reported_p_interval(t)
        if len(counts) != 2 or None in counts or rep is None:
            if rep is not None and all(a is not None and a.quantity in ("rate", "proportion")
                                       for a in arms):
                ctx.skipped(t.id, "no whole counts behind the two compared rates (weighted, "
                            "or no denominator)")
            continue
        ctx.checked(t.id, *t.compares)
        conv = ctx.conventions
        if conv is not None and conv.explained_by_missing(t.id):
            continue                          # reported once, by undisclosed_missing_data
        ps = two_by_two_p_values(*counts)
        if any(rep[0] - 1e-12 <= p <= rep[1] + 1e-12 for p in ps.values()):
            continue
        decision = all((p < 0.05) != (rep[1] < 0.05) for p in ps.values())
        shown = ", ".join(f"{k} {fmt(v, 3)}" for k, v in ps.items())
        table = " vs ".join(f"{c}/{n}" for c, n in counts)
        closest = min(ps.values(), key=lambda p: gap((p, p), rep[:2]))
        ctx.failed(t.id, *t.compares)
        yield Finding("two_proportion_p", "error" if decision else "warning",
                      (t.id, *t.compares),
                      f"{t.id}: p {rep[2]} printed for {table}; recomputed: {shown}"
                      + ("; no test agrees on significance at 0.05" if decision else ""),
                      gap((closest, closest), rep[:2]), "p", rep[2], fmt(closest, 3))


def _smd_range(props: list[list[tuple[float, float]]]) -> tuple[float, float]:
    """Min and max Yang-Dalton SMD over a grid of the rounded proportions (levels 1..K)."""
    k = len(props[0])
    axes = [(lo, (lo + hi) / 2, hi) for arm in props for lo, hi in arm[1:]]
    vals = []
    for point in itertools.product(*axes):
        p1 = np.array([0.0, *point[:k - 1]])
        p2 = np.array([0.0, *point[k - 1:]])
        p1[0], p2[0] = 1 - p1.sum(), 1 - p2.sum()
        vals.append(yang_dalton_smd(p1, p2, np.clip(p1, 0, 1), np.clip(p2, 0, 1)))
    lo, hi = min(vals), max(vals)
    if k == 2 and overlap(props[0][1], props[1][1]):
        lo = 0.0                               # the difference can vanish inside the box
    return lo, hi


def proportions_by_term(ctx: AuditContext) -> dict:
    """``{(term, analysis): {arm: {level: proportion target}}}`` of per-arm proportions."""
    props = defaultdict(lambda: defaultdict(dict))
    for t in ctx:
        if t.quantity == "proportion" and t.arm is not None and t.value is not None:
            props[(t.term, t.analysis)][t.arm].setdefault(t.level, t)
    return props


def recomputed_smd(arms: dict) -> tuple[float, float] | None:
    """The SMD range the printed proportions of two arms allow (:func:`_smd_range`); None
    unless exactly two arms print the same levels (at most four)."""
    if len(arms) != 2:
        return None
    levels = [list(a) for a in arms.values()]
    if levels[0] != levels[1] or len(levels[0]) > 4:
        return None
    boxes = [[(p.lo, p.hi) for p in (printed(x, "value") for x in a.values())]
             for a in arms.values()]
    if len(levels[0]) == 1:                # one printed level of a binary variable
        boxes = [[(1 - hi, 1 - lo), (lo, hi)] for (lo, hi), in boxes]
    return _smd_range(boxes)


@rule("smd_matches_proportions", "comparisons")
def smd_matches_proportions(ctx: AuditContext):
    """A printed SMD of a categorical variable must follow from the two arms' proportions.

    SMD for a K-level variable is Yang & Dalton's (2012) Mahalanobis form over levels
    2..K with the average of the two arms' multinomial covariances (for K = 2 Austin's
    ``|p1 - p2| / sqrt((p1 q1 + p2 q2) / 2)``), as R's tableone prints it; weighted
    proportions give the weighted SMD the same way. The SMD is evaluated on a grid over
    the rounding intervals of the printed percentages (all levels of both arms, at most
    four levels) and compared with the printed SMD's own rounding interval; a finding
    (error) only when no grid value reaches it. Needs ``smd`` targets (term, analysis)
    and ``proportion`` targets of that term for exactly two arms with the same levels;
    a single printed level is read as a binary variable.
    """
    props = proportions_by_term(ctx)
    for t in ctx:
        if t.quantity != "smd" or t.value is None:
            continue
        arms = props.get((t.term, t.analysis), {})
        rng = recomputed_smd(arms)
        if rng is None:
            ctx.skipped(t.id, "no proportions of two arms with the same levels (at most four)")
            continue
        ctx.checked(t.id, *(x.id for a in arms.values() for x in a.values()))
        lo, hi = rng
        s = printed(t, "value")
        if overlap((lo, hi), (s.lo, s.hi)):
            continue
        ids = tuple(x.id for a in arms.values() for x in a.values())
        shown = "; ".join(f"{arm}: " + ", ".join(printed(x, "value").text for x in a.values())
                          for arm, a in arms.items())
        ctx.failed(t.id, *ids)
        yield Finding("smd_matches_proportions", "error", (t.id,) + ids,
                      f"SMD {s.text} printed for {t.term} ({t.analysis}), but the arms' "
                      f"proportions ({shown}) give {fmt(lo, 3)}-{fmt(hi, 3)} under rounding",
                      gap((lo, hi), (s.lo, s.hi)), "SMD units", s.text,
                      f"{fmt(lo, 3)}-{fmt(hi, 3)}")
