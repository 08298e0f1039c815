"""Verdicts: where a reported number falls in its simulated distribution.

For a target with simulated draws ``x_1..x_R`` (on the analysis scale: log for ratios, 1/x
for NNT, the natural scale otherwise) and reported value ``y``:

**Estimability.** A replicate whose analysis is not estimable gives no draw (NaN) and a
reason: the propensity model is separated, did not converge or has fitted probabilities
numerically 0 or 1; a matching finds no match; the Cox likelihood is monotone; a model
has no events or an arm is empty; or the estimate has no value (a time beyond follow-up,
a term forward selection did not keep). The verdict is computed on the ``n`` estimable
replicates, and is ``not estimable`` when ``n < MIN_ESTIMABLE * R`` (80%). Why 80%: the
published number necessarily comes from an estimable analysis, so conditioning on
estimability is right as long as that condition is the rule, not the exception. When
more than one cohort in five like the published one cannot be analysed the paper's way,
the conditional distribution describes an atypical subset of cohorts and the finding is
the failure itself (e.g. "propensity model separated in 200/200 replicates"). 80% also
keeps at least 160 draws at the default R = 200, i.e. >= 4 draws beyond each end of the
central 95% interval, so its ends are not set by one or two draws.

**Position and z.** ``F(y)`` is the mid-rank empirical CDF of the draws: at a value ``u``
taken by ``m`` draws with ``c`` draws below it, ``F(u) = (c + m/2) / n`` (the mid-p
convention for ties, which discrete quantities such as counts, rates and KM medians
have); between two consecutive distinct draw values it is interpolated linearly (so it is
continuous and increasing; without ties it is the inverse of Hazen's type-5 quantile),
and across a gap to an infinite draw (median not reached) it stays at the share of draws
below. The z-score is ``z = Phi^-1(F(y))``.

**Verdict.** ``reproduced`` iff ``0.025 <= F(y) <= 0.975``, i.e. ``|z| <= 1.96``; the
central 95% interval shown, ``[lo, hi]`` with ``F(lo) = 0.025`` and ``F(hi) = 0.975``, is
exactly the set of reproduced values, so the interval, z and verdict always agree (a
robust-SD z did not: for skewed quantities it gave "not reproduced" at ``|z| = 1.05`` and
"reproduced" at ``|z| = 2.1``). ``borderline`` iff ``|z|`` is within ``BORDERLINE_Z``
(0.5) of 1.96: the Monte Carlo SE of ``F`` at 0.025 is ``sqrt(0.025 * 0.975 / 200)`` =
0.011 at R = 200, i.e. about 0.19 on the z scale, so a verdict outside that band flips
between two seeds only when z moves by more than 1.0 (about 3.7 SE of a difference).

**Monte Carlo error and ``undetermined``.** The position ``F`` is itself an estimate
from ``n`` draws. Its Monte Carlo SE is ``sqrt(F (1 - F) / n)`` for independent replicates
(``F`` kept within ``[0.5/n, 1 - 0.5/n]``) and, when the replicates come in blocks that
share a drawn world (:mod:`replications.world_uncertainty`), the batch-means SE
``sd(F_b) / sqrt(K)`` over the ``K`` blocks' own positions when larger and ``K >=
MIN_BATCHES`` (4; the worlds' spread is part of the error); z's is ``SE(F) / phi(z)`` (delta method). A verdict whose
``F`` lies within ``UNDETERMINED_SE`` (2) Monte Carlo SEs of a bound of the central 95%
(0.025 or 0.975) is ``near_boundary``: another seed could flip it. The reproduction then
adds replicates (doubling R, up to 4 R, for the whole study) and, if it is still there,
the verdict is ``undetermined`` ("undetermined at R replicates"), which summaries and
reports count apart from ``reproduced`` and ``not reproduced``: the seed does not decide.

**Beyond the simulated range** (``y`` below every draw or above every draw, ``F = 0`` or
1) the probit is infinite; z falls back to the robust-SD distance ``(y - m) / s`` (median
``m``, ``s = 1.4826 MAD``), but never less extreme than the most extreme draw's z and
always beyond 1.96, so it stays coherent with the verdict ``not reproduced`` (and with
z's monotonicity in ``y``); it is flagged ``z_extrapolated``.

**Printed precision.** A number printed as ``1.00`` stands for every value that rounds to
it, ``[0.995, 1.005]``; with ``half_unit`` (half a unit of the last printed digit) the
verdict places the point of that interval nearest the simulated median,
``y* = clip(median, y - half_unit, y + half_unit)`` (carried to the analysis scale), so a
number is reproduced when any value it stands for is, and z is that point's. Without it
(or for a value printed exactly) ``y* = y``. The residual stays ``y - median``. A number
computed from printed numbers (a shift between two printed estimates) stands for the values
their rounding allows together, ``printed`` (on the analysis scale: each printed number's
interval carried to its scale, combined by interval arithmetic), and is placed alike,
``y* = clip(median, printed)``.

``not estimable`` also when the simulated median itself is infinite (e.g. median survival
not reached) or when there is no reported value to place. A median *printed* as not
reached is judged by how often the simulated median is not reached
(:func:`judge_not_reached`).

``reproduced`` means the published number is among the values the calibrated simulation of
the study, analysed the paper's way, produces 95% of the time; it does not mean the number
is right, and ``not reproduced`` does not mean it is wrong: either may reflect the
simulation's assumptions (e.g. proportional hazards, no unmeasured confounding).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np
from scipy import special

from .midrank import cdf_on, interval_on, midrank_cdf, midrank_interval, sorted_ladder
from .scales import analysis_scale, from_scale, to_scale

__all__ = ["Judgement", "judge", "judge_not_reached", "analysis_scale", "to_scale", "from_scale", "midrank_cdf",
           "midrank_interval",
           "estimability_reason", "MIN_ESTIMABLE", "BORDERLINE_Z", "Z_CRIT", "ALPHA",
           "UNDETERMINED", "UNDETERMINED_SE", "NOT_SIMULATED", "world_verdicts", "position_mcse", "settle",
           "printed_ends"]

MIN_ESTIMABLE = 0.8
BORDERLINE_Z = 0.5
UNDETERMINED = "undetermined"
#: The verdict of a number the study folder cannot simulate (a spec gap: no draws), apart
#: from "not estimable" (draws exist, but the analysis fails on data like the paper's).
NOT_SIMULATED = "not simulated"
#: The verdict columns of a worlds table: "not simulated" only where a world has one
WORLD_VERDICTS = ("reproduced", "not reproduced", "not estimable", "undetermined")


def world_verdicts(counts) -> tuple[str, ...]:
    """The verdict columns of a worlds table whose rows count ``counts`` (verdict -> n
    dicts): a spec gap is counted apart from "not estimable", when there is one."""
    return WORLD_VERDICTS + ((NOT_SIMULATED,) if any(c.get(NOT_SIMULATED) for c in counts)
                             else ())
UNDETERMINED_SE = 2.0
#: Fewest blocks whose batch means estimate an SE (with 1-2 degrees of freedom the
#: estimate is noise: the binomial SE alone is used)
MIN_BATCHES = 4
ALPHA = 0.05
Z_CRIT = float(special.ndtri(1 - ALPHA / 2))        # 1.959964


@dataclass(frozen=True)
class Judgement:
    verdict: str                    # reproduced | not reproduced | not estimable | undetermined
    median: float = math.nan        # on the natural scale
    lo: float = math.nan            # central 95% interval (the reproduced values)
    hi: float = math.nan
    robust_sd: float = math.nan     # on the analysis scale
    z: float = math.nan             # probit of the mid-rank position
    borderline: bool = False
    n_estimable: int = 0
    n_reps: int = 0
    residual: float = math.nan      # reported - simulated median, analysis scale
    mcse_median: float = math.nan   # Monte Carlo SE of the simulated median, analysis scale
    reason: str = ""
    position: float = math.nan      # mid-rank F(reported), 0..1
    z_extrapolated: bool = False    # reported value outside the simulated range
    mcse_position: float = math.nan  # Monte Carlo SE of F
    mcse_z: float = math.nan        # ... and of z (delta method)
    near_boundary: bool = False     # F within UNDETERMINED_SE MC SEs of 0.025 or 0.975

    @property
    def estimable_share(self) -> float:
        return self.n_estimable / self.n_reps if self.n_reps else math.nan


def estimability_reason(n_ok: int, R: int, failures: Mapping[str, int] | None) -> str:
    """'estimable n/R: <reason> in k; ...' (largest counts first)."""
    text = f"estimable {n_ok}/{R}"
    if failures:
        parts = [f"{why} in {k}" for why, k in
                 sorted(failures.items(), key=lambda kv: (-kv[1], kv[0])) if k]
        text += ": " + "; ".join(parts)
    return text


def _robust_sd(v: np.ndarray, med: float) -> float:
    dev = np.median(np.abs(v - med))
    return 1.4826 * float(dev) if np.isfinite(dev) else math.inf


def position_mcse(x: np.ndarray, y: float, F: float, blocks: np.ndarray | None = None
                  ) -> float:
    """Monte Carlo SE of the mid-rank position ``F`` of ``y`` in the draws ``x`` (analysis
    scale, NaN = not estimable): binomial, or the batch means over ``blocks`` (the block
    of each draw) when larger; see "Monte Carlo error" above.

    Parameters
    ----------
    x : array
        Draws on the analysis scale, NaN where not estimable.
    y : float
        The point placed (analysis scale).
    F : float
        Its position among the estimable draws.
    blocks : array of int, optional
        Block of each draw (replicates sharing a drawn world).

    Returns
    -------
    float

    References
    ----------
    Flegal JM, Jones GL. Batch means and spectral variance estimators in Markov chain
    Monte Carlo. Ann Stat 2010;38:1034-1070.
    """
    ok = ~np.isnan(x)
    n = int(ok.sum())
    Fc = min(max(F, 0.5 / n), 1 - 0.5 / n)
    se = math.sqrt(Fc * (1 - Fc) / n)
    if blocks is not None:
        fb = [midrank_cdf(x[(blocks == b) & ok], y) for b in np.unique(blocks)
              if ((blocks == b) & ok).sum() >= 2]
        if len(fb) >= MIN_BATCHES:
            se = max(se, float(np.std(fb, ddof=1)) / math.sqrt(len(fb)))
    return se


def settle(j: Judgement) -> Judgement:
    """``undetermined`` for a verdict still within ``UNDETERMINED_SE`` Monte Carlo SEs of
    the boundary (call it once no more replicates will be added)."""
    if not j.near_boundary or j.verdict not in ("reproduced", "not reproduced"):
        return j
    side = f"{ALPHA / 2 if j.position < 0.5 else 1 - ALPHA / 2:g}"
    why = (f"undetermined at {j.n_reps} replicates: F = {j.position:.4f} is within "
           f"{UNDETERMINED_SE:g} MC SE ({j.mcse_position:.4f}) of {side} "
           f"(z = {j.z:+.2f} +- {j.mcse_z:.2f})")
    return replace(j, verdict=UNDETERMINED, reason="; ".join(x for x in (why, j.reason) if x))


def judge(draws, reported, scale: str = "identity", *, min_estimable: float = MIN_ESTIMABLE,
          failures: Mapping[str, int] | None = None, half_unit: float = 0.0,
          blocks: np.ndarray | None = None,
          printed: tuple[float, float] | None = None) -> Judgement:
    """Place ``reported`` in the simulated ``draws`` (both on the natural scale).

    ``draws`` holds NaN for replicates that are not estimable; ``failures`` (reason ->
    replicates) says why, for the reason text; ``half_unit`` is half a unit of the
    reported number's last printed digit (natural scale; see "Printed precision");
    ``blocks`` the block (drawn world) of each draw, for the Monte Carlo SE of F;
    ``printed`` (instead of ``half_unit``) the interval of values a number computed from
    printed numbers stands for, on the analysis scale.
    """
    x = to_scale(draws, scale)
    R = x.size
    ok = ~np.isnan(x)
    n_ok = int(ok.sum())
    share = estimability_reason(n_ok, R, failures) if n_ok < R else ""
    if reported is None or (isinstance(reported, float) and math.isnan(reported)):
        return Judgement("not estimable", n_estimable=n_ok, n_reps=R,
                         reason="no reported value")
    if R == 0 or n_ok < min_estimable * R:
        return Judgement("not estimable", n_estimable=n_ok, n_reps=R,
                         reason=(share or f"estimable {n_ok}/{R}")
                         + f" (< {min_estimable:.0%} needed for a verdict)")
    v = np.sort(x[ok])
    with np.errstate(invalid="ignore"):         # +inf when a majority is not reached
        # np.median's value, read off the sorted draws (the middle one, or the mean of
        # the two middle ones: their sum over 2, as np.mean of two numbers)
        mid = v.size // 2
        med = float(v[mid] if v.size % 2 else (v[mid - 1] + v[mid]) / 2.0)
    ladder = sorted_ladder(v)
    lo, hi = interval_on(ladder)
    y = float(to_scale([reported], scale)[0])
    base = dict(median=from_scale(med, scale), lo=from_scale(lo, scale),
                hi=from_scale(hi, scale), n_estimable=n_ok, n_reps=R)
    if scale == "inverse":      # 1/x reverses the order of the interval ends
        base["lo"], base["hi"] = min(base["lo"], base["hi"]), max(base["lo"], base["hi"])
    if y == math.inf and scale == "identity":     # a median printed as not reached
        return judge_not_reached(x, base, share, blocks)
    if not math.isfinite(med):
        return Judgement("not estimable", **base, reason="the simulated median is infinite "
                         "(e.g. not reached)" + (f"; {share}" if share else ""))
    if math.isnan(y):
        return Judgement("not estimable", **base, reason=f"reported value {reported!r} is "
                         f"not defined on the {scale} scale")
    sd = _robust_sd(v, med)
    resid = y - med
    ends = printed if printed is not None else (
        printed_ends(float(reported), half_unit, scale) if half_unit > 0 else None)
    if ends is not None:        # the value it stands for nearest the simulated median
        y = min(max(med, ends[0]), ends[1])
    F = cdf_on(ladder, y)
    extrapolated = F in (0.0, 1.0)
    if extrapolated:
        edge = cdf_on(ladder, v[0] if F == 0.0 else v[-1])
        z_edge = abs(float(special.ndtri(edge)))
        dist = abs(y - med) / sd if sd > 0 else math.inf
        # never inside the critical value: F = 0 or 1 is outside the interval
        z = math.copysign(max(dist, z_edge, math.nextafter(Z_CRIT, math.inf)), F - 0.5)
    else:
        z = float(special.ndtri(F))
    inside = ALPHA / 2 <= F <= 1 - ALPHA / 2
    # ndtri(0.025) and -ndtri(0.975) differ in the last bit: keep |z| <= Z_CRIT <=> inside
    z = max(-Z_CRIT, min(Z_CRIT, z)) if inside else \
        math.copysign(max(abs(z), math.nextafter(Z_CRIT, math.inf)), z)
    border = abs(abs(z) - Z_CRIT) < BORDERLINE_Z
    mcse = 1.2533 * sd / math.sqrt(n_ok) if math.isfinite(sd) else math.nan
    se_f = position_mcse(x, y, F, None if blocks is None else np.asarray(blocks))
    gap = min(abs(F - ALPHA / 2), abs(F - (1 - ALPHA / 2)))
    se_z = se_f / float(np.exp(-0.5 * min(abs(z), 8.0) ** 2) / math.sqrt(2 * math.pi))
    return Judgement("reproduced" if inside else "not reproduced", **base, robust_sd=sd,
                     z=z, borderline=border, residual=resid, mcse_median=mcse,
                     reason=share, position=F, z_extrapolated=extrapolated,
                     mcse_position=se_f, mcse_z=se_z,
                     near_boundary=gap < UNDETERMINED_SE * se_f)


def printed_ends(reported: float, half_unit: float, scale: str) -> tuple[float, float] | None:
    """The values that round to ``reported`` (``+- half_unit``, natural scale), as an
    interval on the analysis scale; None where the scale does not define it."""
    lo, hi = reported - half_unit, reported + half_unit
    if scale in ("log", "inverse"):
        lo = max(lo, reported / 2 if reported > 0 else lo)   # keep a ratio positive
    ends = sorted(float(e) for e in to_scale([lo, hi], scale))
    if any(math.isnan(e) for e in ends):
        return None
    return ends[0], ends[1]


def judge_not_reached(x: np.ndarray, base: dict, share: str = "",
                      blocks: np.ndarray | None = None) -> Judgement:
    """Judge a median printed as not reached against simulated medians.

    A Kaplan-Meier median is not reached when the curve stays above 1/2 until the last
    follow-up: the printed outcome is the event "not reached", not a number. Its simulated
    counterpart is the share ``q`` of (estimable) replicates whose median is not reached
    (``+inf`` draws). "Not reached" is the most extreme outcome a median can have, so ``q``
    is the probability of a result at least as extreme as the printed one: the printed NR is
    ``reproduced`` iff ``q >= ALPHA / 2`` (the same two-sided 5% rule as every other verdict:
    a number is reproduced unless it lies in the simulated distribution's upper or lower
    2.5% tail). The position is ``F = 1 - q`` (the share of replicates with a finite median,
    all below NR) and ``z = max(0, Phi^-1(F))`` (an NR is never too low), so ``|z| <= 1.96``
    iff reproduced. The Monte Carlo SE of ``q`` is binomial, or the batch means over the
    drawn worlds when larger, as for other verdicts; within ``UNDETERMINED_SE`` of
    ``ALPHA / 2`` the verdict is ``near_boundary``.

    Parameters
    ----------
    x : ndarray
        The simulated medians (NaN: not estimable; +inf: not reached).
    base : dict
        The Judgement fields already computed (median, interval, counts).
    share : str
        The estimability text, if some replicates were not estimable.
    blocks : ndarray, optional
        The drawn world of each replicate (batch-means Monte Carlo SE).

    Returns
    -------
    Judgement
        ``position`` is ``1 - q``, ``q`` the share of replicates not reached.

    References
    ----------
    Brookmeyer R, Crowley J. A confidence interval for the median survival time.
    Biometrics 1982;38:29-41 (the median as the first time the curve reaches 1/2).
    """
    ok = ~np.isnan(x)
    nr = np.isposinf(x) & ok
    n = int(ok.sum())
    q = float(nr.sum() / n)
    qc = min(max(q, 0.5 / n), 1 - 0.5 / n)
    se = math.sqrt(qc * (1 - qc) / n)
    if blocks is not None:
        blocks = np.asarray(blocks)
        qb = [nr[(blocks == b) & ok].mean() for b in np.unique(blocks) if ((blocks == b) & ok).sum() >= 2]
        if len(qb) >= MIN_BATCHES:
            se = max(se, float(np.std(qb, ddof=1)) / math.sqrt(len(qb)))
    inside = q >= ALPHA / 2
    extrapolated = q == 0.0
    z = max(0.0, float(special.ndtri(1 - q))) if q > 0 else math.inf
    z = min(z, Z_CRIT) if inside else max(z, math.nextafter(Z_CRIT, math.inf))
    if extrapolated:        # no replicate reached NR: z only says "beyond every draw"
        z = math.nextafter(Z_CRIT, math.inf)
    dens = float(np.exp(-0.5 * min(abs(z), 8.0) ** 2) / math.sqrt(2 * math.pi))
    reason = f"median not reached in {int(nr.sum())}/{n} replicates (P = {q:.3f}; reproduced when >= {ALPHA / 2:g})"
    return Judgement("reproduced" if inside else "not reproduced", **base, z=z,
                     borderline=abs(z - Z_CRIT) < BORDERLINE_Z, reason="; ".join(r for r in (reason, share) if r),
                     position=1 - q, z_extrapolated=extrapolated, mcse_position=se, mcse_z=se / dens,
                     near_boundary=abs(q - ALPHA / 2) < UNDETERMINED_SE * se)
