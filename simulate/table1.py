"""Table 1 as a table: a study's baseline table in the paper's own shape.

A cohort may give its Table 1 as a TSV/CSV file (or a TOML array of rows) declared in
``[cohorts.<name>.table1]`` of ``cohort.toml``::

    [cohorts.main.table1]
    file = "table1.tsv"
    columns = [
      { column = "TACE (n = 160)", arm = "TACE", analysis = "crude", role = "calibration" },
      { column = "P", analysis = "crude", quantity = "p_value" },
      { column = "SMD after weighting", analysis = "iptw", quantity = "smd", role = "predicted" },
    ]

The file has one row per characteristic and level, the printed columns as the paper has
them, and three columns that are not printed: ``variable`` (the cohort variable a row
describes), ``level`` (its level, for a categorical row) and ``format`` (optional: what the
row's cells are, see :data:`simulate.table1_cells.CELL_FORMATS`). :func:`read_table1` reads
and checks it; :func:`expand_tables` turns the calibration columns into the cohort's
variables (``docs/study-format.md``, "Table 1 as a table"); ``replications.targets``
derives the targets from the same :class:`Table1`. A cell the paper prints wrongly stays in
the file as printed; ``misprints`` states what it means (:mod:`simulate.table1_misprints`).
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .spec_base import SpecError
from .table1_cells import CELL_FORMATS, CellError, CellValue, read_cell
from .table1_inputs import variables_from_table
from .table1_misprints import apply_misprints
from .text_files import read_text_file, separator_hint

#: A decimal comma: a digit, a comma and one or two digits (not a thousands group of three).
_DECIMAL_COMMA = re.compile(r"\d,\d{1,2}(?!\d)")

__all__ = ["TABLE_KEYS", "COLUMN_KEYS", "HIDDEN_COLUMNS", "TableColumn", "TableRow", "Table1",
           "read_table1", "expand_tables", "read_cohort_toml", "study_tables"]

TABLE_KEYS = frozenset({"file", "rows", "where", "columns", "label", "quote_header",
                        "misprints"})
COLUMN_KEYS = frozenset({"column", "arm", "analysis", "role", "quantity", "format", "weighted",
                         "test", "compares", "not_judged"})
#: the columns of the file that say what a row is; they are not printed in the paper
HIDDEN_COLUMNS = ("variable", "level", "format")
ROLES = ("calibration", "predicted", "reported")
QUANTITIES = ("cells", "p_value", "smd")


@dataclass(frozen=True)
class TableColumn:
    """What one printed column holds: an arm's cells in an analysis, p-values or SMDs."""

    column: str
    analysis: str
    arm: str | None = None
    role: str = "reported"
    quantity: str = "cells"
    format: str | None = None
    weighted: bool = False
    test: str | None = None                       # a p-value column: the test, as named
    compares: tuple[str, ...] = ()                # a p-value column: its arms, in order
    #: a reported column an analysis computes: why its cells are not judged (in words)
    not_judged: str | None = None


@dataclass(frozen=True)
class TableRow:
    """One row of the table: what it describes and its cells, read."""

    line: int
    variable: str | None
    level: str | None
    label: str
    source: str                                   # the printed row, cells joined by tabs
    cells: tuple[tuple[str, CellValue], ...] = ()

    def cell(self, column: str) -> CellValue | None:
        return dict(self.cells).get(column)


@dataclass(frozen=True)
class Table1:
    """A cohort's Table 1: its file, its declared columns and its read rows."""

    cohort: str
    file: str
    where: str
    columns: tuple[TableColumn, ...]
    rows: tuple[TableRow, ...]
    header_source: str = ""           # the printed header row ("" when not a quote)


def _table_rows(decl: Mapping, folder: Path | None, key: str
                ) -> tuple[str, list[tuple[int, list[str]]]]:
    """The table's name and its non-blank rows with their line (TOML: row) numbers."""
    if "rows" in decl:
        rows = decl["rows"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise SpecError(f"{key}.rows", "must be an array of rows (arrays of strings), "
                            "the first the header")
        return f"{key}.rows", [(i, [str(c) for c in r]) for i, r in enumerate(rows, start=1)]
    name = decl.get("file")
    if not isinstance(name, str) or not name:
        raise SpecError(f"{key}.file", f"must name the table file (or give rows), got {name!r}")
    if folder is None:
        raise SpecError(f"{key}.file", f"{name!r}: a table file needs the study folder; "
                        "load the study with load_spec or expand_tables")
    path = folder / name
    try:
        text = read_text_file(path)
    except OSError as e:
        raise SpecError(f"{key}.file", f"{name!r}: cannot be read ({e.strerror})") from None
    except ValueError as e:  # a byte that is not UTF-8, named by line and column
        raise SpecError(f"{key}.file", str(e)) from None
    delim = "," if path.suffix.lower() == ".csv" else "\t"
    # comment lines become blank ones, so that a row keeps its line number in the file
    lines = ["" if ln.lstrip().startswith("#") else ln for ln in text.splitlines()]
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)
    return name, [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]


