"""Rules on estimates with confidence intervals, standard errors and p-values."""
from __future__ import annotations

import math

# scipy.stats.norm's own formulas (ppf(q) = ndtri(q), sf(x) = ndtr(-x)) called directly:
# the same doubles without rv_continuous's argument handling (a fifth of the audit's time)
from scipy.special import ndtr, ndtri

from tacebench.replications.targets import RATIO_QUANTITIES, Target

from .counts import contrast_counts, two_by_two_p_values
from .findings import Finding
from .registry import AuditContext, rule
from .rounding import Printed, fmt, gap, overlap, printed

__all__ = ["ci_contains_estimate", "ratio_ci_log_symmetric", "p_value_matches_ci",
           "se_matches_ci", "wald_p_range", "wald_p_bounds", "log_asymmetry",
           "reported_p_interval", "decision_error", "LOG_ASYMMETRY_WARNING", "LOG_ASYMMETRY_ERROR",
           "WALD_TABLE_MIN"]

#: Relative asymmetry (share of the CI's log half-width, the distance from its log-midpoint
#: to a bound) above which a ratio CI is a warning / an error; see
#: :func:`ratio_ci_log_symmetric`.
LOG_ASYMMETRY_WARNING = 0.10
LOG_ASYMMETRY_ERROR = 0.25
#: Symmetric ratio CIs a table needs before it is read as printing Wald intervals.
WALD_TABLE_MIN = 3


def _parts(t: Target) -> tuple[Printed, Printed, Printed] | None:
    if t.value is None or t.ci is None or not math.isfinite(t.ci[1]):   # an NR upper bound
        return None
    return printed(t, "value"), printed(t, "ci_lo"), printed(t, "ci_hi")


def _valid_ratio(t: Target) -> bool:
    """A ratio CI usable on the log scale: ordered, positive, containing the estimate."""
    p = _parts(t)
    if p is None or t.quantity not in RATIO_QUANTITIES:
        return False
    v, lo, hi = p
    return 0 < lo.value <= v.value <= hi.value and lo.lo > 0 and hi.hi > lo.lo


def log_asymmetry(v: Printed, lo: Printed, hi: Printed) -> tuple[float, float]:
    """``(a, gap)``: the estimate's displacement from the CI's log-midpoint beyond rounding.

    The log-midpoint ranges over ``[(log lo_min + log hi_min) / 2, (log lo_max + log
    hi_max) / 2]``, the log estimate over its own rounding interval; ``gap`` is the
    distance between the two, ``a = 2 gap / log(hi / lo)``: a share of the log
    half-width, 1 for an estimate at a bound (0 for a zero-width CI).
    """
    width = math.log(hi.value / lo.value)
    mid = ((math.log(lo.lo) + math.log(hi.lo)) / 2, (math.log(lo.hi) + math.log(hi.hi)) / 2)
    g = gap(mid, (math.log(max(v.lo, 1e-300)), math.log(v.hi)))
    return (2 * g / width if width > 0 else 0.0), g


def wald_p_bounds(v: Printed, lo: Printed, hi: Printed, level: float = 0.95):
    """Two-sided Wald p-values ``(min, central, max)`` allowed by a rounded ratio and CI.

    ``se = log(hi / lo) / (2 z)``, ``z`` the normal quantile of the CI level; the p-value
    decreases with ``|log est|`` and increases with the width, so its extremes over the
    rounding box are at its corners (``|log est| = 0`` when the estimate's interval
    straddles 1). None when the rounded CI can have zero width.
    """
    z = ndtri(0.5 + level / 2)
    w_min = math.log(hi.lo) - math.log(lo.hi)
    w_max = math.log(hi.hi) - math.log(lo.lo)
    if w_min <= 0:
        return None
    b = [abs(math.log(v.lo)), abs(math.log(v.hi))]
    b_min = 0.0 if v.lo <= 1 <= v.hi else min(b)
    central = 2 * ndtr(-(abs(math.log(v.value)) / (math.log(hi.value / lo.value) / (2 * z))))
    return (2 * ndtr(-(max(b) / (w_min / (2 * z)))), central,
            2 * ndtr(-(b_min / (w_max / (2 * z)))))


