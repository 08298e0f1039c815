"""Predicted numbers tied to a calibration input: their draws move with the input's.

A calibration number is reproduced by construction; a predicted number whose simulated
draws move with one, replicate for replicate, is reproduced largely because that input
is: the IPTW-weighted univariable HR of a covariate against its crude HR (the weights
barely change a covariate's association with survival), a weighted arm's median against
its crude median. Such a verdict is a test, but a narrow one: of the paper's difference
between the two numbers against the simulated difference, not of a number the calibration
leaves free. :func:`tied_numbers` finds them so the accounting can say how many of the
predicted numbers it counts are of this kind (:mod:`replications.accounting`).

The measure is Spearman's rank correlation of the two numbers' draws over the replicates
where both are estimable (any monotone scale gives the same value: a ratio and its log,
a rate and its complement up to sign). A number is *tied* when its strongest correlation
with a calibration number is at least :data:`TIED_RHO` in absolute value.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .midrank import tie_blocks

__all__ = ["TIED_RHO", "MIN_COMMON", "tied_numbers"]

#: |rank correlation| at or above which a predicted number is tied to a calibration input.
#: For normal draws a rank correlation of 0.9 is a correlation of about 0.91 (Pearson's
#: 2 sin(pi rho_s / 6)): the input then carries about 82% of the number's simulated
#: variance, and the number's own part (what the input does not predict) has about 0.42
#: of its spread.
TIED_RHO = 0.9
#: Fewest replicates estimable for both numbers for a correlation to be read at all.
MIN_COMMON = 20


def _scores(x: np.ndarray) -> np.ndarray | None:
    """Centred average ranks of ``x`` scaled to unit length (None when constant): the
    dot product of two is Spearman's correlation (Pearson's of the average ranks)."""
    order = np.argsort(x, kind="stable")
    starts, counts = tie_blocks(x[order])
    r = np.empty(len(x))
    r[order] = np.repeat(starts + (counts + 1) / 2.0, counts)   # a tie's mean rank
    r -= r.mean()
    norm = float(np.sqrt(r @ r))
    return r / norm if norm > 0 else None


def tied_numbers(predicted: Sequence[str], calibration: Sequence[str],
                 draws: Mapping[str, np.ndarray]) -> dict[str, tuple[str, float]]:
    """The predicted numbers tied to a calibration number.

    Parameters
    ----------
    predicted, calibration : sequence of str
        Ids of the distinct predicted numbers to test and of the calibration numbers
        (one id per distinct number; ids without draws are skipped).
    draws : mapping
        Id -> its draws, one value per replicate (NaN where not estimable), all of one
        length.

    Returns
    -------
    dict
        Predicted id -> ``(calibration id, rank correlation)`` of its strongest
        correlation, for those at or above :data:`TIED_RHO` in absolute value (the first
        calibration id in the given order on a tie of correlations).

    References
    ----------
    Spearman C (1904) The proof and measurement of association between two things. Am J
    Psychol 15:72-101.
    """
    cal = [(c, draws[c]) for c in calibration if c in draws]
    n = len(cal[0][1]) if cal else 0
    if n < MIN_COMMON:
        return {}
    # the calibration columns estimable in every replicate, scored once: a predicted
    # number estimable in every replicate meets them in one product
    whole = [i for i, (_, y) in enumerate(cal) if np.isfinite(y).all()]
    whole_scores = {i: _scores(cal[i][1]) for i in whole}
    whole = [i for i in whole if whole_scores[i] is not None]
    Z = np.array([whole_scores[i] for i in whole]).reshape(len(whole), n)
    partial = sorted(set(range(len(cal))) - set(whole))  # the others, read pair by pair
    kept: dict[tuple[str, bytes], np.ndarray | None] = {}

    def score(tid: str, col: np.ndarray, ok: np.ndarray) -> np.ndarray | None:
        # (a column with NaN meets every other on its own replicates: scored once)
        key = (tid, np.packbits(ok).tobytes())
        if key not in kept:
            kept[key] = _scores(col[ok])
        return kept[key]
    out = {}
    for p in predicted:
        x = draws.get(p)
        if x is None:
            continue
        fx = np.isfinite(x)
        rho = np.zeros(len(cal))
        rest = range(len(cal))
        if fx.all():
            sx = _scores(x)
            if sx is None:
                continue
            rho[whole] = Z @ sx
            rest = partial
        for i in rest:          # a NaN in either: the replicates where both are estimable
            ok = fx & np.isfinite(cal[i][1])
            if ok.sum() < MIN_COMMON:
                continue
            sx, sy = score(p, x, ok), score(cal[i][0], cal[i][1], ok)
            if sx is not None and sy is not None:
                rho[i] = sx @ sy
        i = int(np.argmax(np.abs(rho)))
        if abs(rho[i]) >= TIED_RHO:
            out[p] = (cal[i][0], float(rho[i]))
    return out
