"""The Cox model of treatment on 1:1 matched pairs, SE clustered on pair (trusted input).

:func:`estimators.matching.matched_cox` fits ``cox_ph(..., robust=True, cluster=pair_id)``:
the Lin & Wei (1989) sandwich summed within matched sets. On 1:1 pairs without further
covariates, :func:`cox_of_pairs_kernel` gives the same numbers bit for bit from the Cox
kernel's own steps for one covariate and unit weights
(:func:`estimators.survival.cox_point.cox_newton`) -- those of
:func:`estimators.survival.cox.fit_cox` with its defaults (risk sets, a singular
information at 0 makes every number NaN, Newton from 0, score residuals, the inverse
information, the monotone-likelihood rule, the status) -- without the fit result's other
fields (Wald limits, p-value, names), which at a few hundred rows cost as much as the
Newton steps. Each pair's sum of score residuals is its two rows' sum: what the kernel's
sorted segment sums add for pair ids in order, without sorting them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .status import Estimability
from .survival._cox_kernel import RiskSets, score_residuals
from .survival.cox_point import cox_newton

__all__ = ["PairsCox", "cox_of_pairs_kernel", "pairs_robust_se"]


@dataclass(frozen=True)
class PairsCox:
    """The treatment's log hazard ratio on 1:1 pairs.

    Attributes
    ----------
    coef : log hazard ratio; ``+/-inf`` where the likelihood is monotone, NaN if singular.
    se : robust SE clustered on pair; NaN where ``coef`` is not finite.
    status : :func:`estimators.status.cox_status` of the fit.
    """

    coef: float
    se: float
    status: Estimability


def pairs_robust_se(residuals: np.ndarray, var: np.ndarray) -> float:
    """The first coefficient's robust SE clustered on 1:1 pairs (rows ``2j``, ``2j + 1``:
    pair ``j``): ``sqrt(diag(D'D))[0]`` with ``D`` the pairs' sums of the weighted score
    residuals ``residuals`` (n, p) times the model-based variance ``var`` (p, p)."""
    d = (residuals[0::2] + residuals[1::2]) @ var
    return float(np.sqrt((d.T @ d).diagonal()[0]))


def cox_of_pairs_kernel(time: np.ndarray, event: np.ndarray, z: np.ndarray,
                        ties: str = "efron") -> PairsCox:
    """Cox model of the treatment ``z`` alone on 1:1 matched pairs, SE clustered on pair.

    Parameters
    ----------
    time : (2k,) float array
    event : (2k,) float array of 0/1
    z : (2k,) float array of 0/1
        Rows ``2j`` and ``2j + 1`` are pair ``j``: one treated, one control.
    ties : {"efron", "breslow"}

    Returns
    -------
    PairsCox
        ``fit_cox(time, event, z[:, None], ones, ties=ties)``'s coefficient and status,
        and the SE its robust variance clustered on the pair ids would give.

    Notes
    -----
    Trusted-input kernel: no validation, never raises on data.

    References
    ----------
    Lin DY, Wei LJ. The robust inference for the Cox proportional hazards model. JASA
    1989;84:1074-1078. Austin PC. The use of propensity score methods with survival or
    time-to-event outcomes: reporting measures of effect similar to those used in
    randomized experiments. Stat Med 2014;33:1242-1258.
    """
    if time.size == 0:  # nothing to fit (fit_cox's "no observations")
        return PairsCox(np.nan, np.nan, Estimability.NO_EVENTS)
    with np.errstate(all="ignore"):  # degenerate fits are judged from the values
        rs = RiskSets(time, event, z[:, None], np.ones(time.size), ties)
        fit = cox_newton(rs)
        if fit.singular:  # (no events among them)
            return PairsCox(np.nan, np.nan, fit.status)
        se = (np.nan if fit.infinite[0] else
              pairs_robust_se(score_residuals(rs, fit.evaluation), fit.naive))
    return PairsCox(float(fit.coef[0]), se, fit.status)
