"""Inverse-probability-of-treatment weights, effective sample size and weighted group sizes.

A capability table (:data:`ESTIMANDS`) says, per estimand, which options are meaningful and
drives the validation, as R's WeightIt does.

Weights (``e`` the propensity score, ``z`` the 0/1 treatment; Rosenbaum 1987, Li, Morgan &
Zaslavsky 2018 for overlap weights; identical to ``WeightIt::get_w_from_ps``):

======== =================================== ==========================================
estimand treated                             control
======== =================================== ==========================================
ATE      1 / e                               1 / (1 - e)
ATT      1                                   e / (1 - e)
ATC      (1 - e) / e                         1
ATO      1 - e                               e
======== =================================== ==========================================

Stabilization (Robins, Hernán & Brumback 2000; Xu et al. 2010) multiplies the ATE weights by
the marginal probability of the arm received, ``P(Z = z_i)``, estimated by the sample
proportion; the sum of stabilized weights in each arm is then close to that arm's size,
which is what "weighted group sizes" report (seed 003: 19.4 and 140.1).

Truncation (Cole & Hernán 2008) winsorizes weights at percentiles of the weight
distribution: with ``truncate=(1, 99)``, weights below the 1st percentile are set to the
1st percentile and weights above the 99th to the 99th (seed 000: "truncated at the 1st and
99th percentiles"). Definition used here:

* the percentiles are those of the final weights (after stabilization, if any), pooled over
  both arms for the ATE; for the ATT (ATC) only the control (treated) weights are truncated
  and the percentiles are theirs, since the focal arm's weights are all 1 (as
  ``WeightIt::trim``);
* the percentile is R's ``quantile(w, p, type = 7)`` (linear interpolation; R's and numpy's
  default) unless ``quantile_type=3``, which is the nearest-order-statistic rule that
  ``WeightIt::trim(at = .99, lower = TRUE)`` uses.

Truncating the weights is not truncating (trimming) the propensity score, which drops units
outside ``[a, 1 - a]`` (Crump et al. 2009); that changes the population and is not offered
here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._checks import (check_binary, check_both_arms, check_choice, check_flag, check_lengths,
                      check_probability, check_weights)

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = [
    "ESTIMANDS",
    "EstimandCapability",
    "WeightedGroupSizes",
    "effective_sample_size",
    "iptw_weights",
    "weighted_group_sizes",
]

_QUANTILE_METHOD = {7: "linear", 3: "closest_observation"}


@dataclass(frozen=True)
class EstimandCapability:
    """What an estimand supports. ``focal`` is the arm whose weights are fixed at 1."""

    stabilize: bool
    truncate: bool
    focal: int | None
    description: str


ESTIMANDS: dict[str, EstimandCapability] = {
    "ATE": EstimandCapability(True, True, None, "average treatment effect in the whole population"),
    "ATT": EstimandCapability(False, True, 1, "average treatment effect in the treated"),
    "ATC": EstimandCapability(False, True, 0, "average treatment effect in the controls"),
    "ATO": EstimandCapability(
        False, False, None, "effect in the overlap population (weights bounded in [0, 1])"
    ),
}


def _check_options(estimand, stabilized, truncate, quantile_type) -> tuple[float, float] | None:
    check_choice(estimand, "estimand", tuple(ESTIMANDS))
    cap = ESTIMANDS[estimand]
    stabilized = check_flag(stabilized, "stabilized")
    if stabilized and not cap.stabilize:
        raise ValueError(
            f"stabilized=True is not defined for estimand={estimand!r} (only for "
            f"{[k for k, c in ESTIMANDS.items() if c.stabilize]})"
        )
    check_choice(quantile_type, "quantile_type", tuple(_QUANTILE_METHOD))
    if truncate is None:
        return None
    if not cap.truncate:
        raise ValueError(
            f"truncate is not supported for estimand={estimand!r} (its weights are bounded); "
            f"supported for {[k for k, c in ESTIMANDS.items() if c.truncate]}"
        )
    try:
        lo, hi = (float(v) for v in truncate)
    except (TypeError, ValueError):
        raise ValueError(f"truncate must be None or (lo, hi) percentiles; got {truncate!r}") from None
    if not (0.0 <= lo < hi <= 100.0):
        raise ValueError(f"truncate must satisfy 0 <= lo < hi <= 100 (percentiles); got {truncate!r}")
    return lo, hi


def iptw_weights_kernel(
    ps: np.ndarray,
    z: np.ndarray,
    estimand: str = "ATE",
    stabilized: bool = False,
    truncate: tuple[float, float] | None = None,
    quantile_type: int = 7,
) -> np.ndarray:
    """IPTW weights on trusted arrays (the kernel of :func:`iptw_weights`).

    Parameters
    ----------
    ps : (n,) float array
        Propensity scores in (0, 1).
    z : (n,) array of 0/1 (float or int)
    estimand, stabilized, quantile_type
        As :func:`iptw_weights` (already valid).
    truncate : (lo, hi) percentiles or None

    Returns
    -------
    (n,) float array

    Notes
    -----
    No validation, and never raises on data: a score of exactly 0 or 1 (or within
    1/DBL_MAX of them) gives an infinite weight (the caller's propensity status decides
    whether to get here).
    """
    t = z == 1
    w = _raw_weights(ps, t, estimand, stabilized)
    if truncate is not None:
        focal = ESTIMANDS[estimand].focal
        if focal is None:
            lo_q, hi_q = weight_percentiles(w, truncate, quantile_type)
            return clip_weights(w, lo_q, hi_q)
        sel = t != bool(focal)
        lo_q, hi_q = weight_percentiles(w[sel], truncate, quantile_type)
        w = np.where(sel, clip_weights(w, lo_q, hi_q), w)
    return w


def clip_weights(w: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``np.clip(w, lo, hi)`` for ``lo <= hi`` and weights that are never -0.0 (a weight
    is a positive quotient, or inf/NaN): the same values, NaN included (the clip ufunc is
    this maximum then minimum; only a -0.0 equal to a bound of 0.0 keeps its sign there),
    without ``np.clip``'s Python wrapper, which costs more than the two passes over a few
    hundred weights."""
    out = np.maximum(w, lo)
    return np.minimum(out, hi, out=out)


