"""Text edits of ``targets.toml`` and ``cohort.toml`` that keep every comment and layout.

``tacebench migrate`` removes array-of-tables entries, adds one table or sets a target's
role; rewriting the
files from their parsed data would lose the comments that say why each number is what it
is. Each edit is checked by parsing its result: the data must be the old data with exactly
that entry removed or that table added, else :class:`ValueError`.
"""
from __future__ import annotations

import json
import re
import tomllib
from typing import Any, Iterable, Mapping

__all__ = ["remove_blocks", "insert_declaration", "set_column_role", "set_target_role",
           "toml_value"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"-]+)\s*(\]\]?)\s*(#.*)?$")


def toml_value(v: Any) -> str:
    """A TOML literal: strings (JSON escapes are TOML's), booleans, numbers, lists, tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return "[" + ", ".join(toml_value(x) for x in v) + "]"


def _headers(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, table name, with ``[[...]]`` kept) of every table header."""
    out = []
    for i, ln in enumerate(lines):
        m = _HEADER.match(ln)
        if m and (m.group(1) == "[[") == (m.group(3) == "]]"):
            out.append((i, m.group(1) + m.group(2) + m.group(3)))
    return out


def _block_end(lines: list[str], start: int, next_header: int) -> int:
    """A block ends before the comments and blank lines that lead into the next header."""
    end = next_header
    while end - 1 > start and (not lines[end - 1].strip()
                               or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def remove_blocks(text: str, gone: Iterable[tuple[str, int]]) -> str:
    """Remove the ``i``-th ``[[kind]]`` entries named in ``gone`` (``("targets", 3)``).

    Raises
    ------
    ValueError
        When the result does not parse to the old data without those entries.
    """
    gone = set(gone)
    lines = text.split("\n")
    heads = _headers(lines)
    count: dict[str, int] = {}
    drop: set[int] = set()
    for j, (i, name) in enumerate(heads):
        kind = name.strip("[]")
        k = count.get(kind, 0)
        count[kind] = k + 1
        if name.startswith("[[") and (kind, k) in gone:
            nxt = heads[j + 1][0] if j + 1 < len(heads) else len(lines)
            drop.update(range(i, _block_end(lines, i, nxt)))
    kept = [ln for i, ln in enumerate(lines) if i not in drop]
    out: list[str] = []
    for ln in kept:                                 # no runs of blank lines left behind
        if not ln.strip() and out and not out[-1].strip():
            continue
        out.append(ln)
    new = "\n".join(out)
    old_data, new_data = tomllib.loads(text), tomllib.loads(new)
    expected = {k: ([e for i, e in enumerate(v) if (k, i) not in gone]
                    if isinstance(v, list) else v) for k, v in old_data.items()}
    expected = {k: v for k, v in expected.items() if v != [] or k in new_data}
    if new_data != expected:
        raise ValueError("targets.toml: removing the migrated entries would change others "
                         "(an entry header inside a multi-line value?); nothing written")
    return new


def insert_declaration(text: str, cohort: str, decl: Mapping, comment: str = "") -> str:
    """Add ``[cohorts.<cohort>.table1]`` before the cohort's first sub-table.

    Raises
    ------
    ValueError
        When the result does not parse to the old data plus that table.
    """
    lines = text.split("\n")
    heads = _headers(lines)
    prefix = f"cohorts.{cohort}."
    at = next((i for i, name in heads if name.strip("[]").startswith(prefix)), None)
    if at is None:
        own = [j for j, (_, name) in enumerate(heads) if name == f"[cohorts.{cohort}]"]
        at = (heads[own[0] + 1][0] if own and own[0] + 1 < len(heads) else len(lines))
    while at > 0 and lines[at - 1].lstrip().startswith("#"):
        at -= 1                                     # above the comments that lead into it
    body = [f"# {ln}".rstrip() for ln in comment.split("\n")] if comment else []
    body.append(f"[cohorts.{cohort}.table1]")
    for key, value in decl.items():
        if key == "columns":
            body.append("columns = [")
            body.extend(f"  {toml_value(c)}," for c in value)
            body.append("]")
        else:
            body.append(f"{key} = {toml_value(value)}")
    new = "\n".join(lines[:at] + body + [""] + lines[at:])
    old_data, new_data = tomllib.loads(text), tomllib.loads(new)
    old_data["cohorts"][cohort]["table1"] = json.loads(json.dumps(decl))
    if new_data != old_data:
        raise ValueError(f"cohort.toml: the [cohorts.{cohort}.table1] declaration would "
                         "change other keys; nothing written")
    return new


_ROLE = re.compile(r"^(\s*role\s*=\s*)(\"[^\"]*\"|'[^']*')(\s*(#.*)?)$")


def set_target_role(text: str, target: str, role: str) -> str:
    """Give the ``[[targets]]`` entry whose ``id`` is ``target`` the role ``role`` (its
    ``role = ...`` line replaced, or one added after its ``id`` line).

    Raises
    ------
    ValueError
        When no entry (or more than one) has that id, or the result does not parse to the
        old data with exactly that role changed (a ``role`` written inside a multi-line
        value, an inline table).
    """
    lines = text.split("\n")
    heads = _headers(lines)
    spans = [(i, heads[j + 1][0] if j + 1 < len(heads) else len(lines))
             for j, (i, name) in enumerate(heads) if name == "[[targets]]"]
    old_data = tomllib.loads(text)
    entries = old_data.get("targets", [])
    at = [k for k, e in enumerate(entries) if isinstance(e, dict) and e.get("id") == target]
    if len(at) != 1 or len(spans) != len(entries):
        raise ValueError(f"targets.toml: {len(at)} [[targets]] entries have id {target!r}; "
                         "nothing written")
    start, end = spans[at[0]]
    for i in range(start + 1, end):
        m = _ROLE.match(lines[i])
        if m:
            lines[i] = f"{m.group(1)}{toml_value(role)}{m.group(3)}"
            break
    else:
        idline = next((i for i in range(start + 1, end)
                       if re.match(r"^\s*id\s*=", lines[i])), start)
        lines.insert(idline + 1, f"role = {toml_value(role)}")
    new = "\n".join(lines)
    expected = tomllib.loads(text)
    expected["targets"][at[0]]["role"] = role
    if tomllib.loads(new) != expected:
        raise ValueError(f"targets.toml: setting the role of {target!r} would change other "
                         "keys; nothing written")
    return new


COLUMN_KEY = re.compile(r"^cohorts\.([A-Za-z0-9_-]+)\.table1\.columns\[(\d+)\]$")


def set_column_role(text: str, key: str, role: str) -> str:
    """Give the Table 1 column ``key`` (``cohorts.<cohort>.table1.columns[i]``) of
    ``cohort.toml`` the role ``role``: its inline table, one per line as ``tacebench
    migrate`` writes them, gets its ``role`` replaced or added.

    Raises
    ------
    ValueError
        When the key names no such column, the column is not an inline table on a line of
        its own, or the result does not parse to the old data with exactly that role set.
    """
    m = COLUMN_KEY.match(key)
    if m is None:
        raise ValueError(f"cohort.toml: {key!r} is not a Table 1 column key; nothing written")
    cohort, index = m.group(1), int(m.group(2))
    expected = tomllib.loads(text)
    try:
        column = expected["cohorts"][cohort]["table1"]["columns"][index]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"cohort.toml: no column {key!r}; nothing written") from None
    lines = text.split("\n")
    heads = _headers(lines)
    start = next((i for i, name in heads if name == f"[cohorts.{cohort}.table1]"), None)
    end = next((i for i, _ in heads if start is not None and i > start), len(lines))
    entries = [i for i in range(start + 1 if start is not None else end, end)
               if lines[i].lstrip().startswith("{") and lines[i].rstrip().rstrip(",").endswith("}")]
    if index >= len(entries):
        raise ValueError(f"cohort.toml: column {key!r} is not an inline table on a line of "
                         "its own; nothing written")
    i = entries[index]
    line, n = re.subn(r"(\brole\s*=\s*)(\"[^\"]*\"|'[^']*')", rf"\g<1>{toml_value(role)}", lines[i])
    if not n:
        line = re.sub(r"\s*}(\s*,?\s*(#.*)?)$", rf", role = {toml_value(role)} }}\1", lines[i])
    lines[i] = line
    new = "\n".join(lines)
    column["role"] = role
    try:
        same = tomllib.loads(new) == expected
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        raise ValueError(f"cohort.toml: setting the role of {key!r} would change other "
                         "keys; nothing written")
    return new
