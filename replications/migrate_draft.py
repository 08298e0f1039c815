"""Draft a Table 1 file from the TOML form of a study's baseline table.

The TOML form states a Table 1 as ``[[baseline]]`` rows and Table-1 ``[[targets]]`` (p-values,
SMDs, means), each with its verbatim quote of the printed row. :func:`draft_tables` rebuilds
the printed table from those quotes: the line of a quote that holds a target's number is the
target's row, the cell holding it fixes the target's column (an arm in an analysis, a p-value
or an SMD column), and every column's position must agree across rows. Nothing is guessed:
a target whose number is not found in its quote, or whose row contradicts the columns the
other rows agree on, is left out (it stays in ``targets.toml``). The draft is a proposal:
:mod:`replications.migrate` keeps only what derives the same targets back.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

from tacebench.simulate.table1_cells import CellError, read_cell

__all__ = ["TABLE_QUANTITIES", "Candidate", "TableDraft", "draft_tables", "norm"]

#: the target quantities a Table 1 file gives
TABLE_QUANTITIES = ("proportion", "mean", "p_value", "smd")
_KIND_ORDER = {"cells": 0, "p_value": 1, "smd": 2}
_NUM = r"\d[\d,]*(?:\.\d+)?"
# a cell at the end of a space-separated printed line: n (%), mean ± SD, p or number
_TRAILING_CELL = re.compile(
    rf"^(.*\S)\s+((?:[<>≤≥]=?\s*)?{_NUM}(?:\s*(?:±|\+/-|\+-|\\pm)\s*{_NUM}"
    rf"|\s*\(\s*{_NUM}\s*%?\s*\))?)\s*$")


def norm(text: str) -> str:
    """A quote as the quote check compares it: every run of whitespace one space."""
    return " ".join(str(text).split())


@dataclass(frozen=True)
class Candidate:
    """A Table 1 target of the TOML form: where it is written and its raw table."""

    origin: tuple[str, int]           # ("targets", i) or ("baseline", i)
    raw: Mapping


@dataclass(frozen=True)
class TableDraft:
    """One printed table rebuilt from quotes.

    ``rows`` are ``(variable, level, format, printed cells)``; ``placed`` the ids of the
    targets whose cell was found; ``left_out`` why the others were not.
    """

    where: str
    cohort: str
    header: tuple[str, ...]
    columns: tuple[dict, ...]
    rows: tuple[tuple[str, str | None, str | None, tuple[str, ...]], ...]
    placed: tuple[str, ...]
    keys: tuple[tuple[str, tuple], ...] = ()       # (header, column key) of every column
    left_out: tuple[tuple[str, str], ...] = field(default=())


def _close(a, b) -> bool:
    return a is not None and b is not None and math.isclose(float(a), float(b),
                                                            rel_tol=0, abs_tol=1e-9)


def _holds(text: str, t: Mapping, label: str) -> bool:
    """Whether a printed cell holds the target's number(s)."""
    q = t.get("quantity")
    try:
        if q == "p_value":
            v = read_cell(text, "p")
            if t.get("p_text") is not None:
                return v is not None and v.p_text == str(t["p_text"]).replace(" ", "")
            return v is not None and v.p_text is None and _close(v.stats["p"], t.get("p"))
        if q == "smd":
            v = read_cell(text, "number")
            return v is not None and _close(v.stats["value"], t.get("value"))
        if q == "proportion":
            v = read_cell(text, "n (%)", label, weighted=True)
            return v is not None and ("count" in t or "percent" in t) and all(
                _close(v.stats[k], t[k]) for k in ("count", "percent") if k in t)
        v = read_cell(text, None, label)
        return v is not None and v.format in ("mean ± sd", "mean (sd)") and _close(
            v.stats["mean"], t.get("value"))
    except (CellError, ValueError, TypeError):
        return False


def column_key(t: Mapping) -> tuple:
    """The column a target's cell sits in."""
    q = t["quantity"]
    if q in ("proportion", "mean"):
        return ("cells", t.get("analysis"), t.get("arm"), bool(t.get("weighted", False)))
    return (q, t.get("analysis"))


def _split(line: str, targets: list[Mapping]) -> tuple[list[str], dict[int, Mapping], bool]:
    """A printed line as cells, and which target each cell holds.

    A tab-separated line keeps its cells; a space-separated one loses its trailing cells
    one by one, each only when it holds a target of the row (the rest is the label).
    Targets are matched in their written order, each to the leftmost free cell.
    """
    if "\t" in line:
        cells = line.split("\t")
        taken: dict[int, Mapping] = {}
        for t in targets:
            pos = next((i for i in range(1, len(cells)) if i not in taken
                        and _holds(cells[i], t, cells[0])), None)
            if pos is not None:
                taken[pos] = t
        return cells, taken, True
    rest, tail, free = line.strip(), [], list(targets)
    while (m := _TRAILING_CELL.match(rest)) is not None:
        t = next((t for t in reversed(free) if _holds(m.group(2), t, m.group(1))), None)
        if t is None:
            break
        free.remove(t)
        tail.insert(0, (m.group(2), t))
        rest = m.group(1)
    cells = [rest] + [c for c, _ in tail]
    return cells, {i + 1: t for i, (_, t) in enumerate(tail)}, False


