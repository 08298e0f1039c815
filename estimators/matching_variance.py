"""Weights and variance of a Cox model on matched sets: matching weights for 1:k sets of
unequal size, and the variance clustered on both the matched set and the patient for
matching with replacement (trusted input).

The matched sample has one row per patient per matched set (each set's treated row first,
then its controls; with replacement a control reused by several treated patients has one
row in each of their sets), as MatchIt's ``get_matches()`` lays it out.
:func:`estimators.matching.matched_cox` applies both where the matched sets need them.
"""
from __future__ import annotations

import numpy as np

__all__ = ["matched_set_weights", "twoway_se", "twoway_variance"]


def matched_set_weights(pair_id: np.ndarray, z: np.ndarray) -> np.ndarray | None:
    """Matching weights of the rows of matched sets whose sizes differ.

    Parameters
    ----------
    pair_id : (m,) int array
        Matched-set id (0..k-1) of each row, grouped by set.
    z : (m,) float array
        1 for each set's treated row, 0 for its controls.

    Returns
    -------
    (m,) float array or None
        The treated rows 1, a control ``1 / (controls in its set)``, the controls' weights
        rescaled to sum to the number of control rows (MatchIt's ``match.data()`` weights
        for matching without replacement; with replacement, its ``get_matches()`` weights).
        None when every set has as many controls (then every weight is 1, the unweighted
        fit).

    Notes
    -----
    Unweighted, 1:k matching whose caliper left some treated patients fewer than ``k``
    controls counts a treated patient with one control as much as one with ``k``, while
    that one control counts ``k`` times as much as each of the ``k``: not the ATT the
    matching weights (and the balance computed with them) describe.

    References
    ----------
    Greifer N. Estimating effects after matching. MatchIt vignette ("Estimating Effects"),
    CRAN.
    """
    sizes = np.bincount(pair_id)
    if sizes.min() == sizes.max():
        return None
    w = np.where(z == 1, 1.0, 1.0 / (sizes[pair_id] - 1))
    control = z == 0
    w[control] *= control.sum() / w[control].sum()
    return w


def twoway_variance(dfbeta: np.ndarray, pair_id: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Robust covariance of a Cox model on matched sets, clustered on both the matched set
    and the patient (matching with replacement).

    Parameters
    ----------
    dfbeta : (m, p) float array
        The fit's weighted dfbeta: weighted score residuals ``w_i L_i`` times the
        model-based covariance (R ``residuals(fit, type = "dfbeta")`` of a weighted fit).
    pair_id : (m,) int array
        Matched-set id of each row.
    unit : (m,) int array
        The patient of each row (its row in the unmatched data): the rows of a control
        reused in several sets share it.

    Returns
    -------
    (p, p) float array
        ``V = ks/(ks-1) V_set + ki/(ki-1) V_patient - kc/(kc-1) V_row``: each ``V`` the
        robust covariance ``D'D`` with the rows of ``dfbeta`` summed within a set, within
        a patient, and not summed; ``k`` the number of such clusters. A difference of
        covariances: a diagonal element may be negative in a small sample.

    Notes
    -----
    Clustering on the set alone treats the rows of a reused control as independent and
    understates the SE (coverage well below nominal once controls are reused). Each element
    is the dot product of two columns of cluster sums, so the first diagonal element is
    :func:`twoway_se`'s, bit for bit.

    References
    ----------
    Austin PC, Cafri G. Variance estimation when using propensity-score matching with
    replacement with survival or time-to-event outcomes. Stat Med 2020;39:1623-1640.
    Greifer N. Estimating effects after matching. MatchIt vignette ("Estimating Effects"),
    CRAN: the same variance from three ``coxph`` fits (``cluster = subclass``,
    ``cluster = id``, ``robust = TRUE``).
    """
    (vs, ks), (vi, ki) = _clustered(dfbeta, pair_id), _clustered(dfbeta, unit)
    kc = dfbeta.shape[0]
    return ks / (ks - 1) * vs + ki / (ki - 1) * vi - kc / (kc - 1) * _cross(dfbeta)


def twoway_se(residuals: np.ndarray, var: np.ndarray, pair_id: np.ndarray,
              unit: np.ndarray) -> float:
    """SE of the first coefficient by :func:`twoway_variance`, from the weighted score
    residuals ``residuals`` (m, p) and the model-based covariance ``var`` (p, p); NaN
    where the variance is not positive."""
    v = twoway_variance(residuals @ var, pair_id, unit)[0, 0]
    return float(np.sqrt(v)) if v > 0 else float("nan")


def _clustered(d: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, int]:
    """``D'D`` of the rows of ``d`` summed within each code, and the number of codes."""
    k, inverse = np.unique(codes, return_inverse=True)
    sums = np.zeros((k.size, d.shape[1]))
    np.add.at(sums, inverse, d)
    return _cross(sums), k.size


def _cross(s: np.ndarray) -> np.ndarray:
    """``s's`` element by element (column dot products: the same operations whatever the
    number of columns)."""
    p = s.shape[1]
    return np.array([[s[:, a] @ s[:, b] for b in range(p)] for a in range(p)])
