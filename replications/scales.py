"""The analysis scale of a reported quantity, on which its verdict is judged.

Ratios (hazard, odds and risk ratios) are judged on the log scale, the number needed to
treat on the inverse scale (1/x: its sampling distribution crosses infinity, its inverse,
a risk difference, does not), every other quantity on its natural scale.
"""
from __future__ import annotations

import math

import numpy as np


def analysis_scale(quantity: str) -> str:
    """The scale a quantity is judged on: log for ratios, 1/x for NNT, else natural."""
    return {"hr": "log", "odds_ratio": "log", "risk_ratio": "log",
            "nnt": "inverse"}.get(quantity, "identity")


def to_scale(x, scale: str):
    """Map values to the analysis scale (``log``, ``inverse``, ``identity``/``linear``)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if scale == "log":
            return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)
        if scale == "inverse":
            return np.where(x != 0, 1.0 / np.where(x != 0, x, 1.0), np.inf)
    return x


def from_scale(x: float, scale: str) -> float:
    if not math.isfinite(x):
        return x
    if scale == "log":
        return math.exp(x)
    if scale == "inverse":
        return math.inf if x == 0 else 1.0 / x
    return x
