"""Whole counts behind printed rates, and the 2 x 2 tests a paper may have run on them.

Shared by the comparison rules (two-proportion p-values) and the interval rules (which test
gives an odds ratio's printed p); a leaf, so neither rule module imports the other.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from tacebench.estimators.contingency import chi_square_test, fisher_exact_p
from tacebench.replications.targets import Target

from .readings import implied_counts
from .registry import AuditContext
from .rounding import printed

__all__ = ["two_by_two_p_values", "whole_count", "contrast_counts"]


def whole_count(ctx: AuditContext, t: Target) -> tuple[int, int] | None:
    """(count, n) of an unweighted rate: printed, or the only count its percent allows."""
    if t.weighted or t.quantity not in ("rate", "proportion"):
        return None
    den = ctx.denominator(t)
    if den is None or den.size.lo != den.size.hi:
        return None
    n = int(den.size.value)
    if t.count is not None:
        return int(t.count), n
    ks = implied_counts(printed(t, "value"), n) if t.value is not None else range(0)
    return (ks[0], n) if len(ks) == 1 else None


def two_by_two_p_values(a: tuple[int, int], b: tuple[int, int]) -> dict[str, float]:
    """Two-sided p of Pearson chi-square (with and without Yates) and Fisher's exact test.

    Parameters
    ----------
    a, b : tuple of (count, n)
        The two arms' whole counts.

    Returns
    -------
    dict
        Test name -> p (the chi-square tests only when no margin of the table is 0).
    """
    # the rules ask for the same few tables many times (an audit of the five shipped
    # studies: 572 calls, 107 tables), and each test costs a scipy call: computed once
    return dict(_p_values(a[0], a[1], b[0], b[1]))


@lru_cache(maxsize=4096, typed=True)   # typed: an int and a float count are not one key
def _p_values(a_count, a_n, b_count, b_n) -> tuple[tuple[str, float], ...]:
    table = np.array([[a_n - a_count, a_count], [b_n - b_count, b_count]])
    out = {}
    if (table.sum(axis=0) > 0).all() and (table.sum(axis=1) > 0).all():
        out["chi-square"] = chi_square_test(table, correct=False).p_value
        out["chi-square (Yates)"] = chi_square_test(table, correct=True).p_value
    out["Fisher exact"] = fisher_exact_p(table)
    return tuple(out.items())


def contrast_counts(ctx: AuditContext, t: Target) -> list[tuple[int, int]] | None:
    """Whole counts ``[(count, n), (count, n)]`` behind an odds ratio of two arms' rates.

    The rates are those of the same endpoint and analysis for the two arms of the ratio's
    ``contrast`` (the first one with a whole count); None when either is missing.
    """
    if t.quantity != "odds_ratio" or not t.contrast:
        return None
    counts = []
    for arm in t.contrast:
        rates = [r for r in ctx if r.quantity == "rate" and r.endpoint == t.endpoint
                 and r.analysis == t.analysis and r.arm == arm]
        c = next((wc for r in rates if (wc := whole_count(ctx, r)) is not None), None)
        if c is None:
            return None
        counts.append(c)
    return counts