def _trailing_cells(line: str) -> list[str]:
    """Every cell-shaped token at the end of a space-separated line."""
    out, rest = [], line.strip()
    while (m := _TRAILING_CELL.match(rest)) is not None:
        out.append(m.group(2))
        rest = m.group(1)
    return out


def _row_line(t: Mapping) -> str | None:
    """The line of the target's quote that holds its number (the last such line)."""
    lines = [ln for ln in str(t.get("source", "")).split("\n") if ln.strip()]
    found = [ln for ln in lines if (_split(ln, [t])[1] if "\t" in ln else any(
        _holds(c, t, "") for c in _trailing_cells(ln)))]
    return found[-1] if found else None


def _merge_rows(by_row: dict) -> dict:
    """One row per printed line: a quote that stops before the row's last cells (the
    p-value column left out) is the same row as the longer quote of it."""
    out: dict = {}
    for key in sorted(by_row, key=lambda k: -len(norm(k[1]))):
        short = norm(key[1])
        into = next((k for k in out if k[0] == key[0] and (
            norm(k[1]) == short or norm(k[1]).startswith(short + " "))), key)
        out.setdefault(into, []).extend(by_row[key])
    return {k: out[k] for k in sorted(out, key=lambda k: _first(k, by_row, out))}


def _first(key, by_row: dict, merged: dict) -> int:
    """Where a merged row was first written (keeps targets.toml's order of rows)."""
    order = list(by_row)
    ids = {id(t) for t in merged[key]}
    return min(i for i, k in enumerate(order) if any(id(t) in ids for t in by_row[k]))


def _row_order(keys: list, quotes: list[str]) -> list:
    """Rows in printed order: a quote spanning several rows orders them; otherwise the
    order in which targets.toml first writes them ([[baseline]] rows first)."""
    by_line: dict[str, list] = {}
    for k in keys:
        by_line.setdefault(norm(k[1]), []).append(k)
    after: dict = {k: set() for k in keys}
    for q in quotes:
        seq = [k for ln in q.split("\n") if ln.strip() for k in by_line.get(norm(ln), [])]
        for a, b in zip(seq, seq[1:]):
            if a != b:
                after[b].add(a)
    done, out = set(), []

    def emit(k, path=()):                          # its rows above it first, then itself
        if k in done or k in path:
            return
        for a in sorted(after[k], key=keys.index):
            emit(a, path + (k,))
        if k not in done:
            done.add(k)
            out.append(k)

    for k in keys:
        emit(k)
    return out


def _columns(rows: dict) -> tuple[list, dict, list]:
    """Column positions agreed by the rows; the variables that disagree."""
    at = Counter()
    for cells, taken, tab in rows.values():
        if tab:
            at.update((pos, column_key(t)) for pos, t in taken.items())
    position: dict[tuple, int] = {}
    for (pos, key), _ in at.most_common():
        if key not in position and pos not in position.values():
            position[key] = pos
    if not position:                     # only space-separated rows: cells, then p, then SMD
        first: dict = {}
        for cells, taken, _ in rows.values():
            for pos in sorted(taken):
                first.setdefault(column_key(taken[pos]), len(first))
        order = sorted(first, key=lambda k: (_KIND_ORDER[k[0]], first[k]))
        position = {k: i + 1 for i, k in enumerate(order)}
    bad = []
    for key, (cells, taken, tab) in rows.items():
        placed = [position.get(column_key(t)) for _, t in sorted(taken.items())]
        if tab:
            wrong = any(position.get(column_key(t)) != pos for pos, t in taken.items())
        else:
            wrong = None in placed or placed != sorted(set(placed))
        if wrong:
            bad.append(key[0])
    return sorted(position, key=position.get), position, bad


def _declaration(keys: list, position: dict, members: dict, ids: dict, width: int,
                 undeclared: frozenset) -> tuple[list, list]:
    """The printed header and the declared columns, each from the targets it holds."""
    header = [f"column {i + 1}" for i in range(width)]
    header[0] = "Characteristic"
    columns = []
    for key in keys:
        ts = members.get(key, [])
        kind, analysis = key[0], key[1]
        if kind == "cells":
            arm, weighted = key[2], key[3]
            name = f"{arm or 'Overall'} ({analysis}{', weighted' if weighted else ''})"
            col = {"column": name, "analysis": analysis}
            if arm is not None:
                col["arm"] = arm
        else:
            name = f"{'P' if kind == 'p_value' else 'SMD'} ({analysis})"
            col = {"column": name, "analysis": analysis, "quantity": kind}
        header[position[key]] = name
        if key in undeclared:
            continue
        if kind != "p_value":
            role = Counter(t.get("role") for t in ts).most_common(1)[0][0] if ts else None
            if role == "predicted":
                col["role"] = "predicted"
            if kind == "cells" and key[3]:
                col["weighted"] = True
        else:
            test = Counter(t.get("test") for t in ts).most_common(1)
            if test and test[0][0]:
                col["test"] = test[0][0]
            arms = Counter(tuple(ids[i].get("arm") if i in ids else None
                                 for i in t.get("compares") or ()) for t in ts)
            order = arms.most_common(1)[0][0] if arms else ()
            in_columns = sorted((k for k in keys if k[0] == "cells" and k[1] == analysis
                                 and not k[3] and k[2] is not None), key=position.get)
            if len(order) == 2 and None not in order and list(order) != [
                    k[2] for k in in_columns]:
                col["compares"] = list(order)
        columns.append(col)
    return header, columns


