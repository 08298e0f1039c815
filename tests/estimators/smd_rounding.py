"""How far SMDs summed in another order may be from the one-column kernel's (a test helper)."""
from __future__ import annotations

import numpy as np


def within_summation_rounding(got, want, C, t) -> bool:
    """Whether pre-adjustment pooled SMDs ``got`` equal ``want`` up to the rounding of
    their sums (NaN where the other is NaN; exactly where a column's SD is 0).

    Per column, a weighted mean summed in any order is within ``2 n eps max|x|`` of the
    exact one (recursive summation of ``n`` terms, the sum of weights likewise), so two
    orders' mean differences within ``8 n eps scale``, ``scale = max|x|``; the unweighted
    SDs within ``4 n eps (1 + scale / SD)`` relative; a difference of means within that of
    the zero threshold (``64 eps scale``) may be zeroed in one and not the other. Hence
    ``|got - want| <= 16 (n + 64) eps (scale / SD) (1 + |SMD|)``, with a factor 2 to spare.
    """
    C = np.asarray(C, dtype=np.float64)
    n = C.shape[0]
    sd = np.sqrt(np.array([_pooled_var(C[:, k], t) for k in range(C.shape[1])]))
    scale = np.abs(C).max(axis=0)
    nan = np.isnan(got) | np.isnan(want)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = 16 * (n + 64) * np.finfo(float).eps * scale / sd * (1 + np.abs(want))
        close = np.abs(got - want) <= bound
    return bool((same | (~nan & (sd > 0) & close)).all())


def _pooled_var(x, t) -> float:
    binary = bool(((x == 0) | (x == 1)).all())
    v = [np.mean(x[t == a]) * (1 - np.mean(x[t == a])) if binary else np.var(x[t == a], ddof=1)
         for a in (1, 0)]
    return float(np.mean(v))
