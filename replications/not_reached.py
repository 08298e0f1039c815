"""Verdict on a median printed as not reached ("NR").

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
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special

from .verdicts import ALPHA, BORDERLINE_Z, MIN_BATCHES, UNDETERMINED_SE, Z_CRIT, Judgement

__all__ = ["judge_not_reached"]


def judge_not_reached(x: np.ndarray, base: dict, share: str = "",
                      blocks: np.ndarray | None = None) -> Judgement:
    """Judge a median printed as not reached against simulated medians.

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
