"""A paper's conventions, inferred from its own numbers and then applied consistently.

Three kinds, each inferred from the rows that reproduce and reported with that evidence:

- **rounding per column** (a table, an analysis and an arm): rounded, or truncated when at
  least two of the column's percentages reproduce only by truncation, more than twice as
  many as reproduce only by rounding (either reading is then accepted in the column); and per row, levels **forced to add up to 100** (one level a unit off its
  rounding so that the printed row sums to exactly 100);
- **the test behind two-proportion p-values** (Pearson chi-square, with Yates' correction,
  or Fisher's exact test): the one reproducing most of the paper's p-values, at least two;
  and likewise **the test behind 2 x k p-values** (chi-square, Fisher-Freeman-Halton, or
  the chi-square with the exact test for sparse tables), and **the t-test behind p-values
  of two means** (Student's or Welch's), where the paper's own p-values tell them apart;
- **denominators per row**: a row whose percentages and p-value reproduce only with
  ``n - k`` in one arm (``k`` at most 5% of ``n``), corroborated by at least two numbers
  (two rows, or a row's percentage and its p-value) pointing to the same ``n - k``, is
  read as undisclosed missing data in that arm - one finding, not one error per number.

A ratio table's interval convention (Wald, log-symmetric) is inferred in
:mod:`.intervals`, where it is used.
"""
from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Mapping

from .counts import two_by_two_p_values, whole_count
from .readings import ROUND, TRUNCATE, exact_rate, percent_readings, round_half_up
from .findings import Finding
from .intervals import reported_p_interval
from .means import T_TESTS, matching_t_tests, t_test_p_ranges, two_mean_rows
from .registry import AuditContext, rule
from .tables import K_TESTS, k_level_tables, matching_tests, two_by_k_p_values

__all__ = ["Conventions", "MissingData", "infer_conventions", "column_key",
           "reported_p", "MAX_MISSING_SHARE", "MIN_EVIDENCE", "undisclosed_missing_data",
           "conventions_inferred", "t_test_convention"]

#: Largest share of an arm that may be silently missing from a row (``k <= 5% of n``):
#: beyond it a "missing data" reading reconciles almost any count, so it is not tried.
MAX_MISSING_SHARE = 0.05
#: Numbers that must point to the same convention before it is applied.
MIN_EVIDENCE = 2


@dataclass(frozen=True)
class MissingData:
    """Rows of one arm whose numbers reproduce only with ``n_used`` patients, not ``n``."""

    analysis: str
    arm: str
    n: int
    n_used: int
    targets: tuple[str, ...]          # the rates and p-values explained
    rows: tuple[str, ...]             # their terms (variables)


@dataclass(frozen=True)
class Conventions:
    """What :func:`infer_conventions` found; every entry carries its evidence in words."""

    columns: Mapping[tuple, str] = field(default_factory=dict)          # key -> reading
    column_evidence: Mapping[tuple, str] = field(default_factory=dict)
    forced: Mapping[str, str] = field(default_factory=dict)             # target id -> row
    forced_tables: Mapping[str, int] = field(default_factory=dict)      # where -> rows
    missing: tuple[MissingData, ...] = ()
    n_used: Mapping[str, int] = field(default_factory=dict)             # target id -> n - k
    p_test: str | None = None
    p_test_evidence: str = ""
    p_tests: tuple[str, ...] = ()         # p_test and the tests tied with it
    k_test: str | None = None             # the test behind 2 x k / k x 2 p-values
    k_test_evidence: str = ""
    k_tests: tuple[str, ...] = ()         # k_test and the readings tied with it
    t_test: str | None = None             # the t-test behind p-values of two means
    t_test_evidence: str = ""

    def explained_by_missing(self, target_id: str) -> bool:
        return target_id in self.n_used


def column_key(t) -> tuple:
    """A table column: where it is printed, its analysis and arm (None: all arms)."""
    return (t.where, t.analysis, t.arm)


def reported_p(t) -> tuple[float, float] | None:
    """The interval a printed p (or ``p_text`` bound) allows, clipped to [0, 1]."""
    rep = reported_p_interval(t)
    return None if rep is None else rep[:2]


