"""Rows of replicates sorted by time once, with the tie-group bookkeeping that the batched
Cox model and Kaplan–Meier estimator share."""
from __future__ import annotations

import numpy as np


class SortedRows:
    """Each replicate's rows in ascending time order (stable), as flat indices.

    ``flat`` indexes the raveled ``(R, n)`` input in sorted order; ``first``/``last`` are,
    for every sorted position, the flat sorted positions of the first and last row of its
    tie group (rows sharing its time), so a risk set ``{time >= t}`` starts at ``first``
    and everything that happens at ``t`` ends at ``last``.
    """

    __slots__ = ("R", "n", "flat", "time", "first", "last", "first_prev", "last_pad", "row")

    def __init__(self, time: np.ndarray):
        R, n = time.shape
        self.R, self.n = R, n
        offsets = (np.arange(R) * n)[:, None]
        order = np.argsort(time, axis=1, kind="stable")
        self.flat = (order + offsets).ravel()
        t = time.ravel().take(self.flat).reshape(R, n)
        self.time = t
        pos = np.arange(n)
        new = np.empty((R, n), dtype=bool)
        new[:, 0] = True
        np.not_equal(t[:, 1:], t[:, :-1], out=new[:, 1:])
        first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
        is_last = np.empty((R, n), dtype=bool)
        is_last[:, -1] = True
        is_last[:, :-1] = new[:, 1:]
        last = np.minimum.accumulate(np.where(is_last, pos, n)[:, ::-1], axis=1)[:, ::-1]
        self.first = (first + offsets).ravel()
        self.last = (last + offsets).ravel()
        # position just before the tie group in a per-row cumulative sum padded with a
        # leading zero column (``pad_cumsum``)
        rows = np.arange(R)[:, None]
        self.first_prev = (first + offsets + rows).ravel()
        self.last_pad = (last + offsets + rows + 1).ravel()
        self.row = np.repeat(np.arange(R), n)

    def take(self, a: np.ndarray) -> np.ndarray:
        """``a`` (R, n) in sorted order, raveled."""
        return a.ravel().take(self.flat)

    def rev_cumsum_at_first(self, a: np.ndarray) -> np.ndarray:
        """Sum of sorted ``a`` (raveled) over ``{time >= t}`` for every position: the risk
        set. Summed from the last row backwards, as the one-replicate kernels do."""
        a2 = a.reshape(self.R, self.n)
        rc = np.cumsum(a2[:, ::-1], axis=1)[:, ::-1]
        return rc.ravel().take(self.first)

    def pad_cumsum(self, a: np.ndarray) -> np.ndarray:
        """Per-row cumulative sums of sorted ``a`` with a leading zero: (R, n + 1), raveled;
        the sum over positions ``first..last`` of a tie group is
        ``P[last_pad] - P[first_prev]``, and up to the end of the tie group ``P[last_pad]``."""
        P = np.zeros((self.R, self.n + 1))
        np.cumsum(a.reshape(self.R, self.n), axis=1, out=P[:, 1:])
        return P.ravel()

    def group_sum(self, a: np.ndarray) -> np.ndarray:
        """Sum of sorted ``a`` over each position's tie group."""
        P = self.pad_cumsum(a)
        return P.take(self.last_pad) - P.take(self.first_prev)
