"""Variables the field defines from others: ALBI score and grade, Child-Pugh points/class.

ALBI (Johnson et al., J Clin Oncol 2015): ``ALBI = 0.66 log10(bilirubin [umol/L]) -
0.085 albumin [g/L]``; grade 1 if ``<= -2.60``, grade 2 if ``<= -1.39``, else grade 3
(coded 0, 1, 2 with levels "1", "2", "3").

Child-Pugh points (Pugh et al., Br J Surg 1973), 5-15: bilirubin <34 / 34-50 / >50
umol/L; albumin >35 / 28-35 / <28 g/L; INR <1.7 / 1.7-2.3 / >2.3; ascites and
encephalopathy none / mild / moderate-severe (a binary input counts as none/mild;
an optional input not given counts as none). Class A (5-6), B (7-9), C (10-15), coded 0, 1, 2.
A derived value is missing wherever one of its inputs is made missing
(:func:`~simulate.plan.propagate_missing`).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .spec import Derived, SpecError

ALBI_CUTS = (-2.60, -1.39)

#: roles each kind needs (required) and may use (optional)
ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "albi_score": (("albumin", "bilirubin"), ()),
    "albi_grade": (("albumin", "bilirubin"), ()),
    "child_pugh_points": (("albumin", "bilirubin"), ("inr", "ascites", "encephalopathy")),
    "child_pugh_class": (("albumin", "bilirubin"), ("inr", "ascites", "encephalopathy")),
}
LEVELS = {"albi_grade": ("1", "2", "3"), "child_pugh_class": ("A", "B", "C")}


def check_roles(d: Derived, key: str) -> None:
    need, opt = ROLES[d.kind]
    missing = [r for r in need if r not in d.inputs]
    if missing:
        raise SpecError(f"{key}.inputs", f"{d.kind} needs inputs {list(need)}, missing {missing}")
    unknown = sorted(set(d.inputs) - set(need) - set(opt))
    if unknown:
        raise SpecError(f"{key}.inputs", f"unknown role(s) {unknown} for {d.kind}; allowed {list(need + opt)}")


def albi_score(albumin: np.ndarray, bilirubin: np.ndarray) -> np.ndarray:
    """ALBI linear predictor from albumin (g/L) and total bilirubin (umol/L)."""
    return 0.66 * np.log10(np.maximum(bilirubin, 1e-9)) - 0.085 * albumin


def albi_grade(score: np.ndarray) -> np.ndarray:
    """ALBI grade codes 0, 1, 2 (grades 1, 2, 3); NaN stays NaN."""
    g = np.searchsorted(np.asarray(ALBI_CUTS), score, side="left").astype(float)
    return np.where(np.isnan(score), np.nan, g)


def _points(x: np.ndarray, cut1: float, cut2: float, *, reverse: bool = False) -> np.ndarray:
    if reverse:  # higher is better (albumin)
        return np.where(x > cut2, 1.0, np.where(x >= cut1, 2.0, 3.0))
    return np.where(x < cut1, 1.0, np.where(x <= cut2, 2.0, 3.0))


def child_pugh_points(cols: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    pts = _points(cols["bilirubin"], 34.0, 50.0) + _points(cols["albumin"], 28.0, 35.0, reverse=True)
    pts = pts + (_points(cols["inr"], 1.7, 2.3) if "inr" in cols else 1.0)
    for role in ("ascites", "encephalopathy"):
        pts = pts + (1.0 + np.clip(cols[role], 0, 2) if role in cols else 1.0)
    return pts


def compute_derived(d: Derived, columns: Mapping[str, np.ndarray], n: int, memo: dict | None = None
                    ) -> np.ndarray:
    """Values of derived variable ``d`` from the generated ``columns``.

    ``memo`` (one dict per set of columns) shares the ALBI score or Child-Pugh points
    between the derived variables computed from the same inputs (score and grade).
    """
    cols = {role: columns[name] for role, name in d.inputs.items()}
    memo = {} if memo is None else memo
    if d.kind in ("albi_score", "albi_grade"):
        key = ("albi", d.inputs["albumin"], d.inputs["bilirubin"])
        if key not in memo:
            memo[key] = albi_score(cols["albumin"], cols["bilirubin"])
        s = memo[key]
        return s if d.kind == "albi_score" else albi_grade(s)
    key = ("child_pugh",) + tuple(sorted(d.inputs.items()))
    if key not in memo:
        memo[key] = child_pugh_points(cols, n)
    pts = memo[key]
    if d.kind == "child_pugh_points":
        return pts
    return np.where(pts <= 6, 0.0, np.where(pts <= 9, 1.0, 2.0))
