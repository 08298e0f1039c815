"""Table 1 cells printed wrongly, read as the authors meant them.

The table file holds the paper's table as printed, a wrong cell included. ``misprints`` in
``[cohorts.<name>.table1]`` states what such a cell means, and why::

    [cohorts.main.table1]
    misprints = [
      { variable = "cirrhosis", level = "Yes", column = "Sora+PD-1 (n=82)",
        meant = { percent = 48.8 }, why = "40 of 82 is 48.8%; the No row prints 42 (51.2)" },
    ]

``variable`` and ``level`` name the row as the file's hidden columns do (``level`` only for
a row that has one), ``column`` a declared column, ``meant`` the statistics that differ
from the print (those a target holds: ``count``, ``percent``, ``mean``, ``sd``, ``median``,
``p``, ``value``), ``why`` what the correction rests on. The cell is then read as meant -
by the generator (a calibration column's counts) and by the targets - and keeps its print
(:attr:`simulate.table1_cells.CellValue.misprint`); its target declares the print as its
``misprint``, which the audit reports as a finding about the paper and checks that the
correction corrects something (``docs/study-format.md``, "misprint").
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Mapping, Sequence

from .table1_cells import CellMisprint

__all__ = ["MISPRINT_KEYS", "CORRECTABLE", "apply_misprints"]

MISPRINT_KEYS = frozenset({"variable", "level", "column", "meant", "why"})
#: the statistics of a cell a declaration may correct: those a target holds
CORRECTABLE = ("count", "percent", "mean", "sd", "median", "p", "value")


def _number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def apply_misprints(raw: Any, rows: Sequence, columns: Sequence, key: str,
                    problems: list[tuple[str, str]]) -> list:
    """``rows`` with each declared misprint's cell read as meant.

    Parameters
    ----------
    raw : Any
        The ``misprints`` value of the table declaration.
    rows : sequence of TableRow
        The table's rows as read.
    columns : sequence of TableColumn
        The declared columns.
    key : str
        The table's key (``cohorts.main.table1``), for messages.
    problems : list of (key, message)
        Where every problem is added (all of them, not the first).

    Returns
    -------
    list of TableRow
        The rows, with a corrected cell's ``stats`` as meant and its print in ``misprint``.
    """
    rows = list(rows)
    if not isinstance(raw, list):
        problems.append((f"{key}.misprints", "must be an array of tables {variable, level, "
                         f"column, meant, why}}, got {raw!r}"))
        return rows
    declared = {c.column for c in columns}
    seen: dict[tuple, str] = {}
    for i, m in enumerate(raw):
        mk = f"{key}.misprints[{i}]"
        if not isinstance(m, Mapping):
            problems.append((mk, f"must be a table {{variable, level, column, meant, why}}, "
                             f"got {m!r}"))
            continue
        found = _check_one(m, mk, rows, declared)
        if isinstance(found, list):
            problems.extend(found)
            continue
        index, column, cell, meant = found
        here = (index, column)
        if here in seen:
            problems.append((mk, f"the cell of column {column!r} in row {rows[index].line} "
                             f"is declared already, by {seen[here]}"))
            continue
        seen[here] = mk
        fixed = replace(cell, stats={**cell.stats, **meant},
                        misprint=CellMisprint(printed=tuple((k, cell.stats[k]) for k in meant),
                                              why=m["why"].strip(), key=mk))
        row = rows[index]
        rows[index] = replace(row, cells=tuple((c, fixed if c == column else v)
                                               for c, v in row.cells))
    return rows


def _check_one(m: Mapping, mk: str, rows: Sequence, declared: set):
    """(row index, column, cell, meant) of one declaration, or its problems."""
    probs = []
    unknown = sorted(set(m) - MISPRINT_KEYS)
    if unknown:
        probs.append((mk, f"unknown key(s) {unknown}; allowed: {sorted(MISPRINT_KEYS)}"))
    why = m.get("why")
    if not (isinstance(why, str) and why.strip()):
        probs.append((f"{mk}.why", f"must say, in words, what the correction rests on; "
                      f"got {why!r}"))
    var, level, column = m.get("variable"), m.get("level"), m.get("column")
    if column not in declared:
        probs.append((f"{mk}.column", f"must be a declared column of the table "
                      f"({sorted(declared)}); got {column!r}"))
    matches = [i for i, r in enumerate(rows) if r.variable == var and r.level == level]
    if not matches:
        levels = [r.level for r in rows if r.variable == var]
        hint = (f"its rows' levels are {levels}" if levels else
                "no row describes that variable")
        probs.append((f"{mk}.variable" if not levels else f"{mk}.level",
                      f"no row of variable {var!r} with level {level!r}: {hint}"))
    meant = m.get("meant")
    if not (isinstance(meant, Mapping) and meant):
        probs.append((f"{mk}.meant", f"must be a table of the numbers meant, e.g. "
                      f"{{percent = 48.8}}; got {meant!r}"))
    if probs:
        return probs
    # (a variable's header row and its level-less row can share variable and level: the
    # row meant is the one that prints a cell in the column)
    filled = [i for i in matches if rows[i].cell(column) is not None]
    if len(filled) != 1:
        lines = [rows[i].line for i in (filled or matches)]
        return [(mk, f"rows {lines} of variable {var!r} with level {level!r} all print a cell "
                 f"in column {column!r}: the declaration must name one row" if filled else
                 f"the cell of column {column!r} in row(s) {lines} is empty: nothing to "
                 "correct")]
    index = filled[0]
    cell = rows[index].cell(column)
    for k, v in meant.items():
        here = f"{mk}.meant.{k}"
        if k not in cell.stats or k not in CORRECTABLE:
            can = [s for s in cell.stats if s in CORRECTABLE]
            probs.append((here, f"the cell {cell.text!r} ({cell.format}) has no {k} to "
                          f"correct; it prints {can}"))
        elif not _number(v):
            probs.append((here, f"must be a finite number, the number meant; got {v!r}"))
        elif float(v) == cell.stats[k]:
            probs.append((here, f"equals the print ({cell.text!r}): a misprint records a "
                          "number meant that differs from it"))
        elif k == "p" and cell.p_text:
            probs.append((here, f"the p is printed as a bound ({cell.p_text!r}); only a p "
                          "printed as a number can be declared misprinted"))
    # (a count stays an integer: the generator adds counts up)
    return probs or (index, column, cell,
                     {k: v if isinstance(v, int) else float(v) for k, v in meant.items()})
