"""Printing helpers of the constructed papers: rounding as papers do, and 2 x 2 tests."""
from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import numpy as np
from scipy.stats import chi2_contingency, fisher_exact


def _dec(x: float, d: int, mode=ROUND_HALF_UP) -> str:
    return str(Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-d), rounding=mode))


def pct(c: int, n: int, truncate: bool = False) -> str:
    """``c / n`` as a percentage with one decimal, rounded half up or truncated."""
    return _dec(100 * c / n, 1, ROUND_DOWN if truncate else ROUND_HALF_UP)


def p_text(p: float) -> tuple[dict, str]:
    """Target keys and printed text of a p-value (three decimals, ``<0.001`` below)."""
    if p < 0.001:
        return {"p_text": "<0.001"}, "<0.001"
    s = _dec(p, 3)
    return {"p": float(s)}, s


def two_by_two(a: tuple[int, int], b: tuple[int, int], test: str) -> float:
    t = np.array([[a[0], a[1] - a[0]], [b[0], b[1] - b[0]]])
    if test == "Fisher exact":
        return float(fisher_exact(t).pvalue)
    return float(chi2_contingency(t, correction=test.endswith("(Yates)")).pvalue)


def _smd(p1: float, p2: float) -> float:
    den = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    return abs(p1 - p2) / den if den > 0 else 0.0