def _shifted(p: Printed, factor: float) -> Printed:
    """``p`` with its decimal point moved (``factor`` a power of ten), printed alike."""
    decimals = len(p.text.split(".", 1)[1]) if "." in p.text else 0
    decimals = max(0, decimals - round(math.log10(factor)))
    v = p.value * factor
    return Printed(v, p.lo * factor, p.hi * factor, f"{v:.{decimals}f}")


def _misplaced_decimal(t: Target) -> str:
    """A hint when shifting one bound's decimal point (x or / 10, 100, 1000) repairs a
    ratio CI: ordered, containing the estimate, log-symmetric within the warning
    threshold under rounding, and - when a p is printed - giving a Wald p that the
    printed p's rounding allows (a repair the p rules out is not named). The least
    asymmetric repair is named."""
    v, lo, hi = _parts(t)
    rep = reported_p_interval(t)
    best = None
    for k in (10, 100, 1000):
        for which, f in (("lower", 1 / k), ("lower", k), ("upper", 1 / k), ("upper", k)):
            nlo, nhi = (_shifted(lo, f), hi) if which == "lower" else (lo, _shifted(hi, f))
            if not (0 < nlo.lo and nlo.value <= v.value <= nhi.value):
                continue
            a, _ = log_asymmetry(v, nlo, nhi)
            if a >= LOG_ASYMMETRY_WARNING:
                continue
            bounds = wald_p_bounds(v, nlo, nhi, t.ci_level)
            if not (rep is None or bounds is None
                    or overlap((bounds[0], bounds[2]), rep[:2])):
                continue                      # the printed p rules this repair out
            if best is None or a < best[0]:
                best = (a, which, nlo if which == "lower" else nhi)
    if best is None:
        return ""
    article = "an" if best[1] == "upper" else "a"
    return f"; {article} {best[1]} bound of {best[2].text} would fit (decimal point misplaced?)"


def decision_error(rep, p_min: float, p_max: float, alpha: float = 0.05) -> bool:
    """Do a printed p (interval ``rep``) and recomputed p-values ``[p_min, p_max]``
    disagree on significance at ``alpha`` whichever values they take (statcheck's
    "decision error")? A printed p whose rounding straddles ``alpha`` (0.05 printed
    covers 0.045-0.055) decides nothing, so it is never one."""
    return ((rep[1] < alpha and p_min >= alpha)
            or (rep[0] >= alpha and p_max < alpha))


def reported_p_interval(t: Target) -> tuple[float, float, str] | None:
    """The p-values a printed ``p`` (rounded) or ``p_text`` (a bound) allows."""
    if t.p is not None:
        p = printed(t, "p")
        return max(p.lo, 0.0), min(p.hi, 1.0), p.text
    if t.p_bound is not None:
        op, x = t.p_bound
        return ((0.0, x, t.p_text) if op.startswith("<") else (x, 1.0, t.p_text))
    return None


@rule("ci_contains_estimate", "intervals")
def ci_contains_estimate(ctx: AuditContext):
    """An interval must be ordered and contain its point estimate.

    Tolerance: every printed number is an interval of half a unit in its last digit, so
    the estimate may exceed a bound by at most the two half-units together. Applies to
    CIs and to ranges (a median lies inside its range too).
    """
    for t in ctx:
        p = _parts(t)
        if p is None:
            continue
        ctx.checked(t.id)
        v, lo, hi = p
        kind = "range" if t.interval == "range" else t.interval.upper()
        hint = (_misplaced_decimal(t) if t.quantity in RATIO_QUANTITIES and lo.lo > 0
                and hi.lo > 0 else "")
        if lo.lo > hi.hi:
            ctx.failed(t.id)
            yield Finding("ci_contains_estimate", "error", (t.id,),
                          f"{t.id}: {kind} lower bound {lo.text} is above the upper bound {hi.text}"
                          + hint,
                          lo.lo - hi.hi, "value units", f"{lo.text}-{hi.text}", "lower <= upper")
            continue
        if overlap((v.lo, v.hi), (lo.lo, hi.hi)):
            continue
        ctx.failed(t.id)
        yield Finding("ci_contains_estimate", "error", (t.id,),
                      f"{t.id}: estimate {v.text} lies outside its {kind} {lo.text}-{hi.text}"
                      + hint,
                      gap((v.lo, v.hi), (lo.lo, hi.hi)), "value units", v.text,
                      f"within {lo.text}-{hi.text}")