def _forced_rows(ctx: AuditContext) -> tuple[dict[str, str], dict[str, int]]:
    """Levels printed a unit off their rounding so that their row adds up to exactly 100."""
    rows = defaultdict(dict)
    for t in ctx:
        if t.partition:
            rows[(t.where, t.partition, t.analysis, t.arm)].setdefault(t.level, t)
    forced, tables = {}, Counter()
    for (where, part, analysis, arm), levels in rows.items():
        rates = [exact_rate(ctx, t) for t in levels.values()]
        if len(rates) < 2 or None in rates or len({(r.n, r.decimals, r.scale)
                                                    for r in rates}) != 1:
            continue
        d, scale = rates[0].decimals, rates[0].scale
        unit = round_half_up(10.0 ** -d, d)
        shown = [round_half_up(r.value.value * r.scale, d) for r in rates]
        rounded = [round_half_up(r.count / r.n * scale, d) for r in rates]
        whole = round_half_up(scale, d)
        off = [r for r, s, x in zip(rates, shown, rounded) if s != x]
        if (sum(shown) == whole and sum(rounded) != whole and off
                and all(abs(s - x) <= unit for s, x in zip(shown, rounded))):
            for r in off:
                forced[r.target.id] = f"{part} ({analysis}, {arm or 'all arms'}, {where})"
            tables[where] += 1
    return forced, dict(tables)


def _columns(ctx: AuditContext, skip) -> tuple[dict, dict]:
    """Rounding or truncation per column, from the readings of its percentages."""
    tally = defaultdict(Counter)
    for t in ctx:
        r = exact_rate(ctx, t)
        if r is None or t.id in skip:
            continue
        got = percent_readings(r.count, r.n, r.value, r.decimals, r.scale)
        if got:
            tally[column_key(t)][("both" if {ROUND, TRUNCATE} <= got else
                                  ROUND if ROUND in got else
                                  TRUNCATE if TRUNCATE in got else "other")] += 1
    columns, evidence = {}, {}
    for key, c in tally.items():
        # a clear majority of the decisive rows: one row printed with rounding in a
        # truncated column is a row the convention does not reach, not a new convention
        truncated = c[TRUNCATE] >= MIN_EVIDENCE and c[TRUNCATE] > 2 * c[ROUND]
        columns[key] = TRUNCATE if truncated else ROUND
        if truncated:
            where, analysis, arm = key
            evidence[key] = (f"{where}, {analysis}, {arm or 'all arms'}: {c[TRUNCATE]} "
                             f"percentage(s) reproduce only if truncated, "
                             f"{c['both']} either way, {c[ROUND]} only if rounded")
    return columns, evidence


def _two_rate_rows(ctx: AuditContext):
    """``(p target, (rate a, rate b))`` of two-proportion p-values with both rates known."""
    for t in ctx:
        if t.quantity == "p_value" and len(t.compares) == 2 and reported_p(t) is not None:
            rates = [ctx.get(i) for i in t.compares]
            if None not in rates:
                yield t, rates


def _p_test(ctx: AuditContext) -> tuple[str | None, tuple[str, ...], str]:
    """The test reproducing most two-proportion p-values (at least :data:`MIN_EVIDENCE`),
    the tests tied with it (the rows cannot tell them apart), and the evidence."""
    tally, rows = Counter(), 0
    for t, rates in _two_rate_rows(ctx):
        counts = [whole_count(ctx, r) for r in rates]
        if None in counts:
            continue
        lo, hi = reported_p(t)
        hits = [k for k, p in two_by_two_p_values(*counts).items()
                if lo - 1e-12 <= p <= hi + 1e-12]
        rows += 1
        tally.update(hits)
    if not tally:
        return None, (), ""
    declared = Counter(t.test for t, _ in _two_rate_rows(ctx) if t.test)
    order = ["chi-square (Yates)" if "yates" in (declared.most_common(1) or [("",)])[0][0]
             else "chi-square", "chi-square", "chi-square (Yates)", "Fisher exact"]
    best = max(tally, key=lambda k: (tally[k], -order.index(k)))
    if tally[best] < MIN_EVIDENCE:
        return None, (), ""
    tied = tuple(k for k in tally if tally[k] == tally[best])
    others = ", ".join(f"{k} {v}" for k, v in tally.items() if k != best)
    return best, tied, (f"{best} reproduces {tally[best]} of {rows} two-proportion p-value(s) "
                  f"recomputed from whole counts" + (f" ({others})" if others else ""))


