"""Readers of single TOML values shared by the parsers of ``targets.toml``: each appends a
problem naming the key and the value instead of raising."""
from __future__ import annotations

import re
from typing import Mapping

from tacebench.replications.analysis.problems import MISSING, Problems

__all__ = ["SNAKE", "sub_table", "table_items", "text_value", "unknown_keys"]

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def text_value(raw: Mapping, key: str, probs: Problems, path: str, *, required=False,
               snake=False, choices=None) -> str | None:
    """``raw[key]`` as a non-empty string (snake_case, or one of ``choices``), else None.

    Parameters
    ----------
    raw : Mapping
        The TOML table.
    key : str
        The key read.
    probs : Problems
        Where a problem is recorded (``path.key``, the value, the message).
    path : str
        The table's dotted location, e.g. ``targets[3]``.
    required, snake, choices
        A missing key is a problem; the value must be snake_case; the value must be one of.

    Returns
    -------
    str or None
    """
    if key not in raw:
        if required:
            probs.add(f"{path}.{key}", MISSING, "is required", "missing-key")
        return None
    v = raw[key]
    if not isinstance(v, str) or not v.strip():
        probs.add(f"{path}.{key}", v, "must be a non-empty string", "malformed-value")
        return None
    if snake and not SNAKE.match(v):
        probs.add(f"{path}.{key}", v, "must be snake_case ([a-z][a-z0-9_]*)", "malformed-value")
    if choices is not None and v not in choices:
        probs.add(f"{path}.{key}", v, f"must be one of {sorted(choices)}", "unknown-value")
    return v


def unknown_keys(raw: Mapping, allowed: frozenset, probs: Problems, path: str) -> None:
    """Record every key of ``raw`` not in ``allowed``."""
    for k in raw:
        if k not in allowed:
            probs.add(f"{path}.{k}" if path else k, raw[k], "unknown key", "unknown-key")


def sub_table(raw: Mapping, key: str, allowed: frozenset, probs: Problems, path: str,
              shape: str) -> Mapping | None:
    """The optional table ``raw[key]`` (``misprint``, ``mislabel``) of one entry, its unknown
    keys recorded; None when absent or not a table (``shape`` says what it must be).

    Parameters
    ----------
    raw : Mapping
        The entry holding the table.
    key : str
        The table's key.
    allowed : frozenset
        Its keys.
    probs : Problems
        Where a value that is not a table, and each unknown key, is recorded.
    path : str
        The entry's dotted location, e.g. ``targets[3]``.
    shape : str
        The table's keys as the message shows them (``{printed, is, reason, finding}``).

    Returns
    -------
    Mapping or None
    """
    if key not in raw:
        return None
    table = raw[key]
    if not isinstance(table, Mapping):
        probs.add(f"{path}.{key}", table, f"must be a table {shape}", "malformed-value")
        return None
    unknown_keys(table, allowed, probs, f"{path}.{key}")
    return table


def table_items(raw: Mapping, key: str, probs: Problems, path: str,
                what: str) -> list[tuple[str, Mapping]]:
    """The tables of the non-empty list ``raw[key]``, each with its place ``path.key[j]``.

    Parameters
    ----------
    raw : Mapping
        The TOML table holding the list.
    key : str
        The list's key (``cells``, ``rows``).
    probs : Problems
        Where a missing or empty list, and each item that is not a table, is recorded.
    path : str
        The table's dotted location.
    what : str
        What the list holds, for the message (``{analysis, arm, count, percent}``).

    Returns
    -------
    list of (str, Mapping)
    """
    items = raw.get(key)
    if not isinstance(items, list) or not items:
        probs.add(f"{path}.{key}", items if key in raw else MISSING,
                  f"must be a non-empty list of {what}", "missing-key")
        return []
    out = []
    for j, item in enumerate(items):
        if not isinstance(item, Mapping):
            probs.add(f"{path}.{key}[{j}]", item, "must be a table", "malformed-value")
        else:
            out.append((f"{path}.{key}[{j}]", item))
    return out