@rule("ratio_ci_log_symmetric", "intervals")
def ratio_ci_log_symmetric(ctx: AuditContext):
    """A ratio's Wald CI is symmetric about the estimate on the log scale.

    The log-midpoint ``(log lo + log hi) / 2`` can be anywhere in an interval fixed by the
    rounding of the two bounds; the log estimate anywhere in the interval its own rounding
    allows. If the two intervals meet, there is no finding. Otherwise the asymmetry is
    ``a = 2 * gap / log(hi / lo)``, the displacement of the estimate as a share of the
    CI's log half-width (the distance from its log-midpoint to a bound: ``a = 1`` is an
    estimate at a bound). Cox and logistic software prints Wald intervals by default,
    which have ``a = 0`` up to rounding; a profile-likelihood or bootstrap interval may be
    mildly asymmetric (with tens of events the log-likelihood is close to quadratic and
    the shift is a few percent of the width), so ``a < 0.10`` (under 5% of the width) is
    info, ``0.10 <= a < 0.25`` a warning, and ``a >= 0.25`` (an estimate a quarter of the
    way from the centre to a bound, an eighth of the width, as a transposed or mistyped
    bound produces) an error. The table's own convention decides the middle band: where
    at least :data:`WALD_TABLE_MIN` ratio CIs of the same table are symmetric within
    rounding, more than twice as many as are not, the table prints Wald intervals, and an
    estimate 10-25% of the half-width off centre there is an error (no reading of the
    table's convention gives it). Intervals rounded to zero width (``1.00 (1.00-1.00)``)
    carry no information and are skipped.
    """
    symmetric = _symmetric_by_table(ctx)
    for t in ctx:
        if not _valid_ratio(t):
            continue
        v, lo, hi = _parts(t)
        if hi.value <= lo.value:
            ctx.skipped(t.id, "the CI has zero width as printed")
            continue
        ctx.checked(t.id)
        a, g = log_asymmetry(v, lo, hi)
        if g == 0:
            continue
        wald = symmetric.get(t.where, (0, 0))
        wald_table = wald[0] >= WALD_TABLE_MIN and wald[0] > 2 * wald[1]
        sev = ("error" if a >= LOG_ASYMMETRY_ERROR or (a >= LOG_ASYMMETRY_WARNING
                                                       and wald_table)
               else "warning" if a >= LOG_ASYMMETRY_WARNING else "info")
        centre = math.sqrt(lo.value * hi.value)
        why = (f"; the other {wald[0]} ratio CIs of {t.where} are log-symmetric (Wald)"
               if sev == "error" and a < LOG_ASYMMETRY_ERROR else "")
        hint = _misplaced_decimal(t) if sev == "error" else ""
        if sev != "info":
            ctx.failed(t.id)
        yield Finding("ratio_ci_log_symmetric", sev, (t.id,),
                      f"{t.id}: {v.text} ({lo.text}-{hi.text}): the CI is centred on "
                      f"{fmt(centre, 3)} "
                      f"on the log scale, the estimate is off centre by {a:.0%} of the "
                      "CI's log half-width (centre to bound) beyond rounding" + why + hint,
                      g, "log units", v.text,
                      f"{fmt(centre, 3)} (geometric mean of the bounds)")


def _symmetric_by_table(ctx: AuditContext) -> dict[str, tuple[int, int]]:
    """Per table: ``(symmetric, off centre)`` counts of its usable ratio CIs (distinct
    numbers: copies of one estimate count once)."""
    seen, out = set(), {}
    for t in ctx:
        if not _valid_ratio(t):
            continue
        v, lo, hi = _parts(t)
        key = (t.where, v.text, lo.text, hi.text)
        if hi.value <= lo.value or key in seen:
            continue
        seen.add(key)
        a, g = log_asymmetry(v, lo, hi)
        s, o = out.get(t.where, (0, 0))
        out[t.where] = (s + 1, o) if g == 0 else (s, o + 1)
    return out


def wald_p_range(t: Target) -> tuple[float, float, float] | None:
    """:func:`wald_p_bounds` for a ratio target with a usable CI, else None."""
    return wald_p_bounds(*_parts(t), t.ci_level) if _valid_ratio(t) else None


