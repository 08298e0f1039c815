"""A Table 1 variable printed as mean ± SD *and* as a cut split, in the table form.

Two kinds of rows name the same ``variable``: one without a ``level`` whose cells are
``mean ± SD`` (or ``mean (SD)``), and one or more whose ``level`` is a comparison with a
cut point (``> 60``, ``>= 60``, ``≥ 60``, ``< 60``, ``<= 60``, ``≤ 60``) and whose cells
are ``n (%)``::

    variable  level  characteristic     TACE (n = 160)  TACE+S (n = 110)
    age              Age, years         58.0 ± 10.0     57.5 ± 9.8
    age       > 60   Age > 60 years     50 (31.2)       40 (36.4)

The comparisons give the cut points (here ``[60]``; ``< 50`` with ``> 60`` give ``[50,
60]``); a bin the table does not print holds the rest of the arm (at most one). The
variable becomes a continuous one with ``cutpoints`` and per-arm ``counts``, ``mean`` and
``sd`` (:mod:`simulate.printed_split` fits it). Whether the boundary itself is in (``>``
or ``>=``) does not matter for a continuous variable.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from .spec_base import SpecError

__all__ = ["split_level", "split_summaries"]

_LEVEL = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*([-+]?\d+(?:\.\d+)?)\s*$")
_MOMENTS = ("mean ± sd", "mean (sd)")


def split_level(level: str | None) -> tuple[str, float] | None:
    """``(">" or "<", cut)`` of a level printed as a comparison with a cut point, else None.

    Parameters
    ----------
    level : str or None
        A row's ``level`` (``"> 60"``, ``"≤ 400"``).

    Returns
    -------
    tuple or None
        ``">"`` for the bin above the cut (``>``, ``>=``, ``≥``), ``"<"`` below it.
    """
    m = _LEVEL.match(level or "")
    if m is None:
        return None
    return (">" if m.group(1) in (">", ">=", "≥") else "<"), float(m.group(2))


def split_summaries(table, rows: list, var: str, cal: list, n: Mapping[str, int]) -> dict[str, Any] | None:
    """``type``, ``cutpoints`` and per-arm ``counts``, ``mean``, ``sd`` of a split variable.

    Parameters
    ----------
    table : simulate.table1.Table1
        The read table (for its file name in messages).
    rows : list of simulate.table1.TableRow
        The rows naming the variable.
    var : str
        The variable.
    cal : list of simulate.table1.TableColumn
        The calibration columns.
    n : mapping
        Arm label -> size (for the unprinted bin).

    Returns
    -------
    dict or None
        None unless the rows are a mean ± SD row plus comparison-level ``n (%)`` rows.
    """
    plain = [r for r in rows if r.level is None]
    levelled = [r for r in rows if r.level is not None]
    if len(plain) != 1 or not levelled or any(split_level(r.level) is None for r in levelled):
        return None
    if {v.format for c in cal if (v := plain[0].cell(c.column)) is not None} - set(_MOMENTS):
        return None
    where = f"{table.file}: variable {var!r}"
    sides = [split_level(r.level) for r in levelled]
    cuts = sorted({c for _, c in sides})
    if len(cuts) > 2 or (len(cuts) == 2 and sides and {s for s, c in sides if c == cuts[0]} != {"<"}) \
            or (len(cuts) == 2 and {s for s, c in sides if c == cuts[1]} != {">"}):
        raise SpecError(where, f"split rows {[r.level for r in levelled]} do not make bins: give '< a' "
                        "and/or '> b' rows (at most one bin unprinted)")
    bins = [0 if side == "<" else len(cuts) for side, _ in sides]
    if len(set(bins)) != len(bins):
        raise SpecError(where, f"two split rows print the same bin: {[r.level for r in levelled]}")
    arms = {}
    for c in cal:
        cells = [r.cell(c.column) for r in levelled]
        moments = plain[0].cell(c.column)
        if moments is None or any(v is None or v.format != "n (%)" for v in cells):
            raise SpecError(where, f"column {c.column!r} needs the mean ± SD row and every split row "
                            "printed as n (%)")
        counts: list[int | None] = [None] * (len(cuts) + 1)
        for k, v in zip(bins, cells):
            counts[k] = v.stats["count"]
        if None in counts:
            if c.arm not in n:
                raise SpecError(where, f"an unprinted bin needs the size of arm {c.arm!r}")
            rest = n[c.arm] - sum(x for x in counts if x is not None)
            if rest < 0:
                raise SpecError(where, f"column {c.column!r}: the split counts exceed the "
                                f"{n[c.arm]} patients of arm {c.arm!r}")
            counts[counts.index(None)] = rest
        arms[c.arm] = {"counts": counts, "mean": moments.stats["mean"], "sd": moments.stats["sd"]}
    return {"type": "continuous", "cutpoints": cuts, "arms": arms}
