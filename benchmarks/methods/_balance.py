"""Absolute SMDs of many covariates in one pass (the ``balance`` option's love-plot columns).

:func:`absolute_smds` returns, for every named covariate, what
``abs(estimators.smd.standardized_mean_difference(x, treated, weights, kind=...).smd)``
returns, to the rounding of sums added in another order: the binary and continuous columns
go through :class:`estimators.smd_columns.PooledSMDColumns` at once (every mean and variance
of every column and both arms by one matrix product, where the public function takes one dot
product per column and arm; bit for bit where the sums are exact, as the binary columns'
under integer weights -- 1:1 matching; elsewhere within about ``n eps scale / SD``, measured
below 2e-11 relative on the default study), instead of one validated call per covariate.
Categorical columns go through the public function itself. The public function's checks are
replaced by one test of the whole matrix; when it fails (a missing or infinite value, a
weight that is negative or not finite, an arm with fewer than two positively weighted
units, a treatment that is not 0/1), every covariate goes through the public function, so
the error raised -- which covariate, which message -- is the one it raises.

A replicate's methods balance their own weights on the same covariates:
:class:`BalanceColumns` prepares what does not depend on the weights (the columns, the checks
on them, the unadjusted pooled SDs) once, and gives each weighting its SMDs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tacebench.records import ArrayRecord

__all__ = ["BalanceColumns", "absolute_smds"]


def _kind(x: np.ndarray) -> str:
    """Integer codes with more than two values are categorical (Yang-Dalton SMD)."""
    if x.dtype.kind in "iu" and np.unique(x).size > 2:
        return "categorical"
    return "auto"


def _one_by_one(z, columns: dict[str, np.ndarray], weights) -> dict[str, float]:
    from tacebench.estimators.smd import standardized_mean_difference

    return {name: abs(float(standardized_mean_difference(x, z, weights, kind=_kind(x)).smd))
            for name, x in columns.items()}


def _trusted_columns(z, R: np.ndarray) -> np.ndarray | None:
    """The 0/1 treatment (int8) if the public checks that do not involve the weights would
    all pass on the columns laid out as the rows of ``R`` (K, n), else None."""
    z = np.asarray(z)
    n = z.shape[0] if z.ndim == 1 else -1
    if z.ndim != 1 or R.shape[1] != n or not ((z == 0) | (z == 1)).all():
        return None
    if not np.isfinite(R).all():  # (over the contiguous rows, not a transposed view)
        return None
    return z.astype(np.int8)


@dataclass(frozen=True, eq=False)
class BalanceColumns(ArrayRecord):
    """The covariates of one sample made ready for :meth:`absolute_smds` under any number
    of weightings (a replicate's methods each balance their own weights): the binary and
    continuous columns laid out once, with their unadjusted pooled SDs
    (:class:`estimators.smd_columns.PooledSMDColumns`); ``kernel`` is None where the
    public function must take every covariate (its checks fail on the columns or the
    treatment)."""

    z: np.ndarray
    columns: dict
    fast: tuple[str, ...]
    kernel: object | None
    t: np.ndarray | None

    @classmethod
    def of(cls, z, columns: dict[str, np.ndarray]) -> "BalanceColumns":
        from tacebench.estimators.smd_columns import PooledSMDColumns

        fast = tuple(name for name, x in columns.items()
                     if x.ndim == 1 and (x.dtype.kind in "fb" or (x.dtype.kind in "iu"
                                                                  and _kind(x) == "auto")))
        if not fast or len({columns[name].shape for name in fast}) > 1:
            return cls(z, columns, fast, None, None)
        R = np.array([columns[name] for name in fast], dtype=np.float64)  # a row per column
        t = _trusted_columns(z, R)
        n1 = 0 if t is None else np.count_nonzero(t)
        if t is None or min(n1, t.size - n1) < 2:
            # (an arm of fewer than two units fails the checks under any weights)
            return cls(z, columns, fast, None, None)
        binary = ((R == 0.0) | (R == 1.0)).all(axis=1)
        # the public path reads a binary column through an int8 0/1 copy: -0.0 becomes 0.0
        np.add(R, 0.0, out=R, where=binary[:, None])
        return cls(z, columns, fast, PooledSMDColumns.of_rows(R, t, binary), t)

    def absolute_smds(self, weights=None) -> dict[str, float]:
        """:func:`absolute_smds` of these columns under ``weights``."""
        if self.kernel is None or not self._trusted(weights):
            return _one_by_one(self.z, self.columns, weights)
        w = None if weights is None else np.asarray(weights, dtype=np.float64)
        values = np.abs(self.kernel.smd(w)).tolist()
        if len(self.fast) == len(self.columns):  # (``fast`` keeps the columns' order)
            return dict(zip(self.fast, values))
        by_name = dict(zip(self.fast, values))
        rest = _one_by_one(self.z, {k: x for k, x in self.columns.items() if k not in by_name},
                           weights)
        return {name: by_name[name] if name in by_name else rest[name] for name in self.columns}

    def _trusted(self, weights) -> bool:
        """Whether the public checks of the weights would all pass (None: unit weights, as
        the arms' sizes were checked by :meth:`of`): finite, none negative, at least two
        positive in each arm."""
        if weights is None:
            return True
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != self.t.shape or not np.isfinite(w).all() or (w < 0).any():
            return False
        positive = w > 0
        return min(np.count_nonzero(positive & (self.t == 1)),
                   np.count_nonzero(positive & (self.t == 0))) >= 2


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
        The public function's ``abs(smd)`` per covariate (to rounding), raising what the
        public function raises on invalid input. (Several weightings of the same columns:
        :meth:`BalanceColumns.absolute_smds` of one :meth:`BalanceColumns.of`.)

    References
    ----------
    Austin PC (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples. Stat Med
    28:3083-3107.
    """
    return BalanceColumns.of(z, columns).absolute_smds(weights)
