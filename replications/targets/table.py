"""The targets a Table 1 file gives: one per printed cell, with listed, stable ids.

:func:`table_targets` turns a :class:`simulate.table1.Table1` into raw target tables that
:func:`replications.targets.parse_targets` validates like any ``[[targets]]`` entry (every
printed number must occur in the row's quote). Per row and declared column:

- an ``n (%)`` cell -> a ``proportion`` (``bl_{variable}[_{level}]_{arm}_{analysis}``);
  the level rows of a variable are a ``partition`` of the arm unless the table prints only
  some levels (the cohort then holds an ``unprinted`` remainder);
- a ``mean ± SD`` / ``mean (SD)`` cell -> a ``mean`` with its ``sd``
  (``{variable}_mean_{arm}_{analysis}``),
  a ``median (IQR)`` / ``median (range)`` cell a ``median``
  (``{variable}_median_{arm}_{analysis}``; its quartiles or range are not targets);
- a p-value column -> a ``p_value`` (``p_{variable}_{analysis}``; a lone level row adds
  ``_{level}``) comparing the row's cells of its analysis (a variable's header row: its
  first level row's; none for a variable of more than two levels or with an unprinted
  remainder, whose test is not a 2 x 2 one), listed in column order or, when the column
  declares ``compares = [arm, arm]``, in that order and of those arms only;
- an SMD column -> an ``smd`` (``bl_{variable}_smd_{analysis}``);
- a header ``"TACE (n = 160)"`` -> the arm's ``group_size`` (``n_{arm}_{analysis}``).

Cells of a calibration column are audited (role ``reported``); the other columns take their
declared role. A cell declared misprinted (``misprints`` of the table's declaration) gives the
numbers meant and states its print as the target's ``misprint``. :func:`table_target_ids`
lists the ids a study's tables give.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tacebench.replications.analysis.problems import raw_items, raw_table
from tacebench.simulate.table1 import Table1, study_tables
from tacebench.simulate.table1_inputs import UNPRINTED, variables_from_table

from .model import Target, expected_id

__all__ = ["table_targets", "table_target_ids", "study_table_targets", "study_table_cells",
           "study_table_misprints"]

_GROUP_SIZE = re.compile(r"\(\s*n\s*=\s*(\d[\d,]*)\s*\)", re.I)
#: a cell's statistic -> the key of its target that holds it (and a misprint's print)
_TARGET_KEY = {"count": "count", "percent": "percent", "mean": "value", "median": "value",
               "sd": "sd", "p": "p", "value": "value"}


def _place(table: Table1, row, column: str, cell) -> str:
    """``"table1.tsv row 4, column 'P'"``; a cell declared misprinted adds where."""
    place = f"{table.file} row {row.line}, column {column!r}"
    return place + (f" (read as meant: {cell.misprint.key})" if cell.misprint else "")


def _misprint_key(cell) -> str | None:
    return cell.misprint.key if cell.misprint is not None else None


def _with_misprint(t: dict, cell) -> dict:
    """The raw target of a cell declared misprinted states its print as its ``misprint``
    (:mod:`replications.targets.misprints`); ``t`` holds the numbers meant."""
    if cell.misprint is not None:
        t["misprint"] = {**{_TARGET_KEY[k]: x for k, x in cell.misprint.printed},
                         "why": cell.misprint.why}
    return t


def _id(**kw) -> str:
    return expected_id(Target(id="x", role="reported", where="text", source="", **kw))


def _partial(table: Table1, arms: list) -> set[str]:
    """Variables whose calibration counts leave an ``unprinted`` remainder (a level, or a
    bin of a split printed with its mean and SD)."""
    if not arms:
        return set()
    try:
        derived = variables_from_table(table, arms, [])
    except ValueError:                             # reported by the cohort loader
        return set()
    printed = {v["name"]: sum(r.variable == v["name"] and r.level is not None for r in table.rows)
               for v in derived}
    return {v["name"] for v in derived if UNPRINTED in v.get("levels", ())
            or ("cutpoints" in v and printed[v["name"]] < len(v["cutpoints"]) + 1)}


def table_targets(table: Table1, arms: list = ()) -> list[tuple[str, dict]]:
    """Raw targets, with the place of each (``"table1.tsv row 4, column 'P'"``).

    Parameters
    ----------
    table : simulate.table1.Table1
        A read Table 1.
    arms : list of mapping
        The cohort's arms (label, n), to tell a partial categorical row.

    Returns
    -------
    list of (str, dict)
        Raw target tables for :func:`replications.targets.parse_targets`.
    """
    return [(place, t) for place, _, t, _ in _column_targets(table, arms)]


def _column_targets(table: Table1, arms) -> list[tuple[str, int, dict, str | None]]:
    """:func:`table_targets` with the index of the declared column each target comes from
    and the key of its cell's misprint declaration (None: printed as meant)."""
    partial = _partial(table, list(arms))
    levelled: dict[str, int] = {}
    for r in table.rows:
        if r.variable and r.level:
            levelled[r.variable] = levelled.get(r.variable, 0) + 1
    out: list[tuple[str, int, dict, str | None]] = []
    base = {"where": table.where}
    index = {c.column: k for k, c in enumerate(table.columns)}
    for c in table.columns:
        m = _GROUP_SIZE.search(c.column)
        if c.quantity == "cells" and m and table.header_source:
            t = dict(base, analysis=c.analysis, quantity="group_size", arm=c.arm,
                     value=int(m.group(1).replace(",", "")), role="reported",
                     source=table.header_source)
            t["id"] = _id(analysis=c.analysis, quantity="group_size", arm=c.arm)
            out.append((f"{table.file} header, column {c.column!r}", index[c.column], t, None))
    cells_of: dict[tuple[int, str], list[tuple[str | None, str]]] = {}
    for r in table.rows:
        if r.variable is None:
            continue
        for c in table.columns:
            v = r.cell(c.column)
            if v is None or c.quantity != "cells" or v.format not in (
                    "n (%)", "mean ± sd", "mean (sd)", "median (iqr)", "median (range)"):
                continue
            role = "reported" if c.role == "calibration" else c.role
            t = dict(base, analysis=c.analysis, term=r.variable, role=role, source=r.source)
            if c.not_judged is not None:
                t["not_judged"] = c.not_judged
            if c.arm is not None:                   # (no arm: a pooled "Overall" column)
                t["arm"] = c.arm
            if v.format == "n (%)":
                t.update(quantity="proportion", count=v.stats["count"],
                         percent=v.stats["percent"])
                if r.level is not None:
                    t["level"] = r.level
                if levelled.get(r.variable, 0) > 1 and r.variable not in partial:
                    t["partition"] = r.variable
            else:
                stat = "median" if v.format.startswith("median") else "mean"
                t.update(quantity=stat, value=v.stats[stat])
                if stat == "mean":
                    t["sd"] = v.stats["sd"]
                if r.level is not None:
                    t["level"] = r.level
            if c.weighted:
                t["weighted"] = True
            t["id"] = _id(**{k: t[k] for k in ("analysis", "quantity", "term")},
                          arm=t.get("arm"), level=t.get("level"))
            cells_of.setdefault((r.line, c.analysis), []).append((c.arm, t["id"]))
            out.append((_place(table, r, c.column, v), index[c.column], _with_misprint(t, v),
                        _misprint_key(v)))
    rows = [r for r in table.rows if r.variable is not None]
    for i, r in enumerate(rows):
        for c in table.columns:
            v = r.cell(c.column)
            if v is None or c.quantity == "cells":
                continue
            t = dict(base, analysis=c.analysis, term=r.variable, source=r.source,
                     role="reported" if c.quantity == "p_value" else c.role)
            if c.not_judged is not None:
                t["not_judged"] = c.not_judged
            if c.quantity == "p_value":
                t["quantity"] = "p_value"
                t.update({"p_text": v.p_text} if v.p_text else {"p": v.stats["p"]})
                if c.weighted:              # a test of the weighted table, as its cells
                    t["weighted"] = True
                if c.test:
                    t["test"] = c.test
                if r.level is not None and levelled.get(r.variable, 0) == 1:
                    t["level"] = r.level
                # a 2 x k table's p is not a 2 x 2 test of one level: nothing to recompute
                two_by_two = levelled.get(r.variable, 0) <= 2 and r.variable not in partial
                same = cells_of.get((r.line, c.analysis)) or next(
                    (cells_of[(o.line, c.analysis)] for o in rows[i + 1:]
                     if o.variable == r.variable and (o.line, c.analysis) in cells_of), [])
                if c.compares:
                    same = [(a, i) for arm in c.compares for a, i in same if a == arm]
                if same and two_by_two:
                    t["compares"] = [i for _, i in same]
            else:
                t.update(quantity="smd", value=v.stats["value"])
            t["id"] = _id(analysis=c.analysis, quantity=t["quantity"], term=r.variable,
                          level=t.get("level"))
            out.append((_place(table, r, c.column, v), index[c.column], _with_misprint(t, v),
                        _misprint_key(v)))
    return out


