"""P-values against the paper's own conventions: one test for parallel comparisons, and a
p that the confidence interval gives once the estimate sits at the CI's log-centre."""
from __future__ import annotations

import math

# norm.ppf and norm.sf of scipy.stats called directly (see audit.intervals)
from scipy.special import ndtr, ndtri

from .counts import contrast_counts, two_by_two_p_values
from .findings import Finding
from .intervals import (_parts, _valid_ratio, decision_error, log_asymmetry,
                        reported_p_interval, wald_p_range)
from .registry import AuditContext, rule
from .rounding import fmt, gap, overlap

__all__ = ["parallel_tests_consistent", "p_value_matches_ci_centre", "centre_p_bounds"]


def _in(p: float, rep) -> bool:
    return rep[0] - 1e-12 <= p <= rep[1] + 1e-12


@rule("parallel_tests_consistent", "pvalues")
def parallel_tests_consistent(ctx: AuditContext):
    """Parallel comparisons of one paper must use one test.

    For odds ratios of two rates with whole counts, the printed p is classified as the
    Wald p of the ratio (:func:`~.intervals.wald_p_range`) or one of the 2 x 2 tests. When
    the paper's declared-and-reproduced test for such p-values (its convention,
    :mod:`.conventions`) gives another p for a row whose printed p is only the Wald p, and
    a parallel row (an odds ratio in the same place) reproduces with the convention, the
    row used a different test from its neighbours: an error when a parallel row
    reproduces only with the convention (not with its Wald p) and the convention's p is on
    the other side of 0.05 (the reported significance depends on the switch), otherwise
    a warning (the parallel row's p may be its Wald p too).
    """
    conv = ctx.conventions
    if conv is None or conv.p_test is None:
        return
    rows = []
    for t in ctx:
        rep, rng, counts = reported_p_interval(t), wald_p_range(t), contrast_counts(ctx, t)
        if rep is None or rng is None or counts is None:
            continue
        owns = [p for k, p in two_by_two_p_values(*counts).items() if k in conv.p_tests]
        if not owns:
            continue
        own = min(owns, key=lambda p: gap((p, p), rep[:2]))
        rows.append((t, rep, overlap((rng[0], rng[2]), rep[:2]), _in(own, rep), own, counts))
    for t, rep, wald, conventional, own, counts in rows:
        ctx.checked(t.id)
        if not wald or conventional:
            continue
        same_table = [(o, w) for o, _, w, c, _, _ in rows
                      if o.where == t.where and o.endpoint != t.endpoint and c]
        if not same_table:
            continue
        strong = [o for o, w in same_table if not w]
        peers = strong or [o for o, _ in same_table]
        flips = (own < 0.05) != (rep[1] < 0.05)
        table = " vs ".join(f"{c}/{n}" for c, n in counts)
        ctx.failed(t.id)
        yield Finding("parallel_tests_consistent", "error" if flips and strong else "warning",
                      (t.id,),
                      f"{t.id}: p {rep[2]} is the odds ratio's Wald p, while "
                      f"{', '.join(p.id for p in peers)} in {t.where} "
                      + ("use" if strong else "match (as well as their Wald p)")
                      + f" the paper's {' / '.join(conv.p_tests)}, which gives "
                      f"{fmt(own, 3)} on {table}"
                      + ("; the two disagree on significance at 0.05" if flips else ""),
                      gap((own, own), rep[:2]), "p", rep[2], fmt(own, 3))


def centre_p_bounds(lo, hi, level: float = 0.95) -> tuple[float, float] | None:
    """Wald p-values ``(min, max)`` with the estimate at the CI's log-centre.

    The log-centre ``(log lo + log hi) / 2`` and the standard error ``log(hi / lo) / (2
    z)`` move together with the two rounded bounds; the extremes are at the corners of the
    bounds' rounding box, except that a centre which can be 0 on the log scale allows
    p = 1. None when the rounded CI can have zero width.
    """
    z = ndtri(0.5 + level / 2)
    ps = []
    for a in (lo.lo, lo.hi):
        for b in (hi.lo, hi.hi):
            if a <= 0 or b <= a:
                return None
            se = math.log(b / a) / (2 * z)
            ps.append(2 * ndtr(-(abs(math.log(a) + math.log(b)) / 2 / se)))
    # a centre that can sit at a ratio of 1 allows p = 1 (the corners miss it)
    straddles = math.log(lo.lo) + math.log(hi.lo) <= 0 <= math.log(lo.hi) + math.log(hi.hi)
    return min(ps), 1.0 if straddles else max(ps)


@rule("p_value_matches_ci_centre", "pvalues")
def p_value_matches_ci_centre(ctx: AuditContext):
    """A ratio's p must match its CI with the estimate tied to the CI's log-centre.

    A Wald interval is centred on the log estimate, so the CI alone fixes the Wald p (up to
    the rounding of its two bounds, :func:`centre_p_bounds`). The check of
    ``p_value_matches_ci`` lets the estimate vary over its own rounding independently,
    which can hide a p that the CI excludes; this rule applies where that check finds
    nothing and the estimate sits at the centre within rounding (an off-centre estimate is
    ``ratio_ci_log_symmetric``'s), and not to an odds ratio whose p is a 2 x 2 test of
    its counts (``parallel_tests_consistent`` judges the choice of test). Error when the
    two disagree on significance at 0.05 whichever values their rounding allows
    (:func:`~.intervals.decision_error`, as ``p_value_matches_ci``: a printed 0.05 covers
    0.045-0.055 and decides nothing), otherwise a warning.
    """
    for t in ctx:
        if not _valid_ratio(t):
            continue
        rep, rng = reported_p_interval(t), wald_p_range(t)
        v, lo, hi = _parts(t)
        if rep is None or rng is None or not overlap((rng[0], rng[2]), rep[:2]):
            continue
        if log_asymmetry(v, lo, hi)[1] > 0:
            continue
        counts = contrast_counts(ctx, t)
        if counts is not None and any(_in(p, rep) for p in
                                      two_by_two_p_values(*counts).values()):
            continue                          # a 2 x 2 test's p, not the interval's
        b = centre_p_bounds(lo, hi, t.ci_level)
        if b is not None:
            ctx.checked(t.id)
        if b is None or overlap(b, rep[:2]):
            continue
        flips = decision_error(rep, *b)
        ctx.failed(t.id)
        yield Finding("p_value_matches_ci_centre", "error" if flips else "warning", (t.id,),
                      f"{t.id}: p {rep[2]} printed with {v.text} ({lo.text}-{hi.text}); "
                      f"the CI, centred on {fmt(math.sqrt(lo.value * hi.value), 3)}, gives "
                      f"a Wald p between {fmt(b[0], 3)} and {fmt(b[1], 3)} under rounding"
                      + ("; the two disagree on significance at 0.05" if flips else ""),
                      gap(b, rep[:2]), "p", rep[2], f"{fmt(b[0], 3)}-{fmt(b[1], 3)}")
