"""Survival estimators: Kaplan–Meier, log-rank, Cox (weighted, robust, Firth), landmark,
marginal risks and RMST by g-formula, IPTW-IPCW and AIPTW (``survival_ate``,
``survival_rmst``).

Public functions validate their input once and call trusted-input kernels (``km.fit_km``,
``logrank.logrank_kernel`` / ``logrank_iptw_kernel``, ``cox.fit_cox``; all in
:mod:`estimators.kernels`) that Monte Carlo loops may call directly with trusted arrays.

Times are compared exactly. R's ``Surv(timefix = TRUE)`` merges times that differ only by
floating-point rounding (``aeqSurv``); round times computed by arithmetic (e.g. days /
30.44) before calling if such near-ties matter.
"""
from .ate import SurvivalATE, survival_ate
from .ate_rmst import SurvivalRMST, survival_rmst
from .cox import CoxResult, cox_ph
from .km import KaplanMeier, Quantile, RMST, SurvivalAt, kaplan_meier
from .landmark import LandmarkData, landmark
from .logrank import LogRankResult, logrank_test

__all__ = [
    "CoxResult", "KaplanMeier", "LandmarkData", "LogRankResult", "Quantile", "RMST",
    "SurvivalATE", "SurvivalAt", "SurvivalRMST", "cox_ph", "kaplan_meier", "landmark", "logrank_test",
    "survival_ate", "survival_rmst",
]
