"""A study's Table 1 part drafted from the printed table: ``tacebench new-study --from-table``.

The researcher copies the paper's Table 1 into a TSV/CSV file as printed (a header row, then
one row per characteristic and level). :func:`draft_table` reads it and drafts what
``cohort.toml`` needs: the ``variable`` / ``level`` columns (kept where the file has them),
the arms from the headers ("TACE (n = 160)") and the column declaration. Everything it
decides is written out in the files, for the researcher to check against the paper:

- a row whose label has no cells and is followed by ``n (%)`` rows is a heading: those rows
  are the levels of its variable until their counts fill the first arm; any other row with
  cells is a variable of its own; the variable is the label up to its first comma or
  parenthesis, in snake_case;
- an arm column is a header ``label (n = N)``; the first columns of each arm are the
  ``crude`` calibration columns, a second run of the same arms ``matched`` (predicted);
  ``P`` / ``p value`` and ``SMD`` columns belong to the analysis of the arms before them,
  or to ``iptw`` / ``matched`` when their header says weighting / matching;
- a header printed twice (two ``P`` columns) is renamed ``P (2)`` and the header is then
  not a quote (``quote_header = false``).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from tacebench.simulate.table1 import HIDDEN_COLUMNS
from tacebench.simulate.table1_cells import CellError, read_cell
from tacebench.simulate.text_files import read_text_file, separator_hint

__all__ = ["TableDraft", "cohort_part", "draft_table", "draft_target_ids", "fill_table_part",
           "table_ids_listing"]

_ARM = re.compile(r"^(?P<label>.+?)\s*\(\s*n\s*=\s*(?P<n>\d[\d,]*)\s*\)\s*$", re.I)
_P = re.compile(r"^p(\s*-?\s*values?)?(\s*\(\d+\))?$", re.I)
_SMD = re.compile(r"\bsmd\b|standardi[sz]ed mean diff", re.I)
_WEIGHTED = re.compile(r"weight|iptw", re.I)
_MATCHED = re.compile(r"match|psm", re.I)


@dataclass(frozen=True)
class TableDraft:
    """A drafted Table 1: the table file's text, the arms and the column declaration.

    Attributes
    ----------
    table_text : str
        The table with the ``variable`` and ``level`` columns (TSV).
    arms : tuple of (str, int)
        Arm labels and sizes, from the headers, in order.
    columns : tuple of dict
        The ``columns`` of ``[cohorts.main.table1]``.
    quote_header : bool
        False when a repeated header (two "P" columns) had to be renamed.
    """

    table_text: str
    arms: tuple[tuple[str, int], ...]
    columns: tuple[dict, ...]
    quote_header: bool = True


def _slug(label: str) -> str:
    head = re.split(r"[,(]", label, maxsplit=1)[0]
    s = re.sub(r"[^a-z0-9]+", "_", head.lower()).strip("_") or "variable"
    return s if s[0].isalpha() else f"v_{s}"


def _rows(path: Path) -> list[list[str]]:
    text = read_text_file(path)
    delim = "," if path.suffix.lower() == ".csv" else "\t"
    return [[c.strip() for c in r] for r in csv.reader(io.StringIO(text), delimiter=delim)
            if any(c.strip() for c in r)]


def _unique(header: list[str]) -> list[str]:
    """Headers named once: a repeat gets its position (``P`` -> ``P (2)``)."""
    seen: dict[str, int] = {}
    out = []
    for h in header:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def _declare(header: list[str]) -> tuple[list[tuple[str, int]], list[dict]]:
    arms: list[tuple[str, int]] = []
    columns: list[dict] = []
    seen: dict[str, int] = {}
    analysis = "crude"
    for h in header[1:]:
        if m := _ARM.match(h):
            label = m.group("label")
            seen[label] = seen.get(label, 0) + 1
            analysis = "crude" if seen[label] == 1 else "matched"
            if seen[label] == 1:
                arms.append((label, int(m.group("n").replace(",", ""))))
            columns.append({"column": h, "arm": label, "analysis": analysis,
                            "role": "calibration" if analysis == "crude" else "predicted"})
        elif _P.match(h) or _SMD.search(h):
            named = ("iptw" if _WEIGHTED.search(h) else "matched" if _MATCHED.search(h)
                     else analysis)
            columns.append({"column": h, "analysis": named, "quantity": "p_value"}
                           if _P.match(h) else {"column": h, "analysis": named,
                                                "quantity": "smd", "role": "predicted"})
    return arms, columns


def draft_table(path: str | Path) -> TableDraft:
    """Draft the Table 1 part of a study from a printed table.

    Parameters
    ----------
    path : str or Path
        A TSV (or ``.csv``) file: the paper's Table 1 as printed, header first; it may
        already have the ``variable`` / ``level`` columns.

    Returns
    -------
    TableDraft

    Raises
    ------
    ValueError
        Naming the file when it is empty or has no arm column ``label (n = N)``.
    """
    path = Path(path)
    rows = _rows(path)
    if not rows:
        raise ValueError(f"{path}: the table is empty")
    header = _unique(rows[0])
    renamed = header != rows[0]
    rows = [header] + rows[1:]
    if "variable" in header:                           # already mapped: keep it
        printed = [h for h in header if h not in HIDDEN_COLUMNS]
        arms, columns = _declare(printed)
        out_rows = rows
    else:
        arms, columns = _declare(header)
        arm_idx = [header.index(c["column"]) for c in columns if "arm" in c]
        out_rows = [["variable", "level", *header]]
        names: dict[str, int] = {}
        heading = None
        for r in rows[1:]:
            r = r + [""] * (len(header) - len(r))
            cells = [r[i] for i in arm_idx if r[i]]
            if not cells:                              # a heading: its levels follow
                heading, level_total = r[0], 0
                out_rows.append(["", "", *r])
                continue
            try:
                is_count = read_cell(cells[0], label=r[0]).format == "n (%)"
            except CellError:
                is_count = False
            if heading is not None and is_count:
                var = _slug(heading)
                out_rows.append([var, r[0], *r])
                if out_rows[-2][0] == "" and out_rows[-2][2] == heading:
                    out_rows[-2][0] = var                  # the heading row's p-value is its
                level_total += read_cell(cells[0]).stats["count"]
                if level_total >= arms[0][1]:              # the levels fill the first arm
                    heading = None
                continue
            heading = None
            var = _slug(r[0])
            names[var] = names.get(var, 0) + 1
            out_rows.append([var if names[var] == 1 else f"{var}_{names[var]}", "", *r])
    if not arms:
        raise ValueError(f"{path}: no arm column found; arm headers read 'label (n = N)', "
                         f"got {header}{separator_hint(Path(path).name, header)}")
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator="\n").writerows(out_rows)
    return TableDraft(table_text=buf.getvalue(), arms=tuple(arms), columns=tuple(columns),
                      quote_header=not renamed)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cohort_part(draft: TableDraft, file: str = "table1.tsv") -> str:
    """The arms and ``[cohorts.main.table1]`` of ``cohort.toml`` for a drafted table (TOML).

    The first arm is written as the reference (``treated = false``), the others treated.
    """
    lines = []
    for i, (label, n) in enumerate(draft.arms):
        lines += ["[[cohorts.main.arms]]", f"label = {_toml_str(label)}", f"n = {n}",
                  f"treated = {'false' if i == 0 else 'true'}"
                  + ("                     # check: the reference arm" if i == 0 else ""), ""]
    lines += ["# Table 1 as printed, in " + file + " (docs/study-format.md, \"Table 1 as a",
              "# table\"): check each row's variable and level and each column below; a",
              "# variable needing more (a unit, a bound, a distribution) is declared in",
              "# [[cohorts.main.variables]] with its name and those keys.",
              "[cohorts.main.table1]", f"file = {_toml_str(file)}"]
    if not draft.quote_header:
        lines.append("quote_header = false                # repeated headers were renamed")
    lines.append("columns = [")
    for c in draft.columns:
        body = ", ".join(f"{k} = {_toml_str(v)}" for k, v in c.items())
        lines.append(f"  {{ {body} }},")
    lines += ["]", ""]
    return "\n".join(lines)


def draft_target_ids(draft: TableDraft) -> list[str]:
    """The target ids the drafted table gives (raises the table's problems, if any)."""
    from tacebench.simulate.table1 import read_table1

    from .targets.table import table_targets

    rows = list(csv.reader(io.StringIO(draft.table_text), delimiter="\t"))
    table = read_table1({"rows": rows, "columns": list(draft.columns),
                         "quote_header": draft.quote_header}, None)
    arms = [{"label": a, "n": n} for a, n in draft.arms]
    return [t["id"] for _, t in table_targets(table, arms)]


def fill_table_part(texts: dict[str, str], table: str | Path) -> dict[str, str]:
    """The template files with their Table 1 part filled from a printed table.

    Parameters
    ----------
    texts : dict
        ``cohort.toml`` and ``targets.toml`` templates (file name -> text).
    table : str or Path
        The paper's Table 1 as printed.

    Returns
    -------
    dict
        ``cohort.toml`` (arms and ``[cohorts.main.table1]`` instead of the template's arms
        and variable examples), ``table1.tsv`` and ``targets.toml`` (the derived target
        ids listed in a comment).
    """
    draft = draft_table(table)
    cohort = texts["cohort.toml"]
    start = cohort.index("[[cohorts.main.arms]]")
    end = cohort.index("[cohorts.main.outcomes.os]")
    try:
        ids = draft_target_ids(draft)
        listing = ["# Targets derived from table1.tsv (their ids, in table order; a",
                   "# [[targets]] entry or [[results]] row with one of these ids replaces it):",
                   *[f"#   {i}" for i in ids]]
    except ValueError as exc:
        listing = [f"# table1.tsv cannot be read yet: {line}" for line in str(exc).splitlines()]
    targets = texts["targets.toml"].rstrip("\n") + "\n\n" + "\n".join(listing) + "\n"
    return {"cohort.toml": cohort[:start] + cohort_part(draft) + "\n" + cohort[end:],
            "table1.tsv": draft.table_text, "targets.toml": targets}


def table_ids_listing(folder: str | Path) -> str:
    """What ``new-study --from-table`` prints: the derived target ids, or why there are none."""
    from .targets.table import table_target_ids

    try:
        ids = table_target_ids(folder)
    except ValueError as exc:
        return f"table1.tsv cannot be read yet (fix it, then `tacebench check`):\n{exc}"
    return (f"{len(ids)} Table 1 target(s) derived from table1.tsv:\n  "
            + "\n  ".join(ids))
