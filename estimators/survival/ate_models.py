"""The working models of the survival ATE estimators of one data set, each fitted once.

The g-formula needs the outcome Cox model, IPTW-IPCW the treatment and censoring models,
AIPTW all three (:data:`estimators.survival.ate.ESTIMATORS`). A caller that computes
several of them on the same data in separate calls (risks and RMST, one estimator per call)
passes one :class:`WorkingModels` to every call, so each model is fitted on first use and
read afterwards; the fits are deterministic functions of the arrays, so sharing them cannot
change a number.
"""
from __future__ import annotations

import numpy as np

from .ate_nuisance import BreslowCox, LogisticNuisance, fit_breslow_cox, fit_treatment_model

__all__ = ["WorkingModels"]


class WorkingModels:
    """The outcome, treatment and censoring models of one data set, fitted on first use.

    Parameters
    ----------
    time, event, z, X, X_treatment, X_censoring
        The arrays of :func:`estimators.survival.ate.survival_ate_kernel`.

    Notes
    -----
    A cache, so not frozen: it holds the arrays it was built from, and the kernels that
    accept one (:func:`estimators.survival.ate.survival_ate_kernel`,
    :func:`estimators.survival.ate_rmst.survival_rmst_kernel`) check that they are given
    those same arrays.
    """

    def __init__(self, time: np.ndarray, event: np.ndarray, z: np.ndarray, X: np.ndarray,
                 X_treatment: np.ndarray, X_censoring: np.ndarray):
        self.time, self.event, self.z = time, event, z
        self.X, self.X_treatment, self.X_censoring = X, X_treatment, X_censoring
        # nothing censored: G = 1 (a Nelson-Aalen fit of the censoring with no jumps)
        self.censoring_design = (X_censoring if (event == 0).any()
                                 else np.empty((time.size, 0)))
        self.design = np.column_stack([z, X])
        self._fits: dict = {}

    def built_from(self, time, event, z, X, X_treatment, X_censoring) -> bool:
        """Whether these are the arrays this object was built from (identity, not value)."""
        return all(a is b for a, b in ((time, self.time), (event, self.event), (z, self.z),
                                       (X, self.X), (X_treatment, self.X_treatment),
                                       (X_censoring, self.X_censoring)))

    def _get(self, name: str, fit):
        if name not in self._fits:
            self._fits[name] = fit()
        return self._fits[name]

    def outcome(self) -> BreslowCox:
        """Cox model of the event on ``[z, X]`` with Breslow's baseline hazard."""
        return self._get("outcome", lambda: fit_breslow_cox(self.time, self.event, self.design))

    def treatment(self) -> LogisticNuisance:
        """Logistic model of ``z`` on ``X_treatment``."""
        return self._get("treatment", lambda: fit_treatment_model(self.z, self.X_treatment))

    def censoring(self) -> BreslowCox:
        """Cox model of ``1 - event`` on :attr:`censoring_design` (``X_censoring``, or no
        covariates when nothing is censored)."""
        return self._get("censoring", lambda: fit_breslow_cox(self.time, 1.0 - self.event,
                                                              self.censoring_design))
