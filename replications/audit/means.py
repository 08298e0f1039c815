"""Two-arm p-values of a continuous variable recomputed from each arm's mean, SD and size.

A Table 1 row printed as ``57.2 ± 10.1`` vs ``56.8 ± 9.7`` (or ``57.2 (10.1)``) with the
arms' sizes holds everything a two-sample t-test needs. Every printed number is an interval
(half a unit in its last digit, :mod:`.rounding`), so each test gives an interval of
p-values, not one p; the printed p must meet it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .findings import Finding
from .intervals import reported_p_interval
from .registry import AuditContext, rule
from .rounding import Printed, fmt, gap, overlap, printed

__all__ = ["STUDENT", "WELCH", "T_TESTS", "ArmSummary", "t_test_p", "t_test_p_range",
           "t_test_p_ranges", "matching_t_tests", "two_mean_rows", "declared_t_test", "two_mean_p"]

STUDENT = "Student's t"
WELCH = "Welch's t"
#: The two-sample tests a mean ± SD row is compared with, in order of preference when tied.
T_TESTS = (STUDENT, WELCH)


@dataclass(frozen=True)
class ArmSummary:
    """One arm of a continuous row: its printed mean and SD (intervals) and its size."""

    mean: Printed
    sd: Printed
    n: float

    @property
    def text(self) -> str:
        return f"{self.mean.text} ± {self.sd.text} (n = {self.n:g})"


def _two_sided(abs_diff: float, se: float, df: float) -> float:
    """Two-sided t tail of ``abs_diff / se`` on ``df`` degrees of freedom (a difference of
    zero gives 1, a positive difference with no spread 0)."""
    if abs_diff <= 0.0:
        return 1.0
    if se <= 0.0:
        return 0.0
    from scipy.stats import t as student_t  # (not at import: ~1 s of the command's start-up)

    return float(min(1.0, 2.0 * student_t.sf(abs_diff / se, df)))


def _student_se(s1: float, n1: float, s2: float, n2: float) -> float:
    pooled = ((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / (n1 + n2 - 2)
    return math.sqrt(pooled * (1.0 / n1 + 1.0 / n2))


def _welch_df(a: float, b: float, n1: float, n2: float) -> float:
    """Welch-Satterthwaite df from the squared standard errors ``a = s1^2/n1``, ``b``."""
    return (a + b) ** 2 / (a ** 2 / (n1 - 1) + b ** 2 / (n2 - 1))


def t_test_p(m1: float, s1: float, n1: float, m2: float, s2: float, n2: float,
             test: str) -> float:
    """Two-sided p of the two-sample t-test ``test`` (:data:`T_TESTS`) from summary data.

    Student's t pools the variances (``n1 + n2 - 2`` df); Welch's t uses each arm's own
    variance with the Welch-Satterthwaite df. Equal to ``scipy.stats.ttest_ind_from_stats``
    with ``equal_var`` True and False.
    """
    if test == STUDENT:
        return _two_sided(abs(m1 - m2), _student_se(s1, n1, s2, n2), n1 + n2 - 2)
    a, b = s1 ** 2 / n1, s2 ** 2 / n2
    df = _welch_df(a, b, n1, n2) if a + b > 0 else n1 + n2 - 2
    return _two_sided(abs(m1 - m2), math.sqrt(a + b), df)


def t_test_p_range(x: ArmSummary, y: ArmSummary, test: str) -> tuple[float, float]:
    """The p-values ``test`` can give for any means and SDs their printed digits allow.

    The p falls as the absolute difference of the means grows and rises with either SD
    (the standard error grows), and at a fixed statistic it falls as the df grow (a t
    distribution of more df is more peaked: its two-sided tail is smaller at every point).
    So the smallest p takes the largest absolute difference, the smallest SDs and the
    largest df the SDs allow, the largest p the opposite. For Student's t the df are
    fixed and the bounds are attained; for Welch's t the df depend on the SDs' ratio and
    the three extremes need not meet at one point, so the interval may be slightly wider
    than the set of attainable p-values (never narrower: no false alarm from it).
    """
    n1, n2 = x.n, y.n
    d_lo, d_hi = x.mean.lo - y.mean.hi, x.mean.hi - y.mean.lo
    big = max(abs(d_lo), abs(d_hi))
    small = 0.0 if d_lo <= 0.0 <= d_hi else min(abs(d_lo), abs(d_hi))
    s1_lo, s2_lo = max(x.sd.lo, 0.0), max(y.sd.lo, 0.0)
    if test == STUDENT:
        df = n1 + n2 - 2
        return (_two_sided(big, _student_se(s1_lo, n1, s2_lo, n2), df),
                _two_sided(small, _student_se(x.sd.hi, n1, y.sd.hi, n2), df))
    a_lo, a_hi = s1_lo ** 2 / n1, x.sd.hi ** 2 / n1
    b_lo, b_hi = s2_lo ** 2 / n2, y.sd.hi ** 2 / n2
    # df as a function of a / b rises to n1 + n2 - 2 at (n1 - 1) / (n2 - 1), then falls:
    # its extremes over the box are the two corners of extreme ratio, and that peak
    corners = [_welch_df(a_lo, b_hi, n1, n2), _welch_df(a_hi, b_lo, n1, n2)]
    peak = (n1 - 1) / (n2 - 1)
    inside = a_lo <= peak * b_hi and a_hi >= peak * b_lo
    df_hi = n1 + n2 - 2 if inside else max(corners)
    return (_two_sided(big, math.sqrt(a_lo + b_lo), df_hi),
            _two_sided(small, math.sqrt(a_hi + b_hi), min(corners)))


def t_test_p_ranges(x: ArmSummary, y: ArmSummary) -> dict[str, tuple[float, float, float]]:
    """``{test: (p at the printed numbers, lowest p, highest p)}`` for each of :data:`T_TESTS`."""
    out = {}
    for test in T_TESTS:
        lo, hi = t_test_p_range(x, y, test)
        at = t_test_p(x.mean.value, x.sd.value, x.n, y.mean.value, y.sd.value, y.n, test)
        out[test] = (at, lo, hi)
    return out


def declared_t_test(t) -> str | None:
    """The t-test a p-value's own ``test`` names (Welch's, or Student's / pooled), if any."""
    text = (t.test or "").lower()
    if "welch" in text or "unequal" in text:
        return WELCH
    if "student" in text or "pooled" in text or "equal var" in text:
        return STUDENT
    return None


