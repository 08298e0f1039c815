"""Verdicts: where a reported number falls in its simulated distribution.

For a target with simulated draws ``x_1..x_R`` (on the analysis scale: log for ratios, 1/x
for NNT, the natural scale otherwise) and reported value ``y``:

- the simulated median ``m`` and central 95% interval ``[q_2.5, q_97.5]`` (linear
  interpolation, numpy's and R's type 7);
- the robust SD ``s = 1.4826 * MAD`` (consistent for the normal SD, and finite when a few
  draws are infinite, e.g. a median not reached);
- ``z = (y - m) / s``;
- ``reproduced`` iff ``q_2.5 <= y <= q_97.5``; ``borderline`` iff ``y`` lies within 0.5
  robust SDs of either end of the interval (the Monte Carlo error of an end at R = 200 is
  about 0.2 SD, so verdicts away from that band are stable across seeds);
- ``not estimable`` when fewer than half the replicates give an estimate, when the
  simulated median itself is infinite (e.g. median survival not reached), or when there is
  no reported value to place.

``reproduced`` means the published number is among the values the calibrated simulation of
the study, analysed the paper's way, produces 95% of the time; it does not mean the number
is right, and ``not reproduced`` does not mean it is wrong: either may reflect the
simulation's assumptions (e.g. proportional hazards, no unmeasured confounding).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Judgement", "judge", "to_scale", "from_scale", "MIN_ESTIMABLE", "BORDERLINE_Z"]

MIN_ESTIMABLE = 0.5
BORDERLINE_Z = 0.5
_BIG = 1e300


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


@dataclass(frozen=True)
class Judgement:
    verdict: str                    # reproduced | not reproduced | not estimable
    median: float = math.nan        # on the natural scale
    lo: float = math.nan
    hi: float = math.nan
    robust_sd: float = math.nan     # on the analysis scale
    z: float = math.nan
    borderline: bool = False
    n_estimable: int = 0
    n_reps: int = 0
    residual: float = math.nan      # reported - simulated median, analysis scale
    mcse_median: float = math.nan   # Monte Carlo SE of the simulated median, analysis scale
    reason: str = ""


def _quantiles(v: np.ndarray, qs) -> np.ndarray:
    # +-inf (a median not reached) take part as extreme ranks, not as NaN; a quantile
    # interpolated towards an infinite draw lies beyond every finite one: it is infinite
    q = np.quantile(np.clip(v, -_BIG, _BIG), qs)
    fin = v[np.isfinite(v)]
    if fin.size == 0:
        return np.where(q > 0, np.inf, -np.inf)
    return np.where(q > fin.max(), np.inf, np.where(q < fin.min(), -np.inf, q))


def judge(draws, reported, scale: str = "identity", *, min_estimable: float = MIN_ESTIMABLE
          ) -> Judgement:
    """Place ``reported`` in the simulated ``draws`` (both on the natural scale)."""
    x = to_scale(draws, scale)
    R = x.size
    ok = ~np.isnan(x)
    n_ok = int(ok.sum())
    if reported is None or (isinstance(reported, float) and math.isnan(reported)):
        return Judgement("not estimable", n_estimable=n_ok, n_reps=R,
                         reason="no reported value")
    if R == 0 or n_ok < min_estimable * R:
        return Judgement("not estimable", n_estimable=n_ok, n_reps=R,
                         reason=f"estimable in {n_ok} of {R} replicates")
    v = x[ok]
    lo, med, hi = _quantiles(v, [0.025, 0.5, 0.975])
    y = float(to_scale([reported], scale)[0])
    base = dict(median=from_scale(float(med), scale), lo=from_scale(float(lo), scale),
                hi=from_scale(float(hi), scale), n_estimable=n_ok, n_reps=R)
    if scale == "inverse":      # 1/x reverses the order of the interval ends
        base["lo"], base["hi"] = min(base["lo"], base["hi"]), max(base["lo"], base["hi"])
    if not math.isfinite(med):
        return Judgement("not estimable", **base,
                         reason="the simulated median is infinite (e.g. not reached)")
    if math.isnan(y):
        return Judgement("not estimable", **base, reason=f"reported value {reported!r} is "
                         f"not defined on the {scale} scale")
    dev = np.abs(v - med)
    sd = 1.4826 * float(np.median(dev)) if np.isfinite(np.median(dev)) else math.inf
    if sd > 0:
        z = (y - med) / sd
    else:
        z = 0.0 if y == med else math.copysign(math.inf, y - med)
    inside = bool(lo <= y <= hi)
    border = False
    if 0 < sd < math.inf:
        ends = [e for e in (lo, hi) if math.isfinite(e)]
        border = any(abs(y - e) / sd < BORDERLINE_Z for e in ends)
    mcse = 1.2533 * sd / math.sqrt(n_ok) if math.isfinite(sd) else math.nan
    return Judgement("reproduced" if inside else "not reproduced", **base, robust_sd=sd,
                     z=z, borderline=border, residual=y - med, mcse_median=mcse)