def _study_column_targets(folder: Path):
    """``(table, place, column index, raw target)`` of every Table 1 the study folder's
    ``cohort.toml`` declares."""
    cohort = Path(folder) / "cohort.toml"
    if not cohort.is_file():
        return
    data = tomllib.loads(cohort.read_text(encoding="utf-8"))
    raw = raw_table(data.get("cohorts"))
    for table in study_tables(data, Path(folder)):
        arms = raw_items(raw_table(raw.get(table.cohort)).get("arms"))
        for place, k, t, misprint in _column_targets(table, arms):
            yield table, place, k, t, misprint


def study_table_targets(folder: Path) -> list[tuple[str, dict]]:
    """The raw targets of every Table 1 the study folder's ``cohort.toml`` declares."""
    return [(place, t) for _, place, _, t, _ in _study_column_targets(folder)]


def study_table_cells(folder: Path) -> dict[str, tuple[str, str, object]]:
    """Target id -> (its place, the ``cohort.toml`` key of its column, the
    :class:`~simulate.table1.TableColumn`) of every target the study's Table 1 files give
    (a ``[[targets]]`` entry of the same id replaces the cell: its place then differs)."""
    return {t["id"]: (place, f"cohorts.{table.cohort}.table1.columns[{k}]", table.columns[k])
            for table, place, k, t, _ in _study_column_targets(folder)}


def study_table_misprints(folder: Path) -> dict[str, tuple[str, str]]:
    """Target id -> (the cell's place, the ``cohort.toml`` key that declares it misprinted,
    ``cohorts.main.table1.misprints[0]``) for every such Table 1 cell of the study (a
    ``[[targets]]`` entry of the same id replaces the cell: its place then differs, as in
    :func:`study_table_cells`)."""
    return {t["id"]: (place, key) for _, place, _, t, key in _study_column_targets(folder) if key}


def table_target_ids(folder: str | Path) -> list[str]:
    """The ids of the targets a study's Table 1 files give, in table order.

    Parameters
    ----------
    folder : str or Path
        A study folder whose ``cohort.toml`` declares ``[cohorts.<name>.table1]``.

    Returns
    -------
    list of str
        One id per printed cell that is a target (empty without a table).
    """
    return [t["id"] for _, t in study_table_targets(Path(folder))]
