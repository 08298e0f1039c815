"""The number a target is judged on, as the paper prints it.

Which field of a target holds that number, half a unit of its last printed digit (the
rounding interval a verdict places the number in) and its printed text.
"""
from __future__ import annotations

import re

_NUMERAL = re.compile(r"\d[\d,]*(\.\d+)?|\.\d+")


def printed_field(t, quantity: str) -> str:
    """The field of ``t`` holding the number it is judged on (:func:`~.analysis.compile.reported_value`)."""
    return ("count" if quantity == "count" and t.value is None else
            "p" if quantity == "p_value" else "value")


def printed_half_unit(t, quantity: str) -> float:
    """Half a unit of the last printed digit of the number a target is judged on; 0 for
    a count of people (an unweighted count or group size: "82 patients" is exactly 82,
    so the verdict places y* = y, as the audit's printed intervals do), not for a weighted
    one (a weighted group size of 296 stands for [295.5, 296.5])."""
    if quantity in ("count", "group_size") and not t.weighted:
        return 0.0
    return t.resolution(printed_field(t, quantity))


def reported_text(t, quantity: str) -> str:
    """The number a target is judged on as the paper prints it (``"13.97"``, ``"62.73%"``:
    the float forgets trailing digits and zeros); ``""`` when its printed form is unknown
    or is not a numeral (``"seven"``)."""
    field = printed_field(t, quantity)
    text = t.printed_text(field)
    if text is None or not _NUMERAL.fullmatch(text):
        return ""
    return text + ("%" if t.percent_scale and field == "value" else "")
