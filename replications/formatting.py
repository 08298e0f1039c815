"""Numbers as the reports print them: one rule for the terminal table and the HTML report."""
from __future__ import annotations

import math

__all__ = ["fmt_value", "fmt_estimate", "growth_note"]

_PERCENT = {"km_rate", "rate", "proportion", "arr", "risk", "risk_difference"}


def fmt_value(v, quantity: str = "") -> str:
    """A value at the precision its kind is printed with.

    Parameters
    ----------
    v : float or None
        The value (natural scale); None or NaN prints "-", +inf "NR" (not reached).
    quantity : str
        The target's quantity: rates and proportions print as percentages, ratios with
        two decimals, counts as integers, shifts signed with three decimals.

    Returns
    -------
    str
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "NR" if v > 0 else "-inf"
    if quantity in _PERCENT:
        return f"{100 * v:.1f}%"
    if quantity in ("hr", "odds_ratio", "risk_ratio"):
        return f"{v:.2f}"
    if quantity in ("group_size", "count"):
        return f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.1f}"
    if quantity == "shift":
        return f"{v:+.3f}"
    if abs(v) >= 1e5:
        return f"{v:.2e}"
    if quantity == "nnt" or abs(v) < 1:
        return f"{v:.3g}"
    return f"{v:.1f}"


#: quantities whose fmt_value keeps one rule at every size (no per-value precision)
_FIXED = _PERCENT | {"hr", "odds_ratio", "risk_ratio", "group_size", "count", "shift", "nnt"}


def fmt_estimate(median, lo, hi, quantity: str = "") -> tuple[str, str, str]:
    """A simulated median and its 95% interval at one precision.

    :func:`fmt_value` prints a value under 1 with three significant digits and a larger
    one with one decimal, so one interval mixed them ("2.7 [0.154, 4.8]", "0.0201
    [0.000759, 0.084]"). Here the three numbers share the decimals :func:`fmt_value`
    gives the largest of them ("2.7 [0.2, 4.8]", "0.0201 [0.0008, 0.0840]"); kinds with
    one rule at every size (percentages, ratios, counts, shifts, NNT), values of 1e5 or
    more, and missing or infinite values print as :func:`fmt_value` prints them.

    Returns
    -------
    tuple of str
        The median, the lower and the upper bound.
    """
    values = (median, lo, hi)
    finite = [abs(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    top = max(finite, default=0.0)
    if quantity in _FIXED or not 0 < top < 1e5:
        return tuple(fmt_value(v, quantity) for v in values)
    decimals = 1 if top >= 1 else 2 - math.floor(math.log10(top))
    return tuple(_fixed(v, decimals) if isinstance(v, (int, float)) and math.isfinite(v)
                 else fmt_value(v, quantity) for v in values)


def _fixed(v: float, decimals: int) -> str:
    text = f"{v:.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text   # no -0.0


def growth_note(grown_from: int | None, grown_for, ids: bool = True) -> str:
    """The R a run was asked for and the numbers that grew it (``""`` when it did not
    grow); ``ids``: name up to three of them, and the option that caps R."""
    if grown_from is None:
        return ""
    grown_for = list(grown_for or ())
    text = (f"grown from the R = {grown_from} asked for: {len(grown_for)} number(s) were "
            "within Monte Carlo error of a bound there")
    if not ids:
        return text
    shown = ", ".join(grown_for[:3]) + (" ..." if len(grown_for) > 3 else "")
    return f"{text} ({shown}); --max-reps caps R"
