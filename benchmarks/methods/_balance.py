"""Absolute SMDs of many covariates in one pass (the ``balance`` option's love-plot columns).

:func:`absolute_smds` returns, for every named covariate, what
``abs(estimators.smd.standardized_mean_difference(x, treated, weights, kind=...).smd)``
returns, bit for bit: the binary and continuous columns go through the many-columns kernel
``smd_columns_kernel`` at once (its column ``k`` is the one-column kernel's SMD, same
arithmetic), instead of one validated call per covariate. The public function's checks are
replaced by one test of the whole matrix; when it fails (a missing or infinite value, a
weight that is negative or not finite, an arm with fewer than two positively weighted
units, a treatment that is not 0/1), every covariate goes through the public function, so
the error raised -- which covariate, which message -- is the one it raises.
"""
from __future__ import annotations

import numpy as np

__all__ = ["absolute_smds"]


def _kind(x: np.ndarray) -> str:
    """Integer codes with more than two values are categorical (Yang-Dalton SMD)."""
    if x.dtype.kind in "iu" and np.unique(x).size > 2:
        return "categorical"
    return "auto"


def _one_by_one(z, columns: dict[str, np.ndarray], weights) -> dict[str, float]:
    from tacebench.estimators.smd import standardized_mean_difference

    return {name: abs(float(standardized_mean_difference(x, z, weights, kind=_kind(x)).smd))
            for name, x in columns.items()}


def _trusted(z, X: np.ndarray, weights) -> tuple[np.ndarray, np.ndarray] | None:
    """The 0/1 treatment (int8) and the weights if the public checks would all pass on
    ``X``'s columns, else None."""
    z = np.asarray(z)
    n = z.shape[0] if z.ndim == 1 else -1
    if z.ndim != 1 or X.shape[0] != n or not ((z == 0) | (z == 1)).all():
        return None
    if weights is None:
        w = np.ones(n)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if (w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any()
                or not (w > 0).any()):
            return None
    t = z.astype(np.int8)
    positive = w > 0
    if min(np.count_nonzero(positive[t == 1]), np.count_nonzero(positive[t == 0])) < 2:
        return None
    if not np.isfinite(X).all():
        return None
    return t, w


def absolute_smds(z, columns: dict[str, np.ndarray], weights=None) -> dict[str, float]:
    """``{name: |SMD|}`` of each covariate, treated minus control, pre-adjustment pooled SD.

    Parameters
    ----------
    z : (n,) array of 0/1
        Treatment.
    columns : dict of str to (n,) array
        The covariates, in the order of the result. Numbers or bools; integer codes with more
        than two values are categorical (Yang-Dalton SMD), 0/1 columns binary, others
        continuous.
    weights : (n,) array, optional
        Weights or matching weights after adjustment (None: the unadjusted sample).

    Returns
    -------
    dict of str to float
        Equal to the public function's ``abs(smd)`` per covariate, which raises what the
        public function raises on invalid input.

    References
    ----------
    Austin PC (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples. Stat Med
    28:3083-3107.
    """
    from tacebench.estimators.kernels import smd_columns_kernel

    fast = {name: x for name, x in columns.items()
            if x.ndim == 1 and (x.dtype.kind in "fb" or (x.dtype.kind in "iu"
                                                         and _kind(x) == "auto"))}
    if not fast:
        return _one_by_one(z, columns, weights)
    X = np.column_stack([x.astype(np.float64, copy=False) for x in fast.values()])
    trusted = _trusted(z, X, weights)
    if trusted is None:
        return _one_by_one(z, columns, weights)
    t, w = trusted
    binary = ((X == 0.0) | (X == 1.0)).all(axis=0)
    # the public path reads a binary column through an int8 0/1 copy: -0.0 becomes 0.0
    X[:, binary] += 0.0
    smd = np.abs(smd_columns_kernel(X, t, w, binary, "pooled", False, weights is not None))
    by_name = dict(zip(fast, smd.tolist()))
    rest = _one_by_one(z, {k: x for k, x in columns.items() if k not in by_name}, weights)
    return {name: by_name[name] if name in by_name else rest[name] for name in columns}