def _raw_weights(ps: np.ndarray, t: np.ndarray, estimand: str, stabilized: bool) -> np.ndarray:
    """Untruncated weights of ``estimand``; ``ps`` and the boolean ``t`` may carry leading
    replicate axes (the treated fraction of stabilized weights is per last-axis row)."""
    if estimand == "ATE":
        # one division of the chosen score (the same doubles as choosing between 1/ps and
        # 1/(1-ps)): a control's score near 0 does not overflow in an arm it is not in
        w = 1.0 / np.where(t, ps, 1.0 - ps)
        if stabilized:
            p1 = t.mean(axis=-1, keepdims=True)
            w = w * np.where(t, p1, 1.0 - p1)
        return w
    if estimand == "ATT":
        return np.where(t, 1.0, ps / (1.0 - ps))
    if estimand == "ATC":
        return np.where(t, (1.0 - ps) / ps, 1.0)
    return np.where(t, 1.0 - ps, ps)  # ATO


def weight_percentiles(w: np.ndarray, percents, quantile_type: int) -> np.ndarray:
    """Percentiles of ``w`` along its last axis, shape ``(len(percents), *w.shape[:-1])``:
    type 7 by one partition and numpy's own interpolation arithmetic (the same doubles as
    ``np.percentile(..., method="linear")`` at under half its per-call cost, which mattered
    inside Monte Carlo loops); type 3 by numpy."""
    if quantile_type != 7:
        return np.percentile(w, percents, axis=-1, method=_QUANTILE_METHOD[quantile_type])
    if w.ndim == 1:
        return _percentiles_1d(w, percents)
    n = w.shape[-1]
    v = (n - 1) * (np.asarray(percents, dtype=np.float64) / 100.0)
    below = np.floor(v).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    part = np.partition(w, np.unique(np.concatenate((below, above))), axis=-1)
    a, b = part[..., below], part[..., above]
    g = v - below
    diff = b - a
    return np.moveaxis(np.where(g >= 0.5, b - diff * (1.0 - g), a + diff * g), -1, 0)


