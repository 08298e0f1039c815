"""The values a shift between two printed numbers stands for.

A shift (``to`` minus ``from`` on its scale, :class:`~.targets.Shift`) is computed from two
printed numbers, each standing for every value that rounds to it (:mod:`.verdicts`,
"Printed precision"). The shift therefore stands for an interval too: each end anywhere in
its rounding interval, carried to the shift's scale and combined by interval arithmetic
(the lowest shift pairs the lowest ``to`` with the highest ``from``). A verdict places the
value of that interval nearest the simulated median, as it does for a single number.
"""
from __future__ import annotations

import math

from .reading_choice import printed_half_unit
from .verdicts import printed_ends

__all__ = ["shift_printed"]


def shift_printed(s, a, b) -> tuple[float, float] | None:
    """The shifts the printed ends ``a`` (from) and ``b`` (to) allow together, on the
    shift's scale: each end anywhere in its printed rounding interval (the half unit a
    verdict gives it), combined by interval arithmetic, e.g. "8" against "4.5" months is
    a log shift in [log(7.5 / 4.55), log(8.5 / 4.45)] = [0.50, 0.65]; None when an end's
    interval is undefined on the scale."""
    scale = "log" if s.scale == "log" else "identity"
    ends = [printed_ends(t.value, printed_half_unit(t, t.quantity), scale)
            if t.value is not None and math.isfinite(t.value) else None for t in (a, b)]
    if None in ends:
        return None
    (a_lo, a_hi), (b_lo, b_hi) = ends
    if scale == "log" and s.orientation < 0:    # the ``to`` end inverted first
        b_lo, b_hi = -b_hi, -b_lo
    lo, hi = b_lo - a_hi, b_hi - a_lo
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None
