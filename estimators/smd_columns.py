"""SMDs of many binary or continuous covariates of one sample at once (trusted arrays).

Column ``k`` of :func:`smd_columns_kernel` is ``smd_kernel(cols[:, k], ..., kind).smd`` of
:mod:`estimators.smd`, bit for bit. Every weighted sum is the one-column kernel's: one BLAS
dot product of the weights with one contiguous column (a multi-column BLAS product sums in
another order; under near-separated IPT weights -- a few weights dominate, variances of
order eps -- that rounding moved a simulated SMD by 1e-4, so a batched product would not be
the one-column SMD). What is batched is everything else: the columns are laid out once as
contiguous rows of the transposed matrix, the elementwise terms are computed for all columns
together, a column's mean is computed once and reused by its variance, and the variances
that the SMD does not use (the adjusted arms' variances under a pre-adjustment
denominator) are not computed at all.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tacebench.records import ArrayRecord
from .smd import _denominator_var, _ratio

__all__ = ["PooledSMDColumns", "smd_columns_kernel"]


def _dots(w: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``w @ column`` for each row of ``rows`` (columns laid out as contiguous rows): the
    one-column kernel's ``w @ x[:, None]``, the same BLAS dot product. The rows must be
    contiguous: BLAS sums a strided vector in another order."""
    rows = np.ascontiguousarray(rows)
    return np.array([np.dot(w, r) for r in rows], dtype=np.float64)


def _stats(rows: np.ndarray, w: np.ndarray, continuous: np.ndarray, variances: bool):
    """Weighted means and (if ``variances``) reliability-weighted variances of the columns
    ``rows`` (K, m); the variance only of the ``continuous`` rows, as ``estimators.smd._wvar``
    (which recomputes the same mean the same way)."""
    sw = w.sum()
    m = _dots(w, rows) / sw
    if not variances or not continuous.size:
        return m, None
    rc = rows[continuous]
    dev = (rc - m[continuous, None]) ** 2
    return m, _dots(w, dev) / (sw - (w @ w) / sw)


def _arm_stats(rowsT: np.ndarray, t: np.ndarray, w: np.ndarray, proportion: np.ndarray,
               continuous: np.ndarray, variances: bool):
    """((mean, variance) treated, (mean, variance) control) as ``estimators.smd._arm_stats``:
    means clipped to [0, 1] and variance ``p (1 - p)`` where ``proportion``; variances None
    unless ``variances``."""
    out = []
    for arm in (1, 0):
        sel = t == arm
        m_raw, v_cont = _stats(rowsT[:, sel], w[sel], continuous, variances)
        # rounding can push a weighted proportion past 1
        m = np.where(proportion, np.clip(m_raw, 0.0, 1.0), m_raw)
        if not variances:
            out.append((m, None))
            continue
        v = m * (1.0 - m)
        if v_cont is not None:
            v[continuous] = v_cont
        out.append((m, np.maximum(v, 0.0)))
    return out


def smd_columns_kernel(cols, t, w, proportion, denominator, denominator_weighted, weighted
                       ) -> np.ndarray:
    """SMDs of many binary or continuous covariates of one sample at once (trusted arrays):
    column ``k`` of the result is ``smd_kernel(cols[:, k], ..., kind).smd``, bit for bit,
    with ``kind`` binary where ``proportion[k]``, else continuous.

    Parameters
    ----------
    cols : (n, K) float array
    t : (n,) int8 array of 0/1
    w : (n,) float array
        Weights (ones when unweighted).
    proportion : (K,) bool array
        Binary (0/1) columns, whose variance is ``p (1 - p)``.
    denominator, denominator_weighted, weighted
        As :func:`estimators.smd.smd_kernel`.

    Returns
    -------
    (K,) float array

    References
    ----------
    Austin PC (2009) Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples. Stat Med
    28:3083-3107.
    """
    cols = np.asarray(cols, dtype=np.float64)
    proportion = np.broadcast_to(np.asarray(proportion, dtype=bool), cols.shape[1:])
    continuous = np.flatnonzero(~proportion)
    rowsT = np.ascontiguousarray(cols.T)
    own_denominator = denominator_weighted or not weighted
    (mt, vt), (mc, vc) = _arm_stats(rowsT, t, w, proportion, continuous, own_denominator)
    if own_denominator:
        dvt, dvc, w_all = vt, vc, w
    else:
        ones = np.ones_like(w)
        (_, dvt), (_, dvc) = _arm_stats(rowsT, t, ones, proportion, continuous, True)
        w_all = ones
    v_all = None
    if denominator == "all":
        m_all, v_cont = _stats(rowsT, w_all, continuous, True)
        v_all = m_all * (1 - m_all)
        if v_cont is not None:
            v_all[continuous] = v_cont
    den = np.sqrt(_denominator_var(dvt, dvc, v_all, denominator))
    return _ratio(mt - mc, den, np.abs(cols).max(axis=0))


