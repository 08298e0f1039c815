"""Restricted mean survival time (RMST) under each treatment and its difference, by
g-formula, IPTW-IPCW and AIPTW.

``RMST_a(tau) = integral_0^tau (1 - F_a(t)) dt`` with ``F_a`` the marginal risk curve of
:func:`estimators.survival.ate.survival_ate`. Each of the three risk curves is a step
function that jumps only at observed event times (the Cox predictions, the weighted event
indicators and the censoring augmentation all change only there), so with ``u_0 = 0`` and
``u_1 < u_2 < ...`` the event times before ``tau``::

    RMST_a(tau) = sum_k (1 - F_a(u_k)) (min(u_{k+1}, tau) - u_k)

exactly, and its influence function is minus the same weighted sum of the influence
functions of ``F_a(u_k)`` (Royston & Parmar 2013 for the RMST; Conner et al. 2019 for
adjusted RMST). Checked against the same sums over
``riskRegression::ate``'s risks and IFs at every event time
(``tests/reference/ate_survival``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord
from ..status import Estimability
from .ate import _validated_input, arm_risks, raise_unless_ok

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["SurvivalRMST", "survival_rmst", "survival_rmst_kernel"]


@dataclass(frozen=True, eq=False)
class SurvivalRMST(ArrayRecord):
    """RMST to each horizon under control and treatment and their difference.

    Attributes
    ----------
    horizons : (H,) ``tau``.
    estimators : names, as :data:`estimators.survival.ate.ESTIMATORS`.
    rmst, se : (E, 2, H) ``RMST_a(tau)`` (arm 0 control, 1 treated) and SE.
    difference, se_difference : (E, H) ``RMST_1 - RMST_0`` and SE.
    iid : (E, 2, n, H) influence functions (sum scale).
    status : Estimability of the working models.
    conf_level : level of the Wald intervals of ``to_frame``.
    statuses : each estimator's own, as :attr:`estimators.survival.ate.SurvivalATE.statuses`.
    """

    horizons: np.ndarray
    estimators: tuple
    rmst: np.ndarray
    se: np.ndarray
    difference: np.ndarray
    se_difference: np.ndarray
    iid: np.ndarray = field(repr=False)
    status: Estimability = Estimability.OK
    conf_level: float = 0.95
    statuses: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per estimator, horizon and quantity (``rmst_control``,
        ``rmst_treated``, ``difference``) with SE, Wald limits and, for the difference,
        the two-sided p-value of no difference."""
        import pandas as pd
        from scipy import stats
        zq = stats.norm.ppf(0.5 + self.conf_level / 2)
        rows = []
        for e, name in enumerate(self.estimators):
            for h, tau in enumerate(self.horizons):
                for qty, est, se in (("rmst_control", self.rmst[e, 0, h], self.se[e, 0, h]),
                                     ("rmst_treated", self.rmst[e, 1, h], self.se[e, 1, h]),
                                     ("difference", self.difference[e, h],
                                      self.se_difference[e, h])):
                    p = 2 * stats.norm.sf(abs(est) / se) if qty == "difference" else np.nan
                    rows.append({"estimator": name, "horizon": float(tau), "quantity": qty,
                                 "estimate": est, "se": se, "lower": est - zq * se,
                                 "upper": est + zq * se, "p_value": p})
        return pd.DataFrame(rows)


def survival_rmst_kernel(time, event, z, X, X_treatment, X_censoring, horizons,
                         estimators=("gformula", "iptw", "aiptw"), censoring="cox",
                         conf_level=0.95, *, models=None) -> SurvivalRMST:
    """:func:`survival_rmst` on trusted arrays (no validation; never raises on data);
    arguments as :func:`estimators.survival.ate.survival_ate_kernel`, ``models`` included."""
    grid = np.unique(time[(event == 1) & (time < horizons[-1])])
    u = np.concatenate(([0.0], grid))
    # width of [u_k, u_{k+1}) inside [0, tau]: (K + 1, H)
    upper = np.concatenate((grid, [np.inf]))
    width = np.clip(np.minimum(upper[:, None], horizons) - u[:, None], 0.0, None)
    n, E = time.size, len(estimators)
    if grid.size:
        # the IFs of the risks at every event time are only ever summed with the widths:
        # each estimator contracts them before its nuisance terms (F(0) = 0 has none)
        risk, iid_w, status, statuses = arm_risks(time, event, z, X, X_treatment,
                                                  X_censoring, grid, estimators,
                                                  contrast=width[1:], models=models)
        risk = np.concatenate((np.zeros((E, 2, 1)), risk), axis=2)  # F(0) = 0
    else:  # no event before the last horizon: RMST = tau exactly
        status, statuses = Estimability.OK, (Estimability.OK,) * E
        risk, iid_w = np.zeros((E, 2, 1)), np.zeros((E, 2, n, horizons.size))
    rmst = (1.0 - risk) @ width                                   # (E, 2, H)
    rmst_iid = -iid_w                                             # (E, 2, n, H)
    diff_iid = rmst_iid[:, 1] - rmst_iid[:, 0]
    return SurvivalRMST(horizons=horizons, estimators=tuple(estimators), rmst=rmst,
                        se=np.sqrt((rmst_iid**2).sum(axis=2)),
                        difference=rmst[:, 1] - rmst[:, 0],
                        se_difference=np.sqrt((diff_iid**2).sum(axis=1)), iid=rmst_iid,
                        status=status, conf_level=conf_level, statuses=statuses)


def survival_rmst(time, event, treated, X, *, horizons, estimators=("gformula", "iptw", "aiptw"),
                  X_treatment=None, censoring="cox", X_censoring=None,
                  conf_level=0.95) -> SurvivalRMST:
    """Restricted mean survival time to each horizon under control and treatment, and
    their difference, by g-formula, IPTW-IPCW and AIPTW.

    Parameters
    ----------
    time, event, treated, X, horizons, estimators, X_treatment, censoring, X_censoring,
    conf_level
        As :func:`estimators.survival.ate.survival_ate`.

    Returns
    -------
    SurvivalRMST

    Raises
    ------
    ValueError
        Invalid input (naming the argument and value), or a working model that is not
        estimable.

    References
    ----------
    Royston P, Parmar MKB. Restricted mean survival time: an alternative to the hazard
    ratio for the design and analysis of randomized trials with a time-to-event outcome.
    BMC Med Res Methodol 2013;13:152. Conner SC, Sullivan LM, Benjamin EJ, LaValley MP,
    Galea S, Trinquart L. Adjusted restricted mean survival times in observational cohort
    studies. Stat Med 2019;38:3832-3860.
    """
    args = _validated_input(time, event, treated, X, horizons, estimators, X_treatment,
                            censoring, X_censoring, conf_level)
    return raise_unless_ok(survival_rmst_kernel(*args, censoring, float(conf_level)))
