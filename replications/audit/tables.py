"""P-values of 2 x k and k x 2 tables (response categories, multi-level baseline rows)
recomputed, and the test a paper uses for them inferred from its own p-values."""
from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from scipy.special import gammaln

from .counts import whole_count
from .findings import Finding
from .intervals import reported_p_interval
from .registry import AuditContext, rule
from .rounding import fmt, gap

__all__ = ["fisher_freeman_halton_2xk", "two_by_k_p_values", "two_by_k_p", "sparse",
           "k_level_tables", "matching_tests", "K_TESTS", "COCHRAN"]

#: Relative tolerance for "as or less probable than the observed table" (R's fisher.test
#: uses 1 + 1e-7 so that tables equal in probability up to floating error count).
_REL_TOL = 1e-7
#: Largest number of candidate tables enumerated; beyond it (large samples, where the
#: chi-square approximation is close to the exact test) only the chi-square is computed.
MAX_TABLES = 4_000_000
#: The chi-square where it is adequate, the exact test where Cochran's rule finds the
#: table sparse (a common reporting rule: "chi-square or Fisher's exact test, as appropriate")
COCHRAN = "chi-square (Fisher-Freeman-Halton if sparse)"
#: Readings of a 2 x k p-value, in order of preference when tied.
K_TESTS = ("chi-square", "Fisher-Freeman-Halton", COCHRAN)


def fisher_freeman_halton_2xk(table) -> float | None:
    """Exact two-sided p of a 2 x k table with fixed margins (Freeman & Halton 1951).

    Every first row with the observed column and row totals is enumerated; its
    probability is the multivariate hypergeometric ``prod C(c_j, x_j) / C(N, r_1)``, and
    the p-value sums the probabilities of the tables no more probable than the observed.

    Parameters
    ----------
    table : array_like of int, shape (2, k)

    Returns
    -------
    float or None
        None when more than :data:`MAX_TABLES` tables would have to be enumerated.

    References
    ----------
    Freeman GH, Halton JH. Note on an exact treatment of contingency, goodness of fit and
    other problems of significance. Biometrika 1951;38:141-9.
    """
    t = np.asarray(table, dtype=int)
    if t.ndim != 2 or t.shape[0] != 2 or (t < 0).any():
        raise ValueError(f"table: expected a 2 x k table of non-negative counts, got {t!r}")
    cols, r1 = t.sum(axis=0), int(t[0].sum())
    order = np.argsort(cols)               # enumerate the small margins, fix the largest
    t, cols = t[:, order], cols[order]

    def logc(n, k):
        return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)

    # all first rows x with 0 <= x_j <= c_j and sum x = r1: the first k - 1 entries on a
    # grid, the last one fixed by the row total
    if np.prod(cols[:-1] + 1.0) > MAX_TABLES:
        return None
    grid = np.stack([g.ravel() for g in np.meshgrid(*(np.arange(c + 1) for c in cols[:-1]),
                                                    indexing="ij")], axis=1)
    last = r1 - grid.sum(axis=1)
    keep = (last >= 0) & (last <= cols[-1])
    rows = np.column_stack([grid[keep], last[keep]])
    logp = logc(cols, rows).sum(axis=1) - logc(cols.sum(), r1)
    obs = logc(cols, t[0]).sum() - logc(cols.sum(), r1)
    p = np.exp(logp)
    return float(min(1.0, p[logp <= obs + np.log1p(_REL_TOL)].sum()))


def two_by_k_p_values(table) -> dict[str, float]:
    """Pearson chi-square (no continuity correction) and Fisher-Freeman-Halton p-values of a
    2 x k table or its transpose, a k x 2 table (k levels in rows, two arms in columns);
    categories empty in both arms are dropped first.

    Parameters
    ----------
    table : array_like of int, shape (2, k) or (k, 2)

    Returns
    -------
    dict
        ``{"chi-square": p, "Fisher-Freeman-Halton": p}`` (the exact test only when its
        enumeration is affordable, :data:`MAX_TABLES`); empty when an arm is empty or
        fewer than two categories remain.
    """
    t = np.asarray(table, dtype=int)
    if t.ndim == 2 and t.shape[1] == 2 and t.shape[0] > 2:
        t = t.T                       # k x 2: the same test on the transposed table
    t = t[:, t.sum(axis=0) > 0]
    if t.shape[1] < 2 or (t.sum(axis=1) == 0).any():
        return {}
    from scipy.stats import chi2_contingency  # (not at import: ~1 s of the command's start-up)

    out = {"chi-square": float(chi2_contingency(t, correction=False).pvalue)}
    exact = fisher_freeman_halton_2xk(t)
    if exact is not None:
        out["Fisher-Freeman-Halton"] = exact
    if exact is not None and sparse(t):
        out[COCHRAN] = exact
    elif exact is not None:
        out[COCHRAN] = out["chi-square"]
    return out


def sparse(table) -> bool:
    """Cochran's rule: the chi-square approximation is poor when any expected count is
    below 1 or more than 20% are below 5 (Cochran WG. Some methods for strengthening the
    common chi-square tests. Biometrics 1954;10:417-51)."""
    t = np.asarray(table, dtype=float)
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    return bool((expected < 1).any() or (expected < 5).mean() > 0.2)


