"""The checked inputs of :func:`estimators.survival.cox.cox_ph`: the covariate matrix with
its column names, and the Newton controls with the confidence level."""
from __future__ import annotations

import numpy as np

from .. import _checks


def check_design(X, names):
    """``X`` as a finite (n, p) float array with its ``p`` column names (from ``names``, a
    DataFrame's columns, a Series' name, or ``x0``, ``x1``, ...)."""
    if isinstance(X, np.ndarray):
        arr = _checks.as_float_array(X, "X", ndim=2)
        # integers and bools convert to finite doubles: nothing to check
        if X.dtype.kind not in "biu":
            _checks.check_finite(arr, "X")
    else:
        import pandas as pd
        if isinstance(X, pd.Series):
            names = names or (X.name if X.name is not None else "x0",)
            X = X.to_frame()
        if isinstance(X, pd.DataFrame):
            names = names or tuple(str(c) for c in X.columns)
        # (a frame's columns are checked to be numbers without missing values)
        arr = _checks.check_finite(_checks.as_float_array(X, "X", ndim=2), "X")
    if arr.shape[1] == 0:
        raise ValueError(f"X has no columns (shape {arr.shape}): the Cox model needs at "
                         "least one covariate")
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(arr.shape[1]))
    if len(names) != arr.shape[1]:
        raise ValueError(f"names must have one entry per column of X ({arr.shape[1]}); "
                         f"got {len(names)}")
    return arr, names


def check_controls(conf_level, max_iter, tol, init, p: int):
    """The Newton controls and the CI level, checked: ``(conf_level, max_iter, tol, init)``."""
    conf_level = _checks.check_level(conf_level)
    max_iter = _checks.check_positive_int(max_iter, "max_iter")
    tol = _checks.check_positive(tol, "tol")
    if init is not None:
        init = _checks.check_finite(_checks.as_float_array(init, "init"), "init")
        if init.shape[0] != p:
            raise ValueError(f"init must have one starting value per column of X ({p}); "
                             f"got {init.shape[0]}")
    return conf_level, max_iter, tol, init