def two_mean_rows(ctx: AuditContext, *, log: bool = False):
    """``(p target, printed p interval, (mean a, mean b), (arm a, arm b))`` of every p-value
    comparing two arms' means with their SDs and sizes known; with ``log``, p-values of two
    means or two medians it cannot recompute are recorded with what is missing."""
    for t in ctx:
        if t.quantity != "p_value" or len(t.compares) != 2:
            continue
        cells = [ctx.get(i) for i in t.compares]
        rep = reported_p_interval(t)
        kinds = {c.quantity for c in cells if c is not None}
        if rep is None or None in cells or len(kinds) != 1 or kinds - {"mean", "median"}:
            continue
        why = None
        if kinds == {"median"}:
            why = ("a p-value of two medians (IQR or range) comes from a rank test "
                   "(Mann-Whitney), which the printed summaries cannot reproduce")
        elif any(c.weighted for c in cells):
            why = "weighted means: a weighted test needs the weights, which are not printed"
        elif any(c.sd is None for c in cells):
            why = "the compared means have no SD printed (mean ± SD or mean (SD))"
        sizes = [ctx.group_size(c.analysis, c.arm, False) if c.arm else None for c in cells]
        if why is None and None in sizes:
            why = "the arms' sizes are unknown (no group size of their analysis and arm)"
        elif why is None and min(s.size.value for s in sizes) < 2:
            why = "an arm of fewer than two patients has no SD to test with"
        if why is not None:
            if log:
                ctx.skipped(t.id, why)
            continue
        arms = tuple(ArmSummary(printed(c, "value"), printed(c, "sd"), s.size.value)
                     for c, s in zip(cells, sizes))
        yield t, rep, tuple(cells), arms