def _level_rows(ctx: AuditContext):
    """Rates per (analysis, endpoint or partition) -> arm -> level -> target."""
    rows = defaultdict(lambda: defaultdict(dict))
    for t in ctx:
        if t.quantity in ("rate", "proportion") and t.level and t.arm:
            for name in {t.partition, t.endpoint, t.term} - {None}:
                rows[(t.analysis, name)][t.arm].setdefault(t.level, t)
    return rows


def k_level_tables(ctx: AuditContext, *, log: bool = False):
    """``(p target, printed p interval, {arm: {level: rate}}, table)`` of every p-value of a
    2 x k / k x 2 table with whole counts; with ``log``, numbers it cannot recompute are
    recorded (:meth:`AuditContext.skipped`) with what is missing."""
    rows = _level_rows(ctx)
    for t in ctx:
        if t.quantity != "p_value" or len(t.compares) > 0:
            continue
        rep = reported_p_interval(t)
        arms = next((rows[(t.analysis, n)] for n in (t.endpoint, t.term)
                     if n and (t.analysis, n) in rows), None)
        if rep is None or arms is None:
            continue
        levels = [list(a) for a in arms.values()]
        if len(arms) != 2 or len({frozenset(x) for x in levels}) != 1 or len(levels[0]) < 3:
            if log:
                ctx.skipped(t.id, "its categories are not printed for exactly two arms "
                            "with the same three or more levels")
            continue
        counts = [[whole_count(ctx, a[lv]) for lv in levels[0]] for a in arms.values()]
        if any(c is None for row in counts for c in row):
            if log:
                ctx.skipped(t.id, "its categories' whole counts are unknown (weighted "
                            "counts, or no denominator)")
            continue
        table = np.array([[c for c, _ in row] for row in counts])
        if any(sum(r) != row[0][1] for r, row in zip(table, counts)):
            if log:
                ctx.skipped(t.id, "its categories do not partition each arm")
            continue
        yield t, rep, {arm: {lv: a[lv] for lv in levels[0]} for arm, a in arms.items()}, table


def matching_tests(ps: dict, rep) -> list[str]:
    """The tests of ``ps`` whose p lies in the printed interval ``rep``."""
    return [k for k, p in ps.items() if rep[0] - 1e-12 <= p <= rep[1] + 1e-12]


@rule("two_by_k_p", "comparisons")
def two_by_k_p(ctx: AuditContext):
    """A p-value of a 2 x k or k x 2 table (two arms, k >= 3 categories: a Table 1 row of
    three or more levels, a response-category table) must match the paper's test.

    Applies to ``p_value`` targets naming an ``endpoint`` or ``term`` whose categories
    (rates with a ``level``) are printed for exactly two arms with whole counts, all
    levels in both. The printed p (half a unit in its last digit; ``p < x`` allows
    ``[0, x]``) is compared with Pearson's chi-square, the Fisher-Freeman-Halton exact
    test, and the chi-square with the exact test where Cochran's rule finds the table
    sparse (:func:`sparse`). Error when no test agrees on significance at 0.05; a warning
    when no test gives the printed p, or when only a test other than the paper's own
    (the reading reproducing most of its 2 x k p-values,
    :func:`~.conventions.k_level_convention`) does.
    """
    conv = ctx.conventions
    own = tuple(getattr(conv, "k_tests", ()) or ())
    for t, rep, arms, table in k_level_tables(ctx, log=True):
        ctx.checked(t.id, *(x.id for a in arms.values() for x in a.values()))
        ps = two_by_k_p_values(table)
        hits = matching_tests(ps, rep)
        if not ps or (hits and (not own or set(own) & set(hits))):
            continue
        levels = list(next(iter(arms.values())))
        cells = " vs ".join("/".join(str(int(c)) for c in r) for r in table)
        ids = (t.id,) + tuple(x.id for a in arms.values() for x in a.values())
        head = (f"{t.id}: p {rep[2]} printed for the 2 x {table.shape[1]} table {cells} "
                f"({', '.join(levels)}); ")
        if hits:
            ctx.failed(*ids)
            yield Finding("two_by_k_p", "warning", ids,
                          head + f"it is the {' / '.join(hits)} p, while the paper's other "
                          f"2 x k p-values use {' / '.join(own)} ({conv.k_test_evidence}), "
                          f"which gives {fmt(ps[own[0]], 3)}", 0.0, "p", rep[2],
                          fmt(ps[own[0]], 3))
            continue
        shown = ", ".join(f"{k} {fmt(v, 3)}" for k, v in ps.items() if k != COCHRAN)
        decision = all((p < 0.05) != (rep[1] < 0.05) for p in ps.values())
        closest = min(ps.values(), key=lambda p: gap((p, p), rep[:2]))
        ctx.failed(*ids)
        yield Finding("two_by_k_p", "error" if decision else "warning", ids,
                      head + f"recomputed: {shown}"
                      + ("; no test agrees on significance at 0.05" if decision else ""),
                      gap((closest, closest), rep[:2]), "p", rep[2], fmt(closest, 3))
