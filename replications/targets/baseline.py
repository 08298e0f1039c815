"""The compact ``[[baseline]]`` form of ``targets.toml``: one Table 1 row, its cells as
``{analysis, arm, count, percent}``, expanded into one ``proportion`` target per cell with
the id the naming convention gives it (:func:`~replications.targets.model.expected_id`)."""
from __future__ import annotations

from typing import Any, Mapping

from tacebench.replications.analysis.problems import Problems

from .fields import table_items, text_value as _text, unknown_keys as _unknown
from .model import Target, expected_id

__all__ = ["expand_baseline"]

_BASELINE_KEYS = frozenset({"variable", "level", "where", "source", "partition", "cells", "note"})
_CELL_KEYS = frozenset({"analysis", "arm", "count", "percent", "weighted"})


def expand_baseline(raw: Any, path: str, probs: Problems) -> list[tuple[str, dict]]:
    """One ``[[baseline]]`` row -> raw ``proportion`` targets, one per cell."""
    if not isinstance(raw, Mapping):
        probs.add(path, raw, "must be a table", "malformed-value")
        return []
    _unknown(raw, _BASELINE_KEYS, probs, path)
    variable = _text(raw, "variable", probs, path, required=True, snake=True)
    level = _text(raw, "level", probs, path)
    cells = table_items(raw, "cells", probs, path, "{analysis, arm, count, percent}")
    if not cells:
        return []
    if "partition" in raw and not isinstance(raw["partition"], bool):
        probs.add(f"{path}.partition", raw["partition"], "must be true or false",
                  "malformed-value")
    out = []
    for cpath, cell in cells:
        _unknown(cell, _CELL_KEYS, probs, cpath)
        t = {k: v for k, v in cell.items() if k in _CELL_KEYS}
        t.update(quantity="proportion", role="reported", term=variable,
                 where=raw.get("where"), source=raw.get("source"))
        if level is not None:
            t["level"] = level
        if raw.get("partition") is True:
            t["partition"] = variable
        if raw.get("note"):
            t["note"] = raw["note"]
        if variable and isinstance(cell.get("analysis"), str):
            arm = cell.get("arm") if isinstance(cell.get("arm"), str) else None
            stub = Target(id="x", analysis=cell["analysis"], quantity="proportion",
                          role="reported", where="text", source="", term=variable,
                          level=level, arm=arm)
            t["id"] = expected_id(stub)
        out.append((cpath, t))
    return out