def matching_t_tests(ranges: dict, rep) -> list[str]:
    """The tests of :func:`t_test_p_ranges` whose p interval meets the printed one ``rep``."""
    return [k for k, (_, lo, hi) in ranges.items() if overlap((lo, hi), rep[:2])]


@rule("two_mean_p", "comparisons")
def two_mean_p(ctx: AuditContext):
    """A p-value comparing two arms' means must match a t-test of their means, SDs and sizes.

    Applies to ``p_value`` targets whose ``compares`` names two ``mean`` targets, each with
    its ``sd`` (a ``mean ± SD`` or ``mean (SD)`` cell), unweighted, and a known group size
    for its analysis and arm. Each printed mean, SD and the p allow half a unit in their
    last digit (``p < x`` allows ``[0, x]``); Student's t (pooled variance) and Welch's t
    give each an interval of p-values over those of the means and SDs
    (:func:`t_test_p_range`), and the printed p must meet one of them. When the paper's
    other t-test p-values show its test (:func:`~.conventions.t_test_convention`: one test
    alone reproduces at least two and the other alone at most one) or the p names its
    test, a p that only the other test gives is a warning. Error when no test agrees on
    significance at 0.05 with the printed p, otherwise a warning. A p of two medians (a
    rank test) or of weighted means cannot be recomputed and is recorded as not checkable.

    References
    ----------
    Student. The probable error of a mean. Biometrika 1908;6:1-25.
    Welch BL. The generalization of "Student's" problem when several different population
    variances are involved. Biometrika 1947;34:28-35.
    Nuijten MB et al. The prevalence of statistical reporting errors in psychology
    (1985-2013). Behav Res Methods 2016;48:1205-26.
    """
    conv = ctx.conventions
    inferred = getattr(conv, "t_test", None)
    for t, rep, cells, arms in two_mean_rows(ctx, log=True):
        ctx.checked(t.id, *t.compares)
        ranges = t_test_p_ranges(*arms)
        hits = matching_t_tests(ranges, rep)
        own = declared_t_test(t) or inferred
        if hits and (own is None or own in hits):
            continue
        ids = (t.id, *t.compares)
        head = f"{t.id}: p {rep[2]} printed for {arms[0].text} vs {arms[1].text}; "
        shown = ", ".join(f"{k} {fmt(at, 3)} ({fmt(lo, 3)}-{fmt(hi, 3)} under rounding)"
                          for k, (at, lo, hi) in ranges.items())
        if hits:
            why = ("its own test" if declared_t_test(t)
                   else getattr(conv, "t_test_evidence", ""))
            ctx.failed(*ids)
            yield Finding("two_mean_p", "warning", ids,
                          head + f"only {' / '.join(hits)} gives it, while the paper uses "
                          f"{own} ({why}); recomputed: {shown}", 0.0, "p", rep[2],
                          fmt(ranges[own][0], 3))
            continue
        sig = rep[1] < 0.05
        decision = not any((lo < 0.05) if sig else (hi >= 0.05)
                           for _, lo, hi in ranges.values())
        closest = min(ranges.values(), key=lambda r: gap(r[1:], rep[:2]))
        ctx.failed(*ids)
        yield Finding("two_mean_p", "error" if decision else "warning", ids,
                      head + f"recomputed: {shown}"
                      + ("; no test agrees on significance at 0.05" if decision else ""),
                      gap(closest[1:], rep[:2]), "p", rep[2], fmt(closest[0], 3))