def _percentiles_1d(w: np.ndarray, percents) -> np.ndarray:
    """:func:`weight_percentiles` (type 7) of one weight vector: the same operations on
    Python floats (IEEE doubles, as numpy's), without the array bookkeeping of the
    stacked case that costs more than the partition itself at n of a few hundred."""
    n = w.shape[0]
    pos = [(n - 1) * (float(q) / 100.0) for q in percents]
    below = [math.floor(v) for v in pos]
    above = [min(k + 1, n - 1) for k in below]
    part = np.partition(w, sorted(set(below + above)))
    out = []
    for v, k, k1 in zip(pos, below, above):
        a, b = float(part[k]), float(part[k1])
        g = v - k
        diff = b - a
        out.append(b - diff * (1.0 - g) if g >= 0.5 else a + diff * g)
    return np.array(out)


def iptw_weights(
    ps,
    treated,
    *,
    estimand: str = "ATE",
    stabilized: bool = False,
    truncate=None,
    quantile_type: int = 7,
) -> np.ndarray:
    """Propensity-score weights for a binary treatment.

    Parameters
    ----------
    ps : (n,) array-like
        Propensity scores ``P(treated = 1 | X)``, each strictly inside (0, 1).
    treated : (n,) array-like of 0/1
    estimand : {"ATE", "ATT", "ATC", "ATO"}
        See the module table; ``"ATO"`` are the overlap weights of Li, Morgan & Zaslavsky
        (2018).
    stabilized : bool
        Multiply by ``P(Z = z_i)`` (ATE only; see :data:`ESTIMANDS`).
    truncate : None or (lo, hi)
        Winsorize the weights at these percentiles (0-100), e.g. ``(1, 99)``; see the module
        docstring for the exact definition.
    quantile_type : {7, 3}
        R ``quantile`` type for the percentiles: 7 (default of R and numpy) or 3 (as
        ``WeightIt::trim``).

    Returns
    -------
    (n,) float64 array of weights.
    """
    lohi = _check_options(estimand, stabilized, truncate, quantile_type)
    p = check_probability(ps, "ps")
    z = check_binary(treated, "treated")
    if p.shape[0] != z.shape[0]:  # (the common case without the check's dict)
        check_lengths({"ps": p, "treated": z})
    check_both_arms(z)
    with np.errstate(over="ignore", divide="ignore"):  # refused below, by name
        w = iptw_weights_kernel(p, z, estimand, stabilized, lohi, quantile_type)
    finite = np.isfinite(w)
    if not np.logical_and.reduce(finite):  # a score within 1/DBL_MAX of 0 or 1
        i = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"ps[{i}]={float(p[i])!r} gives an infinite {estimand} weight to a "
                         f"{'treated' if z[i] == 1 else 'control'} unit (its inverse overflows "
                         "float64); such a score is numerically 0 or 1: trim or refit the "
                         "propensity model")
    return w


def effective_sample_size(weights) -> float:
    """Kish (1965) effective sample size ``(sum w)^2 / sum w^2``."""
    w = check_weights(weights, len(np.atleast_1d(weights)))
    return float(w.sum() ** 2 / np.sum(w * w))


@dataclass(frozen=True)
class WeightedGroupSizes:
    """Per-arm sums of weights (the "weighted n" of a weighted Table 1) and Kish ESS."""

    control: float
    treated: float
    ess_control: float
    ess_treated: float
    n_control: int
    n_treated: int

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        return pd.DataFrame(
            {
                "arm": ["control", "treated"],
                "n": [self.n_control, self.n_treated],
                "weighted_n": [self.control, self.treated],
                "ess": [self.ess_control, self.ess_treated],
            }
        )


def weighted_group_sizes(weights, treated) -> WeightedGroupSizes:
    """Sum of weights and Kish effective sample size in each arm.

    With stabilized ATE weights the sums estimate the arm sizes (seed 003 reports 19.4 and
    140.1 for arms of 26 and 141); with unstabilized ATE weights each sum estimates ``n``.
    """
    z = check_binary(treated, "treated")
    w = check_weights(weights, len(z))
    out = {}
    for arm, label in ((0, "control"), (1, "treated")):
        wa = w[z == arm]
        if wa.size == 0 or wa.sum() == 0:
            raise ValueError(f"treated has no {label} units with positive weight")
        out[label] = float(wa.sum())
        out[f"ess_{label}"] = float(wa.sum() ** 2 / np.sum(wa * wa))
        out[f"n_{label}"] = int(wa.size)
    return WeightedGroupSizes(**out)
