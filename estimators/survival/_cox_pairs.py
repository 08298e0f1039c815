"""Cumulative sums of pairs of rows read as complex numbers (the Cox kernel's risk-set
sums, :func:`estimators.survival._cox_kernel.risk_sums`): the same additions in the same
order as one cumulative sum per row, so the same doubles, two chains per step."""
from __future__ import annotations

import numpy as np

__all__ = ["paired", "paired_prefix_sums", "paired_times", "as_complex", "unpaired"]


def paired(A: np.ndarray) -> np.ndarray:
    """The rows of ``A`` (k, n) in pairs: a ``(ceil(k / 2), n, 2)`` array whose ``[i, :, 0]``
    and ``[i, :, 1]`` are rows ``2i`` and ``2i + 1`` (a zero row completes an odd ``k``)."""
    k, n = A.shape
    P = np.empty(((k + 1) // 2, n, 2))
    # (two strided copies: a transposing copy of (pairs, 2, n) loops over pairs of two)
    P[:, :, 0] = A[0::2]
    P[:k // 2, :, 1] = A[1::2]
    if k & 1:
        P[-1, :, 1] = 0.0
    return P


def paired_prefix_sums(P: np.ndarray, cols: np.ndarray, k: int) -> np.ndarray:
    """Cumulative sums along the rows of a :func:`paired` array ``P``, at columns ``cols``,
    returned as the first ``k`` rows of a (rows, len(cols)) array.

    A cumulative sum is a chain of dependent additions, bound by the latency of each step,
    not by arithmetic. Read as complex numbers, a pair of rows is summed as two chains per
    step (the real and the imaginary parts): the same additions in the same order, so the
    same doubles, in about half the time.
    """
    return unpaired(np.add.accumulate(as_complex(P), axis=1).take(cols, axis=1), k)


def paired_times(P2: np.ndarray, v: np.ndarray, buffer: np.ndarray) -> np.ndarray:
    """``P2 * v`` for the rows of a :func:`paired` array flattened to ``(pairs, 2n)``,
    each entry times its column's ``v`` (n,): ``v`` is written twice over into ``buffer``
    (2n,), so that each pair is multiplied as one contiguous row (numpy's loop over a
    broadcast pair of two costs four times the product)."""
    buffer[0::2] = v
    buffer[1::2] = v
    return P2 * buffer


def as_complex(P: np.ndarray) -> np.ndarray:
    """A :func:`paired` array (..., 2) read as complex numbers (...): one pair of rows."""
    return P.view(np.complex128)[..., 0]


def unpaired(C: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` rows, as reals, of the pairs of rows ``C`` (pairs, m) complex."""
    pairs, m = C.shape
    return C.view(np.float64).reshape(pairs, m, 2).transpose(0, 2, 1).reshape(2 * pairs, m)[:k]