def _columns(decl: Mapping, key: str, problems: list) -> list[TableColumn]:
    raw = decl.get("columns")
    if not isinstance(raw, list) or not raw:
        problems.append((f"{key}.columns", "must list the declared columns "
                         "[{column, analysis, arm, role, quantity}]"))
        return []
    out = []
    for i, c in enumerate(raw):
        ck = f"{key}.columns[{i}]"
        if not isinstance(c, Mapping):
            problems.append((ck, f"must be a table, got {c!r}"))
            continue
        unknown = sorted(set(c) - COLUMN_KEYS)
        role, quantity = c.get("role", "reported"), c.get("quantity", "cells")
        bad = [(f"{ck}: unknown key(s) {unknown}", unknown),
               (f"{ck}.role: must be one of {ROLES}, got {role!r}", role not in ROLES),
               (f"{ck}.quantity: must be one of {QUANTITIES}, got {quantity!r}",
                quantity not in QUANTITIES),
               (f"{ck}.column: must be a column header of the table, got {c.get('column')!r}",
                not isinstance(c.get("column"), str)),
               (f"{ck}.analysis: must be an analysis name, got {c.get('analysis')!r}",
                not isinstance(c.get("analysis"), str)),
               (f"{ck}.arm: a calibration column needs the arm label, got {c.get('arm')!r}",
                role == "calibration" and not isinstance(c.get("arm"), str)),
               (f"{ck}.arm: must be an arm label, got {c.get('arm')!r}",
                c.get("arm") is not None and not isinstance(c.get("arm"), str)),
               (f"{ck}.role: only a column of cells calibrates the generator",
                quantity != "cells" and role == "calibration"),
               (f"{ck}.role: a weighted column does not calibrate the generator (its "
                "counts are sums of weights)", c.get("weighted") is True and role == "calibration"),
               (f"{ck}.format: must be one of {sorted(CELL_FORMATS)}, got {c.get('format')!r}",
                c.get("format") is not None and c.get("format") not in CELL_FORMATS),
               (f"{ck}.compares: a p-value column's two arm labels, in the order its "
                f"targets list them, got {c.get('compares')!r}", "compares" in c and not (
                    quantity == "p_value" and isinstance(c["compares"], list)
                    and len(c["compares"]) == 2
                    and all(isinstance(a, str) for a in c["compares"]))),
               (f"{ck}.not_judged: the reason, in words, why a reported column's cells are "
                f"not judged, got {c.get('not_judged')!r}", "not_judged" in c and not (
                    isinstance(c["not_judged"], str) and c["not_judged"].strip())),
               (f"{ck}.not_judged: only a reported column is left unjudged (role is "
                f"{role!r})", "not_judged" in c and role != "reported")]
        msgs = [m for m, is_bad in bad if is_bad]
        problems.extend(tuple(m.split(": ", 1)) for m in msgs)
        if not msgs:
            out.append(TableColumn(column=c["column"], analysis=c["analysis"], arm=c.get("arm"),
                                   role=role, quantity=quantity, format=c.get("format"),
                                   weighted=bool(c.get("weighted", False)),
                                   test=c.get("test"),
                                   compares=tuple(c.get("compares", ())),
                                   not_judged=c.get("not_judged")))
    return out