@rule("p_value_matches_ci", "intervals")
def p_value_matches_ci(ctx: AuditContext):
    """A ratio's p-value must agree with its CI (statcheck-style, Nuijten et al. 2016).

    The Wald p-value is recomputed from the log estimate and the CI width under normality,
    over every value the rounding of the three printed numbers allows
    (:func:`wald_p_range`); the printed p allows half a unit in its last digit, and
    ``p < x`` allows ``[0, x]``. A finding only when no allowed value gives the printed p.
    It is an error when the two disagree on significance at 0.05 (statcheck's "decision
    error"), otherwise a warning: the p may come from another test (log-rank, likelihood
    ratio, chi-square) than the interval. For an odds ratio of two rates with whole
    counts, a p that is the paper's own two-proportion test (the convention inferred from
    its other p-values, :mod:`.conventions`) is info: the paper's convention, not a slip.
    """
    for t in ctx:
        rng = wald_p_range(t)
        rep = reported_p_interval(t)
        if rng is None or rep is None:
            continue
        ctx.checked(t.id)
        p_min, central, p_max = rng
        if overlap((p_min, p_max), rep[:2]):
            continue
        decision = decision_error(rep, p_min, p_max)
        v, lo, hi = _parts(t)
        other, own = _other_test(ctx, t, rep)
        sev = "info" if own else "error" if decision else "warning"
        if sev != "info":
            ctx.failed(t.id)
        yield Finding("p_value_matches_ci", sev, (t.id,),
                      f"{t.id}: p {rep[2]} printed with {v.text} ({lo.text}-{hi.text}); the Wald p "
                      f"from the estimate and CI is {fmt(central, 3)} (between "
                      f"{fmt(p_min, 3)} and {fmt(p_max, 3)} under rounding)"
                      + ("; the two disagree on significance at 0.05" if decision and not own
                         else "")
                      + other, gap((p_min, p_max), rep[:2]), "p", rep[2], fmt(central, 3))


def _other_test(ctx: AuditContext, t: Target, rep) -> tuple[str, bool]:
    """For an odds ratio of two rates with whole counts: which 2 x 2 test gives the p,
    and whether it is the paper's own test for such p-values (its inferred convention)."""
    counts = contrast_counts(ctx, t)
    if counts is None:
        return "", False
    match = [k for k, p in two_by_two_p_values(*counts).items()
             if rep[0] - 1e-12 <= p <= rep[1] + 1e-12]
    table = " vs ".join(f"{c}/{n}" for c, n in counts)
    conv = ctx.conventions
    own = conv is not None and bool(set(conv.p_tests) & set(match))
    if own:
        return (f"; the printed p is the paper's {' / '.join(conv.p_tests)} on {table} "
                f"({conv.p_test_evidence})", True)
    return (f"; the printed p matches {' and '.join(match)} on {table}, a different test "
            "from the interval's" if match else ""), False


@rule("se_matches_ci", "intervals")
def se_matches_ci(ctx: AuditContext):
    """An estimate printed as ``x +- se (CI lo-hi)`` should have ``CI = x -+ z se``.

    SPSS's Kaplan-Meier median table prints exactly ``median -+ 1.96 SE``; other software
    (Brookmeyer-Crowley intervals) need not, so a mismatch is a warning. Tolerance: the
    implied bounds are intervals over the rounding of the estimate and the SE, compared
    with the rounded printed bounds.
    """
    for t in ctx:
        if t.se is None or t.ci is None or t.value is None:
            continue
        ctx.checked(t.id)
        v, lo, hi = _parts(t)
        se = printed(t, "se")
        z = ndtri(0.5 + t.ci_level / 2)
        want_lo = (v.lo - z * se.hi, v.hi - z * se.lo)
        want_hi = (v.lo + z * se.lo, v.hi + z * se.hi)
        bad = [(name, got, want) for name, got, want in
               (("lower", lo, want_lo), ("upper", hi, want_hi))
               if not overlap((got.lo, got.hi), want)]
        if not bad:
            continue
        g = max(gap((got.lo, got.hi), want) for _, got, want in bad)
        exp = f"{fmt(v.value - z * se.value, 3)}-{fmt(v.value + z * se.value, 3)}"
        ctx.failed(t.id)
        yield Finding("se_matches_ci", "warning", (t.id,),
                      f"{t.id}: {v.text} +- {se.text} implies a {t.ci_level:.0%} CI of {exp}, but "
                      f"{lo.text}-{hi.text} is printed ("
                      + " and ".join(name for name, _, _ in bad) + " bound off)",
                      g, "value units", f"{lo.text}-{hi.text}", exp)
