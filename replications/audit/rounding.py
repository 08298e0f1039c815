"""Printed numbers as intervals: what a rounded number allows the true value to be.

A number printed with ``d`` decimals, ``x``, is compatible with any true value in the closed
interval ``[x - h, x + h]``, ``h = 0.5 * 10**-d`` (closed, so that both round-half-up and
round-half-even readings of a tie are allowed). The number of decimals is read from the
number as printed in the target's source quote (``"17.0"`` has one), never from the float,
which forgets trailing zeros. Counts of people are exact; weighted counts and weighted
group sizes are rounded like any other number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from tacebench.replications.targets import Target

__all__ = ["Printed", "printed", "overlap", "gap", "fmt", "truncation_interval"]


@dataclass(frozen=True)
class Printed:
    """A printed number: its value, the interval it allows, and its printed text."""

    value: float
    lo: float
    hi: float
    text: str

    @property
    def half(self) -> float:
        return (self.hi - self.lo) / 2


def printed(t: Target, name: str, *, exact: bool = False) -> Printed | None:
    """The interval allowed by field ``name`` of ``t`` (``value``, ``ci_lo``, ``ci_hi``,
    ``se``, ``sd``, ``p``, ``count``); None if the field is empty. ``exact`` drops the rounding
    (whole counts of people); counts are exact unless the target is weighted.
    """
    v = {"value": t.value, "se": t.se, "sd": t.sd, "p": t.p, "count": t.count,
         "ci_lo": t.ci[0] if t.ci else None, "ci_hi": t.ci[1] if t.ci else None}[name]
    if v is None:
        return None
    if name == "count" and not t.weighted:
        exact = True
    h = 0.0 if exact else t.resolution(name)
    text = t.printed_text(name) or f"{v:g}"
    if t.percent_scale and name in ("value", "ci_lo", "ci_hi"):
        text += "%"
    return Printed(v, v - h, v + h, text)


def overlap(a: tuple[float, float], b: tuple[float, float], *, strict: bool = False) -> bool:
    """Do closed intervals ``a`` and ``b`` share a point (``strict``: more than a point)?"""
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return lo < hi if strict else lo <= hi + 1e-12


def gap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two intervals (0 when they overlap)."""
    return max(0.0, max(a[0], b[0]) - min(a[1], b[1]))


def truncation_interval(p: Printed) -> tuple[float, float]:
    """True values a *truncated* printed number allows: ``[x, x + 2h)``."""
    return p.value, p.value + 2 * p.half


def fmt(x: float, digits: int = 4) -> str:
    """Compact number formatting for messages."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"