def k_level_convention(ctx: AuditContext) -> tuple[str | None, tuple[str, ...], str]:
    """The test behind the paper's 2 x k p-values: the reading reproducing most of them
    (at least :data:`MIN_EVIDENCE`), the readings tied with it, and the evidence in words."""
    tally, rows = Counter(), 0
    for _, rep, _, table in k_level_tables(ctx):
        rows += 1
        tally.update(matching_tests(two_by_k_p_values(table), rep))
    if not tally:
        return None, (), ""
    best = max(tally, key=lambda k: (tally[k], -K_TESTS.index(k)))
    if tally[best] < MIN_EVIDENCE:
        return None, (), ""
    tied = tuple(k for k in K_TESTS if tally.get(k) == tally[best])
    others = ", ".join(f"{k} {v}" for k, v in tally.items() if k not in tied)
    return best, tied, (f"{' / '.join(tied)} reproduces {tally[best]} of {rows} 2 x k "
                        f"p-value(s)" + (f" ({others})" if others else ""))


def t_test_convention(ctx: AuditContext) -> tuple[str | None, str]:
    """The t-test behind the paper's p-values of two means, and the evidence in words.

    Within rounding most rows are reproduced by both Student's and Welch's t; only the rows
    one test alone reproduces tell them apart. The paper's test is the one alone
    reproducing at least :data:`MIN_EVIDENCE` rows while the other alone reproduces fewer
    (a paper choosing per row, by Levene's test say, shows both and has no one test).
    """
    alone, both, rows = Counter(), 0, 0
    for t, rep, _, arms in two_mean_rows(ctx):
        rows += 1
        hits = matching_t_tests(t_test_p_ranges(*arms), rep)
        if len(hits) == 1:
            alone[hits[0]] += 1
        both += len(hits) == 2
    best = max(T_TESTS, key=lambda k: (alone[k], -T_TESTS.index(k)))
    other = next(k for k in T_TESTS if k != best)
    if alone[best] < MIN_EVIDENCE or alone[other] >= MIN_EVIDENCE:
        return None, ""
    return best, (f"{best} alone reproduces {alone[best]} of {rows} p-value(s) of two means "
                  f"({other} alone {alone[other]}, both {both})")


def _missing(ctx: AuditContext, p_test: str | None,
             columns: Mapping[tuple, str]) -> tuple[MissingData, ...]:
    """Arms whose failing rows reproduce, corroborated, with ``n - k`` patients (each
    percentage read by its column's convention: rounded, or either way if truncated)."""
    def _fits(r, n: int) -> bool:
        ok = {ROUND, TRUNCATE} if columns.get(column_key(r.target)) == TRUNCATE else {ROUND}
        return bool(ok & percent_readings(r.count, n, r.value, r.decimals, r.scale))

    evidence = defaultdict(lambda: defaultdict(set))      # (analysis, arm, n) -> n-k -> ids
    terms = {}
    for t in ctx:
        r = exact_rate(ctx, t)
        if r is None or t.arm is None or _fits(r, r.n):
            continue
        for k in range(1, int(MAX_MISSING_SHARE * r.n) + 1):
            if r.count <= r.n - k and _fits(r, r.n - k):
                evidence[(t.analysis, t.arm, r.n)][r.n - k].add(t.id)
                terms[t.id] = t.term
    for t, rates in _two_rate_rows(ctx):
        ex = [exact_rate(ctx, r) for r in rates]
        if None in ex:
            continue
        lo, hi = reported_p(t)

        def matches(ns):
            ps = two_by_two_p_values(*((r.count, n) for r, n in zip(ex, ns)))
            tests = [p_test] if p_test in ps else list(ps)
            return any(lo - 1e-12 <= ps[k] <= hi + 1e-12 for k in tests)
        if matches([r.n for r in ex]):
            continue
        options = [[r.n] + [r.n - k for k in range(1, int(MAX_MISSING_SHARE * r.n) + 1)
                            if r.count <= r.n - k and _fits(r, r.n - k)] for r in ex]
        for ns in itertools.product(*options):
            changed = [(r, n) for r, n in zip(ex, ns) if n != r.n]
            if len(changed) == 1 and matches(ns):
                r, n = changed[0]
                evidence[(t.analysis, r.target.arm, r.n)][n].update({t.id, r.target.id})
                terms[t.id] = terms[r.target.id] = t.term
    out = []
    for (analysis, arm, n), by_n in evidence.items():
        n_used, ids = max(by_n.items(), key=lambda kv: (len(kv[1]), kv[0]))
        if len(ids) >= MIN_EVIDENCE:
            ids = tuple(sorted(ids))
            out.append(MissingData(analysis, arm, n, n_used, ids,
                                   tuple(dict.fromkeys(terms[i] for i in ids if terms[i]))))
    return tuple(out)