@dataclass(frozen=True, eq=False)
class PooledSMDColumns(ArrayRecord):
    """:func:`smd_columns_kernel` with the pre-adjustment pooled SD
    (``denominator="pooled"``, ``denominator_weighted=False``) of one sample, for any
    number of weightings: what does not depend on the weights -- the columns laid out as
    rows, the unadjusted arm variances, the pooled SD, the scale -- computed once by
    :meth:`of`; each :meth:`smd` then computes the weighted means only.

    Every sum is one matrix product of all the columns with the two arms' weight columns
    (the arms' sums of weights from a last row of ones), where the kernel takes one dot
    product per column and arm: the same sums added in another order. Where every partial
    sum is an integer below 2**53 (integer-valued columns -- binary ones, counts -- under
    integer weights: unit weights, 1:1 matching) the order does not matter and the SMDs
    are the kernel's bit for bit; elsewhere a mean differs from the kernel's by the
    rounding of its sum, of order ``n * eps`` times the weighted mean of ``|x|``, so an SMD
    by about ``n * eps * scale / SD``. Only the means are weighted: the SD is the
    unweighted one, so the ill-conditioned weighted variances of near-separated weights
    (the module docstring) never enter.

    ``rows``: ``(K + 1, n)``, the columns then a row of ones; ``arms``: ``(n, 2)`` 0/1
    indicators of the treated and the control arm; ``proportion``: the binary columns;
    ``tol``: the differences that count as zero and ``sd``: the pooled SD with SDs below
    ``tol`` set to 0 (``estimators.smd._ratio``'s); ``unit_means``: the (K, 2) arm means
    with unit weights, proportions clipped, from which :attr:`unadjusted` (the SMDs with
    ``weighted=False``) is computed when asked (a weighting's SMDs do not need them).
    """

    rows: np.ndarray
    arms: np.ndarray
    proportion: np.ndarray
    tol: np.ndarray
    sd: np.ndarray
    unit_means: np.ndarray

    @property
    def unadjusted(self) -> np.ndarray:
        """The SMDs with unit weights (``weighted=False``)."""
        return _smd_of_means(self.unit_means, self.tol, self.sd)

    @classmethod
    def of(cls, cols, t, proportion) -> "PooledSMDColumns":
        """The weight-free parts of ``smd_columns_kernel(cols, t, w, proportion, "pooled",
        False, weighted)`` (trusted arrays, as the kernel's)."""
        return cls.of_rows(np.asarray(cols, dtype=np.float64).T, t, proportion)

    @classmethod
    def of_rows(cls, rows, t, proportion) -> "PooledSMDColumns":
        """:meth:`of` from the columns laid out as the rows of ``rows`` (K, n)."""
        k, n = rows.shape
        proportion = np.asarray(proportion, dtype=bool)
        if proportion.shape != (k,):
            proportion = np.broadcast_to(proportion, (k,))
        ext = np.empty((k + 1, n))
        ext[:k] = rows
        ext[k] = 1.0
        control = t == 0
        arms = np.empty((n, 2))
        arms[:, 0] = t
        arms[:, 1] = control
        sums = ext @ arms  # unit weights: the arms' sizes in the last row, exact
        m_raw = sums[:k] / sums[k]
        m = _clipped(m_raw, proportion)
        # the kernel's variance of every column from its (unclipped) arm mean, kept for
        # the continuous ones (the binary ones': p (1 - p)); with unit weights the
        # kernel's ``sw - (w @ w) / sw`` is the arm's size less 1, exact
        # each value less its own arm's mean: each cell's mean is ``m_raw @ arms.T``, one
        # product of two terms of which one is the mean times 1 and the other a finite
        # mean times 0, so exactly the mean (one product and one subtraction instead of
        # two subtractions, one of them masked)
        dev = m_raw @ arms.T
        np.subtract(rows, dev, out=dev)
        dev *= dev
        v = np.where(proportion[:, None], m * (1.0 - m), (dev @ arms) / (sums[k] - 1.0))
        v = np.maximum(v, 0.0)
        den = np.sqrt(_denominator_var(v[:, 0], v[:, 1], None, "pooled"))
        # ``estimators.smd._ratio``'s weight-free parts
        # (the largest |x| of a row from its largest and least value, without |rows|)
        tol = 64 * _EPS * np.maximum(np.maximum(rows.max(axis=1), -rows.min(axis=1)), _TINY)
        sd = np.where(den <= tol, 0.0, den)
        return cls(ext, arms, proportion, tol, sd, m)

    def smd(self, w: np.ndarray | None) -> np.ndarray:
        """``smd_columns_kernel(cols, t, w, proportion, "pooled", False, True)`` (``w``
        None: with ``weighted=False``, the unadjusted SMDs), to the rounding of the sums
        (see the class docstring)."""
        if w is None:
            return self.unadjusted
        sums = self.rows @ (self.arms * w[:, None])
        m_raw = sums[:-1] / sums[-1]
        m = _clipped(m_raw, self.proportion)
        return _smd_of_means(m, self.tol, self.sd)


_EPS, _TINY = np.finfo(float).eps, np.finfo(float).tiny


def _clipped(m_raw: np.ndarray, proportion: np.ndarray) -> np.ndarray:
    """The (K, 2) means with the proportions clipped to [0, 1] (rounding can push a
    weighted proportion past 1); ``np.clip``'s values without its wrapper (a zero may
    keep its sign, which no SMD sees: a zero difference is 0, a zero SD is set to 0)."""
    return np.where(proportion[:, None], np.minimum(np.maximum(m_raw, 0.0), 1.0), m_raw)


def _smd_of_means(m: np.ndarray, tol: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``estimators.smd._ratio(m[:, 0] - m[:, 1], ...)`` given its zero threshold ``tol``
    and its SD with SDs below ``tol`` set to 0."""
    diff = m[:, 0] - m[:, 1]
    diff = np.where(np.abs(diff) <= tol, 0.0, diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = diff / sd
    return np.where(diff == 0, 0.0, d)
