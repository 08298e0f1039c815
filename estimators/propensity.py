"""The propensity-score model: a main-effects logistic regression fitted from a DataFrame.

``propensity_score`` builds and validates the design from the frame once
(:func:`estimators.design.design_matrix`, :func:`estimators.design.treatment_indicator`)
and hands it to the logistic fit (:func:`estimators.logistic.fit_validated`) without
validating it again. The logistic regression itself lives in :mod:`estimators.logistic`
(front end, result) and :mod:`estimators.logistic_fit` (the Newton kernel); its names are
re-exported here, where they were first defined.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from ._checks import check_choice
from .design import DesignMatrix, design_with_rows, treatment_indicator
from .logistic import (
    LogisticResult,
    SeparationError,
    fit_validated,
    logistic_regression,
    with_intercept,
)
# _MAX_ITER, _TOL: the kernel's defaults, which estimators.batch imports from here
from .logistic_fit import _MAX_ITER, _TOL, LogisticFit, fit_logistic, logistic_loglik  # noqa: F401

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = [
    "LogisticFit",
    "LogisticResult",
    "PropensityModel",
    "SeparationError",
    "fit_logistic",
    "logistic_loglik",
    "logistic_regression",
    "propensity_score",
]


@dataclass(frozen=True, eq=False)
class PropensityModel(ArrayRecord):
    """A logistic propensity-score model ``P(treated = 1 | covariates)``.

    Attributes
    ----------
    ps : (n,) array
        Estimated propensity scores.
    coef : (p + 1,) array
        Logistic coefficients, intercept first (names in ``fit.names``).
    design : DesignMatrix
        The covariate matrix (without intercept) and its categorical coding.
    treated : (n,) int8 array
    fit : LogisticResult
        The full fit (score contributions and Hessian for M-estimation variances).
    """

    ps: np.ndarray
    coef: np.ndarray
    design: DesignMatrix
    treated: np.ndarray
    fit: LogisticResult = field(repr=False)

    @property
    def logit(self) -> np.ndarray:
        """Linear predictor ``log(ps / (1 - ps))`` (the scale of the Austin 2011 caliper)."""
        return self.fit.linear_predictor

    def to_frame(self) -> pd.DataFrame:
        return self.fit.to_frame()


def propensity_score(
    frame,
    treated,
    covariates,
    categorical=None,
    reference=None,
    *,
    on_separation: str = "raise",
) -> PropensityModel:
    """Fit a main-effects logistic propensity model from a DataFrame.

    Parameters
    ----------
    frame : pandas.DataFrame (or mapping of columns)
    treated : str or (n,) array-like of 0/1
        Column name in ``frame`` or the indicator itself.
    covariates, categorical, reference
        As :func:`estimators.design.design_matrix` (categorical coding is explicit).
    on_separation : {"raise", "flag"}
        See :func:`logistic_regression`.

    Returns
    -------
    PropensityModel

    Notes
    -----
    Equivalent to R ``glm(treated ~ x1 + factor(x2) + ..., family = binomial)`` with
    treatment contrasts and the same reference levels.
    """
    design, rows = design_with_rows(frame, covariates, categorical, reference)
    z = treatment_indicator(frame, treated)
    check_choice(on_separation, "on_separation", ("raise", "flag"))
    # design_matrix and treatment_indicator have checked what logistic_regression would
    # check again: finite columns, one 0/1 entry per row, both arms; unit weights. The
    # rows with their intercept row are X' as the fit's products use it, and their
    # transposed copy is with_intercept(design.values), double for double
    Xa = with_intercept(design.values) if rows is None else np.ascontiguousarray(rows.T)
    fit = fit_validated(Xa, z.astype(np.float64), np.ones(z.shape[0]),
                        ("(Intercept)", *design.names), on_separation=on_separation, XT=rows)
    return PropensityModel(ps=fit.fitted, coef=fit.coef, design=design, treated=z, fit=fit)