def infer_conventions(ctx: AuditContext) -> Conventions:
    """Infer the paper's rounding, test and denominator conventions from its numbers.

    Parameters
    ----------
    ctx : AuditContext
        The study's targets and arm sizes (its ``conventions`` are not read).

    Returns
    -------
    Conventions
        Columns read as truncated, levels forced to 100, the two-proportion, 2 x k and
        t-tests, and the arms with rows computed on fewer patients, each with its evidence.

    References
    ----------
    Brown NJL, Heathers JAJ. The GRIM test. Soc Psychol Personal Sci 2017;8:363-9.
    Nuijten MB et al. The prevalence of statistical reporting errors in psychology
    (1985-2013). Behav Res Methods 2016;48:1205-26.
    """
    forced, forced_tables = _forced_rows(ctx)
    columns, col_evidence = _columns(ctx, forced)
    p_test, p_tests, p_evidence = _p_test(ctx)
    missing = _missing(ctx, p_test, columns)
    n_used = {}
    for m in missing:
        for i in m.targets:
            n_used[i] = m.n_used
    k_test, k_tests, k_evidence = k_level_convention(ctx)
    t_test, t_evidence = t_test_convention(ctx)
    return Conventions(columns, col_evidence, forced, forced_tables, missing, n_used,
                       p_test, p_evidence, p_tests, k_test, k_evidence, k_tests,
                       t_test, t_evidence)


@rule("undisclosed_missing_data", "conventions")
def undisclosed_missing_data(ctx: AuditContext):
    """Rows computed on fewer patients than the arm, without saying so (one finding).

    A row's percentages and p-value that reproduce only with ``n - k`` patients in one
    arm, corroborated by at least :data:`MIN_EVIDENCE` numbers pointing to the same
    ``n - k`` (see :func:`infer_conventions`), are not transcription slips but data the
    paper does not disclose as missing: a warning, listing every arm and row, instead of
    an error per number.
    """
    missing = ctx.conventions.missing if ctx.conventions else ()
    if not missing:
        return
    parts = [f"{m.arm} n = {m.n_used} (of {m.n}) in {len(m.rows)} row(s) of {m.analysis}: "
             f"{', '.join(m.rows)}" for m in missing]
    ids = tuple(i for m in missing for i in m.targets)
    for m in missing:          # one check per arm and row set, made by the inference
        ctx.failed(*m.targets)
    yield Finding("undisclosed_missing_data", "warning", ids,
                  "undisclosed missing data: " + "; ".join(parts) + " - the rows' "
                  "percentages and p-values reproduce exactly with these denominators, "
                  "not with the arm sizes", float(sum(m.n - m.n_used for m in missing)),
                  "patients", "; ".join(f"n = {m.n_used}" for m in missing),
                  "; ".join(f"n = {m.n}" for m in missing))


@rule("conventions_inferred", "conventions")
def conventions_inferred(ctx: AuditContext):
    """The conventions the audit inferred and applied, with their evidence (``info``)."""
    conv = ctx.conventions
    if conv is None:
        return
    if conv.p_test:
        yield Finding("conventions_inferred", "info", (),
                      f"two-proportion p-values: {conv.p_test}; evidence: "
                      f"{conv.p_test_evidence}")
    if conv.k_test:
        yield Finding("conventions_inferred", "info", (),
                      f"p-values of 2 x k tables: {' / '.join(conv.k_tests)}; evidence: "
                      f"{conv.k_test_evidence}")
    if conv.t_test:
        yield Finding("conventions_inferred", "info", (),
                      f"p-values of two means: {conv.t_test}; evidence: {conv.t_test_evidence}")
    for key, text in conv.column_evidence.items():
        yield Finding("conventions_inferred", "info", (),
                      f"percentages truncated, not rounded, in {text}")
    for where, rows in conv.forced_tables.items():
        ids = tuple(i for i, row in conv.forced.items() if row.endswith(f", {where})"))
        yield Finding("conventions_inferred", "info", ids,
                      f"{where}: rows forced to add up to 100% ({rows} row(s): one level "
                      "a unit off its rounding so that the row sums to exactly 100)")
