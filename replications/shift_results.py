"""Results of a paired shift (``to`` minus ``from`` between two reported numbers): its
verdict, and what leaving each covariate out of the adjustment changes in it.

:func:`judge_shift` judges a shift on the paired draws of its two ends, as
:func:`replications.summaries.summarise` judges a single target; the leave-one-covariate-out
contributions (:class:`Contribution`) come from the decomposition replicates.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .verdicts import MIN_ESTIMABLE, NOT_SIMULATED, judge, settle, to_scale


@dataclass(frozen=True)
class Contribution:
    """What leaving one covariate out of the adjustment changes in the simulated shift.

    ``mean`` is the mean over replicates of shift(full) - shift(without the covariate):
    additive, so contributions compare with the shift itself. It uses the replicates where
    both the full and the reduced analysis are estimable (the rule of
    :mod:`replications.verdicts`: a separated propensity model gives no draw, not weights
    of 1e15), and is NaN, with ``reason``, when fewer than ``MIN_ESTIMABLE`` of the
    decomposition replicates are. ``lo``/``hi`` the central 95% of that paired difference,
    ``mcse`` the Monte Carlo SE of the mean (SD / sqrt(n)), ``n`` the replicates used.
    """

    term: str
    mean: float
    lo: float
    hi: float
    mcse: float = math.nan
    n: int = 0
    reason: str = ""


CONTRIBUTION_COLUMNS = ["study", "shift", "term", "mean", "lo", "hi", "mcse", "n", "reason"]


@dataclass(frozen=True)
class ShiftResult:
    id: str
    from_: str
    to: str
    scale: str
    role: str
    required: bool
    reported: float | None
    verdict: str
    median: float
    lo: float
    hi: float
    z: float
    borderline: bool
    sd: float                # MC spread (robust SD) of the paired shift
    sd_from: float           # robust SD of each end alone, same scale
    sd_to: float
    mcse: float              # Monte Carlo SE of the simulated median shift
    n_estimable: int
    contributions: tuple[Contribution, ...] = ()
    reason: str = ""
    n_reps: int = 0
    z_extrapolated: bool = False
    position: float = math.nan
    spec_gap: bool = False           # an end is not simulated
    mcse_z: float = math.nan


def _merge(*counts) -> dict[str, int]:
    """Failure counts of a paired quantity, which lacks a draw wherever either end does:
    per reason the larger of the two ends' counts (exact when one end has that reason)."""
    out: dict[str, int] = {}
    for c in counts:
        for k, v in (c or {}).items():
            out[k] = max(out.get(k, 0), v)
    return out


def judge_shift(s, col, draws, declared, plan, why, blocks=None, printed=None) -> ShiftResult:
    """The shift judged on ``draws`` (each end under its reading) as the value ``printed``
    (:func:`shift_printed`) nearest its simulated median; the leave-one-covariate-out
    contributions come from the ``declared`` reading, the one the decomposition ran."""
    scale = "log" if s.scale == "log" else "identity"
    R = draws.shape[0]
    if s.from_ not in col or s.to not in col:
        return ShiftResult(s.id, s.from_, s.to, s.scale, s.role, s.required, s.reported,
                           NOT_SIMULATED, *([math.nan] * 4), False, *([math.nan] * 4), 0,
                           reason="an end of the shift is not simulated", n_reps=R,
                           spec_gap=True)
    a = to_scale(draws[:, col[s.from_]], scale)
    b = to_scale(draws[:, col[s.to]], scale)
    paired = s.orientation * b - a if scale == "log" else b - a
    j = settle(judge(paired, s.reported, "identity", blocks=blocks, printed=printed,
                     failures=_merge(why.get(s.from_), why.get(s.to))))
    sd_a = _spread(a)
    sd_b = _spread(b)
    contrib = []
    base = len(plan.target_ids)
    n_dec = min(plan.decompose_reps, R)
    a0 = to_scale(declared[:, col[s.from_]], scale)
    b0 = to_scale(declared[:, col[s.to]], scale)
    paired0 = s.orientation * b0 - a0 if scale == "log" else b0 - a0
    for k, (aname, term, tid) in enumerate(plan.loco_keys):
        if tid != s.to:
            continue
        without = to_scale(declared[:n_dec, base + k], scale)
        alt = s.orientation * without - a0[:n_dec] if scale == "log" else \
            without - a0[:n_dec]
        contrib.append(_contribution(term, paired0[:n_dec] - alt, n_dec))
    contrib.sort(key=lambda c: -abs(c.mean) if math.isfinite(c.mean) else math.inf)
    return ShiftResult(s.id, s.from_, s.to, s.scale, s.role, s.required, s.reported,
                       j.verdict, j.median, j.lo, j.hi, j.z, j.borderline, j.robust_sd, sd_a,
                       sd_b, j.mcse_median, j.n_estimable, tuple(contrib), j.reason, R,
                       j.z_extrapolated, j.position, mcse_z=j.mcse_z)


def _spread(x: np.ndarray) -> float:
    """Robust SD (1.4826 MAD) of the finite draws of one end."""
    x = x[np.isfinite(x)]
    if not x.size:
        return math.nan
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def _contribution(term: str, d: np.ndarray, n_dec: int) -> Contribution:
    """LOCO contribution from the paired differences ``d`` over the decomposition
    replicates; the estimability rule of the verdicts applies to the pairs."""
    ok = d[np.isfinite(d)]
    if n_dec == 0 or ok.size < MIN_ESTIMABLE * n_dec:
        return Contribution(term, math.nan, math.nan, math.nan, math.nan, int(ok.size),
                            reason=f"estimable {ok.size}/{n_dec} (< {MIN_ESTIMABLE:.0%})")
    lo, hi = np.quantile(ok, [0.025, 0.975])
    sd = float(ok.std(ddof=1)) if ok.size > 1 else math.nan
    return Contribution(term, float(ok.mean()), float(lo), float(hi),
                        sd / math.sqrt(ok.size), int(ok.size))
