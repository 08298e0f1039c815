"""How a printed percentage can have been produced from a whole count: the readings.

A paper turns ``k / n`` into a printed percentage by one of a few conventions: rounding
(half up or half even: both allowed, the printed interval is closed), truncation, double
rounding (first to one more decimal, then to the printed decimals: 15.646 -> 15.65 ->
15.7), or forcing the levels of a row to add up to 100 (one level adjusted by a unit in its
last digit). :func:`percent_readings` says which of these give the printed number; the
convention rules (:mod:`.conventions`) decide which reading a table uses. A leaf module:
the rule modules import it, it imports no rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tacebench.replications.targets import Target

from .registry import AuditContext
from .rounding import Printed, printed, truncation_interval

__all__ = ["ROUND", "TRUNCATE", "DOUBLE", "percent_readings", "exact_rate", "ExactRate",
           "round_half_up", "implied_counts"]

ROUND, TRUNCATE, DOUBLE = "rounded", "truncated", "double-rounded"


def round_half_up(x: float, decimals: int) -> Decimal:
    """``x`` rounded half up to ``decimals`` (decimal arithmetic: no binary ties lost)."""
    q = Decimal(1).scaleb(-decimals)
    return Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ExactRate:
    """A rate with a whole count and an exact denominator, and how it was printed.

    ``value`` is the printed rate on the fraction scale with its rounding interval,
    ``decimals`` its printed decimals, ``scale`` 100 for a percentage.
    """

    target: Target
    count: int
    n: int
    value: Printed
    decimals: int
    scale: float


def exact_rate(ctx: AuditContext, t: Target) -> ExactRate | None:
    """The rate's whole count and exact denominator with its printed value, if all known."""
    if t.quantity not in ("rate", "proportion") or t.weighted or t.value is None \
            or t.count is None or t.decimals("value") is None:
        return None
    den = ctx.denominator(t)
    if den is None or den.size.lo != den.size.hi or den.size.value <= 0:
        return None
    n = den.size.value
    if n != int(n) or t.count > n:
        return None
    return ExactRate(t, int(t.count), int(n), printed(t, "value"), t.decimals("value"),
                     100.0 if t.percent_scale else 1.0)


def implied_counts(percent: Printed, n: int) -> range:
    """Whole counts ``k`` of ``n`` with ``k / n`` inside the printed percentage's interval."""
    return range(math.ceil(n * percent.lo - 1e-9), math.floor(n * percent.hi + 1e-9) + 1)


def percent_readings(count: float, n: float, value: Printed, decimals: int,
                     scale: float) -> frozenset[str]:
    """The readings (:data:`ROUND`, :data:`TRUNCATE`, :data:`DOUBLE`) under which
    ``count / n`` prints as ``value``.

    Parameters
    ----------
    count, n : float
        Whole count and denominator.
    value : Printed
        The printed rate (fraction scale) and its rounding interval.
    decimals : int
        Decimals printed (on the printed scale, e.g. percent).
    scale : float
        100 for a percentage, 1 for a fraction.

    Returns
    -------
    frozenset of str
        Empty when no reading gives the printed number.

    References
    ----------
    Brown NJL, Heathers JAJ. The GRIM test. Soc Psychol Personal Sci 2017;8:363-9.
    """
    r = count / n
    out = set()
    if value.lo - 1e-12 <= r <= value.hi + 1e-12:
        out.add(ROUND)
    lo, hi = truncation_interval(value)
    if lo - 1e-12 <= r < hi - 1e-12:
        out.add(TRUNCATE)
    target = round_half_up(value.value * scale, decimals)
    twice = round_half_up(float(round_half_up(r * scale, decimals + 1)), decimals)
    if twice == target and ROUND not in out:
        out.add(DOUBLE)
    return frozenset(out)
