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
from importlib import import_module

from .cox import CoxResult, cox_ph
from .km import KaplanMeier, Quantile, RMST, SurvivalAt, kaplan_meier
from .landmark import LandmarkData, landmark
from .logrank import LogRankResult, logrank_test

__all__ = [
    "CoxResult", "KaplanMeier", "LandmarkData", "LogRankResult", "Quantile", "RMST",
    "SurvivalATE", "SurvivalAt", "SurvivalRMST", "cox_ph", "kaplan_meier", "landmark", "logrank_test",
    "survival_ate", "survival_rmst",
]

# The marginal-effect estimators are loaded on first access (PEP 562): a Monte Carlo worker
# that imports the Cox or KM kernels should not pay for pandas, which they need.
#: public name -> the module defining it
_LAZY = {"SurvivalATE": "ate", "survival_ate": "ate",
         "SurvivalRMST": "ate_rmst", "survival_rmst": "ate_rmst"}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value              # later look-ups do not come back here
    return value


def __dir__():
    # the public names and the submodules loaded so far, not this module's own imports
    return sorted({*__all__, *(name for name, value in globals().items()
                               if name.startswith("__")
                               or getattr(value, "__name__", "").startswith(f"{__name__}."))})
