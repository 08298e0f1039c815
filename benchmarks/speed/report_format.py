"""Formatting shared by the sections of the speed report: times, table cells, verdicts,
and the index of a pytest-benchmark JSON by case (times per replicate)."""
from __future__ import annotations

import math


def fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def cell(b: dict | None) -> str:
    if b is None:
        return "–"
    s = b["stats"]
    return (f"{fmt_time(s['median'])} [{fmt_time(s['q1'])}–{fmt_time(s['q3'])}], "
            f"min {fmt_time(s['min'])}")


def met(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


_TIMES = ("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3")


def index(data: dict) -> dict[str, dict]:
    """Benchmarks by case, with the times of a call that runs ``per_call`` replicates
    divided by ``per_call`` (time per replicate)."""
    out = {}
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        case = info.get("case")
        if case:
            k = int(info.get("per_call", 1))
            if k > 1:
                stats = {key: (v / k if key in _TIMES else v) for key, v in b["stats"].items()}
                b = {**b, "stats": stats}
            out[case] = b
    return out


def median_of(ix: dict, case: str) -> float:
    b = ix.get(case)
    return b["stats"]["median"] if b else math.nan
