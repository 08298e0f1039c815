"""Per-arm thresholds of a response column's latent, so the assessed patients' level shares
are the published ones.

Where the model's law of the latent in an arm is known exactly the thresholds are its
quantiles: the latent is standard normal when it carries no covariate effects and its
parent's latent is standard normal too (the death time's normal score ``W_D``, or a
column without effects), and the assessment is missing completely at random within the
arm (its probability the same for every patient of the arm), so the assessed patients'
latent is standard normal as well. A later assessment (``follows``) of such a column is
fitted on the patients not carried at the last level, whose latent is the
``sqrt(1 - rho^2)`` noise plus ``rho`` times a standard normal truncated above the
followed column's last threshold (:func:`carried_normal_cuts`). Otherwise (covariate
effects, missingness tied to early death, a chain of later assessments) the law has no
closed form and the thresholds are the weighted quantiles of the calibration sample's
latent (:func:`sample_cuts`), which miss the published shares by the sample's Monte
Carlo error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .bivariate_normal import bivariate_normal_cdf

__all__ = ["NormalLatent", "assessment_cuts", "carried_normal_cuts", "normal_cuts", "sample_cuts"]

_EDGE = 1e-12   # a cumulative share this close to 0 or 1 is an empty level: an infinite cut


@dataclass(frozen=True)
class NormalLatent:
    """A column's latent is standard normal in every arm (its parent's is too).

    ``held_below``: for a later assessment, per arm the followed column's threshold of
    its last level (its latent below it: carried at that level), and ``rho`` the
    correlation of the two latents; ``None`` for a column carrying no one.
    """

    rho: float = 0.0
    held_below: tuple | None = None


def _cumulative(probs_best_first: np.ndarray) -> np.ndarray:
    """The cumulative shares the thresholds (worst -> best) cut at."""
    return np.cumsum(np.asarray(probs_best_first, float)[::-1])[:-1]


def _infinite_edges(cum: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    cuts = np.where(cum >= 1 - _EDGE, np.inf, cuts)
    return np.where(cum <= _EDGE, -np.inf, cuts)


def sample_cuts(lat: np.ndarray, w: np.ndarray, probs_best_first: np.ndarray) -> np.ndarray:
    """Thresholds on ``lat`` (worst -> best) giving the level proportions among weight ``w``."""
    order = np.argsort(lat)
    cw = np.cumsum(w[order])
    cw /= cw[-1]
    cum = _cumulative(probs_best_first)
    return _infinite_edges(cum, np.interp(cum, cw, lat[order]))


def normal_cuts(probs_best_first: np.ndarray) -> np.ndarray:
    """Thresholds (worst -> best) of a standard normal latent: its exact quantiles."""
    cum = _cumulative(probs_best_first)
    return _infinite_edges(cum, special.ndtri(np.clip(cum, _EDGE, 1 - _EDGE)))


def carried_normal_cuts(probs_best_first: np.ndarray, rho: float, held_below: float) -> np.ndarray:
    """Thresholds (worst -> best) of ``L = rho Z + sqrt(1 - rho^2) e`` among ``Z > held_below``.

    ``Z`` and ``e`` independent standard normals; the shares are those of the patients not
    carried (``Z`` above the followed column's last threshold). ``L`` is standard normal
    with correlation ``rho`` to ``Z``, so ``P(L <= c | Z > h) = (Phi(c) - Phi2(c, h; rho))
    / (1 - Phi(h))`` (:func:`~simulate.bivariate_normal.bivariate_normal_cdf`), solved for
    ``c`` at each cumulative share (root to 1e-12).
    """
    from scipy import optimize   # not at import: a worker generating cohorts does not need it
    if held_below == -np.inf:
        return normal_cuts(probs_best_first)
    h = float(held_below)
    tail = special.ndtr(-h)

    def below(c):
        return float(special.ndtr(c) - bivariate_normal_cdf(c, h, rho)) / tail

    cum = _cumulative(probs_best_first)
    cuts = np.empty(len(cum))
    for j, q in enumerate(cum):
        if q <= _EDGE or q >= 1 - _EDGE:
            cuts[j] = 0.0   # replaced by an infinite edge below
            continue
        lo, hi = -10.0, 10.0
        while below(lo) > q:
            lo *= 2
        while below(hi) < q:
            hi *= 2
        cuts[j] = optimize.brentq(lambda c: below(c) - q, lo, hi, xtol=1e-12, rtol=1e-14)
    return _infinite_edges(cum, cuts)


def _same_weight(w: np.ndarray) -> bool:
    """Every patient of the arm has the same (positive) probability of assessment."""
    return len(w) > 0 and w[0] > 0 and bool(np.all(w == w[0]))


def assessment_cuts(lat: np.ndarray, w: np.ndarray, arm: np.ndarray, probs: list[np.ndarray],
                    carried: np.ndarray | None = None, law: NormalLatent | None = None
                    ) -> tuple[np.ndarray, ...]:
    """Per-arm thresholds on ``lat`` so the ``w``-weighted level shares are ``probs[a]``.

    Parameters
    ----------
    lat : numpy.ndarray
        The column's latent on the calibration sample.
    w : numpy.ndarray
        Probability of being assessed (the published shares are among the assessed).
    arm : numpy.ndarray
        Arm code per sampled patient.
    probs : list of numpy.ndarray
        Per arm, the published level shares, best level first.
    carried : numpy.ndarray of bool, optional
        Patients held at the last level (progression at an earlier assessment): the
        thresholds are fitted on the others, to the shares left once the carried
        patients are counted (a later assessment's PD share includes them).
    law : NormalLatent, optional
        The latent's exact law, when the model gives it: in an arm whose patients are
        all assessed with the same probability the thresholds are then its quantiles
        (exact), else the sample's weighted quantiles.

    Returns
    -------
    tuple of numpy.ndarray
        Per arm, ``K - 1`` increasing thresholds (worst -> best; +-inf for empty levels).
    """
    cuts = []
    for a, p in enumerate(probs):
        m = arm == a
        exact = law is not None and _same_weight(w[m])
        if carried is None:
            cuts.append(normal_cuts(p) if exact else sample_cuts(lat[m], w[m], p))
            continue
        h = None if law is None or law.held_below is None else law.held_below[a]
        exact = exact and h is not None
        held = float(special.ndtr(h)) if exact else float(w[m & carried].sum() / w[m].sum())
        free = m & ~carried
        if held >= 1 - 1e-12 or not free.any():
            cuts.append(np.full(len(p) - 1, np.inf))  # everyone is carried: the cuts are never used
            continue
        rest = np.asarray(p, float).copy()
        rest[-1] = max(rest[-1] - held, 0.0)  # below the earlier share: the spec check reports it
        rest = rest / rest.sum()
        cuts.append(carried_normal_cuts(rest, law.rho, h) if exact else sample_cuts(lat[free], w[free], rest))
    return tuple(cuts)
