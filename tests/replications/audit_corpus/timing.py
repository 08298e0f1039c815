"""Kaplan-Meier medians and rates, and the claims of durations, of a constructed paper."""
from __future__ import annotations

import math

from .numbers import _dec, pct


def _survival(P, rng, slips: set) -> None:
    for arm in ("A", "B"):
        m = float(_dec(rng.uniform(5, 10), 1))
        s12 = math.exp(-math.log(2) * 12 / m)
        rate = pct(s12 * 1000, 1000)
        if arm == "A" and "km_rate" in slips:
            rate = _dec(rng.uniform(55, 70), 1)
        if "symmetric_range" in slips:
            d = float(_dec(rng.uniform(2, 4.5), 1))
            lo, hi = _dec(m - d, 1), _dec(m + d, 1)
        else:
            lo, hi = _dec(m * rng.uniform(0.1, 0.3), 1), _dec(m * rng.uniform(2.5, 4), 1)
        text = f"{m:.1f}"
        garbled = arm == "B" and "malformed" in slips
        shown = f"{text}.0" if garbled else text
        src = f"median OS in {arm} was {shown} months (range {lo}-{hi}); 12-month OS {rate}%"
        mid = P.add(f"os_median_{arm.lower()}", analysis="crude", quantity="km_median",
                    endpoint="os", arm=arm, value=m, ci=[float(lo), float(hi)],
                    interval="range", where="text", source=src)
        rid = P.add(f"os_rate12m_{arm.lower()}", analysis="crude", quantity="km_rate",
                    endpoint="os", arm=arm, time=12, percent=float(rate), where="text",
                    source=src)
        if arm == "A" and "km_rate" in slips:
            P.plant("km_rate", rid)
        s24 = math.exp(-math.log(2) * 24 / m)
        rate24 = pct(s24 * 1000, 1000)
        rises = arm == "B" and "km_rate_rises" in slips and float(rate) < 89
        if rises:
            rate24 = _dec(float(rate) + rng.uniform(3, 10), 1)
        r24 = P.add(f"os_rate24m_{arm.lower()}", analysis="crude", quantity="km_rate",
                    endpoint="os", arm=arm, time=24, percent=float(rate24), where="text",
                    source=f"24-month OS in {arm} {rate24}%")
        if rises:
            P.plant("km_rate_rises", r24)
        if "symmetric_range" in slips:
            P.plant("symmetric_range", mid)
        if garbled:
            P.plant("malformed", mid)


def _claims(P, rng, slips: set) -> None:
    weeks = int(rng.integers(20, 60))
    months = weeks * 7 / (365.25 / 12)
    shown = _dec(weeks / 4 if "conversion" in slips else months, 1)
    P.claims.append({"id": "duration", "kind": "conversion", "where": "text", "value": weeks,
                     "unit": "weeks", "converted": float(shown), "converted_unit": "months",
                     "quote": f"a median of {weeks} weeks ({shown} months)"})
    if "conversion" in slips:
        P.plant("conversion", "claim duration")
    window = int(rng.integers(30, 60))
    start = 2010 * 12
    end = start + window - 1
    longest = window + 4.3 if "follow_up" in slips else window - rng.uniform(1, 6)
    P.claims.append({"id": "followup", "kind": "follow_up", "where": "text",
                     "follow_up_max": round(float(longest), 1),
                     "window": [f"{start // 12}-{start % 12 + 1:02d}",
                                f"{end // 12}-{end % 12 + 1:02d}"],
                     "quote": f"follow-up up to {round(float(longest), 1)} months"})
    if "follow_up" in slips:
        P.plant("follow_up", "claim followup")