def draft_tables(candidates: list[Candidate], cohort_of: Mapping[str, str],
                 skip: frozenset = frozenset(), undeclared: frozenset = frozenset()
                 ) -> list[TableDraft]:
    """One draft per ``where`` of the candidates (``"table 1"``, ``"table 3"``, ...).

    Parameters
    ----------
    candidates : list of Candidate
        The Table 1 targets of the TOML form, in written order.
    cohort_of : mapping
        ``where -> cohort name`` (the cohort whose Table 1 it is).
    skip : frozenset
        ``(where, variable)`` pairs to leave out (their targets stay in TOML).
    undeclared : frozenset
        ``(where, column key)`` pairs: columns printed (quoted) but not declared, whose
        targets stay in TOML.

    Returns
    -------
    list of TableDraft
    """
    ids = {c.raw["id"]: c.raw for c in candidates}
    # [[baseline]] rows are written in table order: they order the rows, then [[targets]]
    candidates = sorted(candidates, key=lambda c: c.origin[0] != "baseline")
    drafts = []
    for where in sorted({c.raw["where"] for c in candidates}):
        left: list[tuple[str, str]] = []
        by_row: dict[tuple[str, str], list[Mapping]] = {}
        for c in candidates:
            t = c.raw
            if t["where"] != where or (where, t["term"]) in skip:
                continue
            line = _row_line(t)
            if line is None:
                left.append((t["id"], "its number is not a cell of its quote"))
                continue
            by_row.setdefault((t["term"], line), []).append(t)
        by_row = _merge_rows(by_row)
        rows = {k: _split(k[1], ts) for k, ts in by_row.items()}
        for k, (_, taken, _) in rows.items():
            found = {id(t) for t in taken.values()}
            left.extend((t["id"], "its cell is not found in its row")
                        for t in by_row[k] if id(t) not in found)
        levels = {k: {t.get("level") for t in taken.values()
                      if t["quantity"] in ("proportion", "mean")} for k, (_, taken, _) in
                  rows.items()}
        bad = {k[0] for k, lv in levels.items() if len(lv) > 1}
        if rows:
            keys, position, wrong = _columns(rows)
            bad |= set(wrong)
        rows = {k: v for k, v in rows.items() if k[0] not in bad}
        left.extend((t["id"], "its row's cells do not sit in the columns the other rows "
                     "agree on") for k, ts in by_row.items() if k[0] in bad for t in ts)
        if not rows:
            continue
        keys, position, _ = _columns(rows)
        members: dict[tuple, list] = {}
        for _, taken, _ in rows.values():
            for t in taken.values():
                members.setdefault(column_key(t), []).append(t)
        width = max([max(position.values()) + 1] + [len(c) for c, _, tab in rows.values()
                                                    if tab])
        mute = frozenset(k for w, k in undeclared if w == where)
        header, columns = _declaration(keys, position, members, ids, width, mute)
        left.extend((t["id"], "its column is not declared: other cells of it are no "
                     "targets") for k in mute for t in members.get(k, []))
        out_rows, placed = [], []
        quotes = [str(t.get("source", "")) for ts in by_row.values() for t in ts]
        for k in _row_order(list(rows), quotes):
            cells, taken, tab = rows[k]
            printed = [""] * len(header)
            if tab:
                printed[:len(cells)] = cells
            else:
                printed[0] = cells[0]
                for pos, t in taken.items():
                    printed[position[column_key(t)]] = cells[pos]
            if len(printed) > len(header):
                left.extend((t["id"], "its row has more cells than the table's columns")
                            for t in taken.values())
                continue
            level = next(iter(levels[k]), None) if levels[k] else next(
                (t.get("level") for t in taken.values() if t.get("level")), None)
            means = [t for t in taken.values() if t["quantity"] == "mean"]
            fmt = None
            if means and not re.search(r"mean|\bsd\b", printed[0], re.I):
                fmt = "mean (sd)"
            out_rows.append((k[0], level, fmt, tuple(printed)))
            placed.extend(t["id"] for t in taken.values() if column_key(t) not in mute)
        drafts.append(TableDraft(where=where, cohort=cohort_of.get(where, ""),
                                 header=tuple(header), columns=tuple(columns),
                                 rows=tuple(out_rows), placed=tuple(placed),
                                 keys=tuple((header[position[k]], k) for k in keys),
                                 left_out=tuple(left)))
    return drafts
