"""The cohort inputs a Table 1 gives: per-arm summaries of each variable from its calibration columns.

Per variable (the rows naming it, in table order) and calibration column (an arm):

- rows with a ``level`` printed as ``n (%)`` make a categorical variable, the levels in
  table order; when an arm's printed counts fall short of the arm's size the rest is an
  explicit level ``"unprinted"`` (a row printing only some levels), never renormalised
  away; counts above the arm's size are an error;
- a row without a level printed as ``n (%)`` is a binary variable (its count);
- ``mean ± SD`` / ``mean (SD)`` rows give ``mean`` and ``sd``; ``median (IQR)`` rows give
  ``median``, ``q1`` and ``q3`` and ``median (range)`` rows ``median``, ``min`` and ``max``,
  which the generator fits as quantiles (:mod:`simulate.marginals`), never as a mean.
  A variable summarised by a median only is skewed by default (``distribution =
  "lognormal"``) unless ``cohort.toml`` declares its distribution.

- a ``mean ± SD`` row together with ``n (%)`` rows whose ``level`` is a comparison with a
  cut point (``> 60``) make a continuous variable with ``cutpoints``, its split counts and
  its mean and SD (:mod:`simulate.table1_split`).

A variable that ``cohort.toml`` declares with ``arms`` keeps them (a split or multiselect
the table cannot express): the table then only quotes it and gives its targets.
"""
from __future__ import annotations

from typing import Any, Mapping

from .spec_base import SpecError
from .table1_split import split_summaries

__all__ = ["UNPRINTED", "variables_from_table"]

#: the level holding the rest of an arm when a categorical row prints only some levels
UNPRINTED = "unprinted"
_MEDIAN_FORMATS = ("median (iqr)", "median (range)")


def _arm_sizes(arms: list) -> dict[str, int]:
    return {a["label"]: a["n"] for a in arms
            if isinstance(a, Mapping) and isinstance(a.get("label"), str)
            and isinstance(a.get("n"), int)}


def _summaries(table, rows, var: str, declared: Mapping, n: Mapping[str, int]) -> dict:
    """type, levels, arms (and a default distribution) of one variable from its rows."""
    cal = [c for c in table.columns if c.role == "calibration" and c.quantity == "cells"]
    where = f"{table.file}: variable {var!r}"
    rows = [r for r in rows if any(r.cell(c.column) is not None for c in cal)]
    levelled = [r for r in rows if r.level is not None]
    plain = [r for r in rows if r.level is None]       # (a heading with a p-value: none)
    vtype = declared.get("type")
    formats = {v.format for r in rows for c in cal if (v := r.cell(c.column)) is not None}
    if not formats:
        return {}
    if levelled and any(f != "n (%)" for f in formats) and not plain:
        raise SpecError(where, f"level rows must be printed as n (%), got {sorted(formats)}")
    out: dict[str, Any] = {}
    split = split_summaries(table, rows, var, cal, n) if levelled and plain else None
    if split is not None:                           # mean ± SD row + "> 60" rows
        return split
    if levelled and vtype != "binary":
        if plain:
            raise SpecError(where, f"mixes level rows with a row without a level (line "
                            f"{plain[0].line}); give its arms in cohort.toml")
        levels = [r.level for r in levelled]
        if len(set(levels)) != len(levels):
            raise SpecError(where, f"a level is printed twice: {levels}")
        arms, short = {}, False
        for c in cal:
            counts = [v.stats["count"] if (v := r.cell(c.column)) else None for r in levelled]
            if None in counts:
                raise SpecError(where, f"column {c.column!r} leaves level "
                                f"{levels[counts.index(None)]!r} empty")
            total, size = sum(counts), n.get(c.arm)
            if size is not None and total > size:
                raise SpecError(where, f"column {c.column!r}: the counts add up to {total}, "
                                f"more than the {size} patients of arm {c.arm!r}")
            if size is not None and total < size:
                short = True
            arms[c.arm] = {"counts": counts}
        if short:                                  # an explicit remainder, in every arm
            levels.append(UNPRINTED)
            for c in cal:
                arms[c.arm]["counts"].append(n.get(c.arm, 0) - sum(arms[c.arm]["counts"]))
        out.update(type="categorical", levels=levels, arms=arms)
        return out
    if vtype != "binary" and formats == {"n (%)"} and (why := _declared_continuous(declared)):
        cell = next(v.text for c in cal if (v := rows[0].cell(c.column)) is not None)
        raise SpecError(where, f"is declared continuous ({why}) but its row (line {rows[0].line}, "
                        f"{rows[0].label!r}) reads as n (%) ({cell!r}): for a mean (SD) declare "
                        "format = \"mean (sd)\" on the row or say mean/SD in its label")
    if vtype == "binary" or formats == {"n (%)"}:
        if len(rows) != 1:
            raise SpecError(where, f"a binary variable takes one row, got {len(rows)} "
                            f"(lines {[r.line for r in rows]})")
        out.update(type="binary", arms={c.arm: {"count": v.stats["count"]} for c in cal
                                        if (v := rows[0].cell(c.column)) is not None})
        return out
    if "n (%)" in formats:
        raise SpecError(where, f"mixes n (%) with summaries {sorted(formats - {'n (%)'})}")
    arms = {}
    for c in cal:
        stats: dict[str, float] = {}
        for r in rows:
            if (v := r.cell(c.column)) is not None:
                stats.update(v.stats)
        if stats:
            arms[c.arm] = stats
    out.update(type=vtype or "continuous", arms=arms)
    if formats <= set(_MEDIAN_FORMATS):
        out["distribution"] = "lognormal"
    return out