def read_table1(decl: Mapping, folder: Path | None, cohort: str = "main") -> Table1:
    """Read and check the Table 1 a cohort declares.

    Parameters
    ----------
    decl : mapping
        The ``[cohorts.<cohort>.table1]`` table.
    folder : Path or None
        The study folder (the table file is read relative to it).
    cohort : str
        The cohort's name (for error keys).

    Returns
    -------
    Table1

    Raises
    ------
    SpecError
        Listing every problem, each naming the file, row (line), column and cell.
    """
    key = f"cohorts.{cohort}.table1"
    if not isinstance(decl, Mapping):
        raise SpecError(key, f"must be a table, got {decl!r}")
    problems: list[tuple[str, str]] = []
    comma_cells: list[str] = []     # unreadable cells that print a decimal comma
    unknown = sorted(set(decl) - TABLE_KEYS)
    if unknown:
        problems.append((key, f"unknown key(s) {unknown}; allowed: {sorted(TABLE_KEYS)}"))
    columns = _columns(decl, key, problems)
    file, rows = _table_rows(decl, folder, key)
    if not rows:
        raise SpecError(file, "the table is empty (a header row is needed)")
    header = [h.strip() for h in rows[0][1]]
    printed = [i for i, h in enumerate(header) if h not in HIDDEN_COLUMNS]
    if "variable" not in header or not printed:
        problems.append((file, f"the header needs a 'variable' column and the printed "
                         f"columns, got {header}{separator_hint(file, header)}"))
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        problems.append((file, f"column header(s) {twice} repeat: name each column once "
                         "(a two-level header: set quote_header = false and name them)"))
    if not isinstance(decl.get("quote_header", True), bool):
        problems.append((f"{key}.quote_header", f"must be true or false, got "
                         f"{decl['quote_header']!r}"))
    label_col = decl.get("label", header[printed[0]] if printed else "")
    for c in columns:
        if c.column not in header:
            problems.append((f"{key}.columns", f"{c.column!r} is not a column of {file} "
                             f"(header: {header})"))
    if label_col not in header:
        problems.append((f"{key}.label", f"{label_col!r} is not a column of {file}"))
    if problems:
        raise SpecError(problems)
    out = []
    for ln, raw in rows[1:]:
        row = dict(zip(header, [c.strip() for c in raw] + [""] * (len(header) - len(raw))))
        texts = [row[header[i]] for i in printed]
        while texts and not texts[-1]:
            texts.pop()
        var, level = row.get("variable") or None, row.get("level") or None
        cells = []
        for c in columns:
            fmt = "p" if c.quantity == "p_value" else (
                "number" if c.quantity == "smd" else row.get("format") or c.format)
            try:
                v = read_cell(row[c.column], fmt, row[label_col], c.weighted)
            except CellError as e:
                problems.append((f"{file}: row {ln} ({row[label_col]!r}), column {c.column!r}",
                                 f"cell {row[c.column]!r}: {e}"))
                if _DECIMAL_COMMA.search(row[c.column]):
                    comma_cells.append(row[c.column])
                continue
            if v is not None:
                cells.append((c.column, v))
        if cells and var is None:
            problems.append((f"{file}: row {ln} ({row[label_col]!r})",
                             "a row with cells needs its 'variable'"))
        if var is not None and not var.isidentifier():
            problems.append((f"{file}: row {ln}", f"variable must be snake_case, got {var!r}"))
        out.append(TableRow(line=ln, variable=var, level=level, label=row[label_col],
                            source="\t".join(texts), cells=tuple(cells)))
    if "misprints" in decl and not problems:  # (cells as printed read first)
        out = apply_misprints(decl["misprints"], out, columns, key, problems)
    if comma_cells:  # (each cell's own message said "IQR or range?" of "136 (85,0)")
        fixed = _DECIMAL_COMMA.sub(lambda m: m.group().replace(",", "."), comma_cells[0])
        problems.insert(0, (file, f"cells such as {comma_cells[0]!r} print decimal commas; "
                                  f"tables are read with decimal points ({fixed!r}): replace "
                                  "them"))
    if problems:
        raise SpecError(problems)
    return Table1(cohort=cohort, file=file, where=str(decl.get("where", "table 1")),
                  columns=tuple(columns), rows=tuple(out),
                  header_source="\t".join(header[i] for i in printed)
                  if decl.get("quote_header", True) else "")


def study_tables(data: Mapping, folder: Path | None) -> list[Table1]:
    """Every Table 1 declared by the cohorts of a parsed ``cohort.toml``, read."""
    cohorts = data.get("cohorts") if isinstance(data, Mapping) else None
    if not isinstance(cohorts, Mapping):
        return []
    return [read_table1(c["table1"], folder, name) for name, c in cohorts.items()
            if isinstance(c, Mapping) and "table1" in c]


def expand_tables(data: Mapping[str, Any], folder: Path | None) -> dict:
    """A parsed ``cohort.toml`` with each cohort's Table 1 turned into its variables.

    The calibration columns give the per-arm summaries of the variables the table
    describes (:func:`simulate.table1_inputs.variables_from_table`); a variable declared
    in ``variables`` keeps its keys and gets the table's ``arms``, ``type``, ``levels`` and
    ``source`` where it does not give them. The ``table1`` key is removed.
    """
    data = dict(data)
    cohorts = data.get("cohorts")
    if not isinstance(cohorts, Mapping) or not any(
            isinstance(c, Mapping) and "table1" in c for c in cohorts.values()):
        return data
    new, problems = {}, []
    for name, raw in cohorts.items():
        if not isinstance(raw, Mapping) or "table1" not in raw:
            new[name] = raw
            continue
        raw = dict(raw)
        # the table completes the arrays the loader reads: one of another type is its
        # error, worded as spec_from_dict words it
        wrong = [(k, raw[k]) for k in ("arms", "variables")
                 if raw.get(k) is not None and not isinstance(raw[k], list)]
        if wrong:
            problems.extend((f"cohorts.{name}.{k}", f"must be an array of tables "
                             f"([[cohorts.{name}.{k}]]), got {v!r}") for k, v in wrong)
            new[name] = raw
            continue
        try:
            table = read_table1(raw.pop("table1"), folder, name)
            raw["variables"] = variables_from_table(table, raw.get("arms") or [],
                                                    raw.get("variables") or [])
        except SpecError as e:
            problems.extend(e.problems)
        new[name] = raw
    if problems:
        raise SpecError(problems)
    data["cohorts"] = new
    return data


def read_cohort_toml(path: str | Path) -> dict:
    """Parse a ``cohort.toml`` and expand its Table 1 declarations (:func:`expand_tables`)."""
    path = Path(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return expand_tables(data, path.parent)