def _declared_continuous(declared: Mapping) -> str:
    """The keys by which ``cohort.toml`` declares a variable continuous ("" if none):
    its type, else keys only a continuous variable takes."""
    if declared.get("type") in ("continuous", "count"):
        return f"type = {declared['type']!r}"
    if "type" in declared:
        return ""
    return ", ".join(k for k in ("unit", "lower", "upper", "distribution") if k in declared)


def _reorder(derived: Mapping, levels: list, where: str) -> dict:
    """Per-arm counts in the order of the levels cohort.toml declares."""
    printed = derived["levels"]
    missing = [lv for lv in printed if lv not in levels]
    if missing:
        raise SpecError(where, f"printed level(s) {missing} are not among the declared "
                        f"levels {levels}")
    absent = [lv for lv in levels if lv not in printed]
    if absent:
        raise SpecError(where, f"declared level(s) {absent} have no row in the table")
    return {arm: {"counts": [s["counts"][printed.index(lv)] for lv in levels]}
            for arm, s in derived["arms"].items()}


def variables_from_table(table, arms: list, declared: list) -> list[dict]:
    """The cohort's ``variables`` with the table's calibration columns filled in.

    Parameters
    ----------
    table : simulate.table1.Table1
        The read table.
    arms : list of mapping
        The cohort's ``arms`` as parsed (label, n).
    declared : list of mapping
        The cohort's own ``variables`` (kept first, in their order; their keys win).

    Returns
    -------
    list of dict
        Raw variable tables for :func:`simulate.io.spec_from_dict`: the declared ones,
        completed, then the table's other variables in table order.
    """
    n = _arm_sizes(arms)
    labels = set(n)
    for c in table.columns:
        if c.role == "calibration" and c.arm not in labels:
            raise SpecError(f"cohorts.{table.cohort}.table1.columns", f"arm {c.arm!r} of "
                            f"column {c.column!r} is not an arm of the cohort {sorted(labels)}")
    by_var: dict[str, list] = {}
    for r in table.rows:
        if r.variable is not None:
            by_var.setdefault(r.variable, []).append(r)
    out, problems, seen = [], [], set()
    tabled = [{"name": name} for name in by_var if name not in {
        d.get("name") for d in declared if isinstance(d, Mapping)}]
    for v in list(declared) + tabled:
        if not isinstance(v, Mapping) or v.get("name") in seen:
            out.append(v)                          # (spec_from_dict reports it)
            continue
        seen.add(v.get("name"))
        rows = by_var.get(v.get("name"))
        try:
            derived = _summaries(table, rows, v["name"], v, n) if rows and "arms" not in v else {}
        except SpecError as e:
            problems.extend(e.problems)
            continue
        if not derived:                 # declared with its arms, or no calibration cells
            if len(v) > 1 or "arms" in v:
                out.append(dict(v))
            continue
        merged = {**derived, "source": "\n".join(r.source for r in rows), **v}
        merged["arms"] = derived["arms"]
        if "levels" in v and "levels" in derived:
            try:
                merged["arms"] = _reorder(derived, list(v["levels"]),
                                          f"{table.file}: variable {v['name']!r}")
            except SpecError as e:
                problems.extend(e.problems)
        out.append(merged)
    if problems:
        raise SpecError(problems)
    return out
