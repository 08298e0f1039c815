"""Overrides of a parsed ``cohort.toml``: keys removed, values set and list items appended
by dotted path.

A study's alternative worlds (``worlds.toml``, read by replications) and the benchmark
scenarios that start from one of those worlds both edit the parsed TOML of a cohort file
before :func:`simulate.io.spec_from_dict` reads it. Paths are dotted keys (a key that is not
a bare word, such as the arm label ``"TACE+regorafenib"``, is written in double quotes, as
TOML writes it); ``[i]`` indexes a list and ``[key=value]`` picks the list item whose
``key`` is ``value`` (``[key=value,other=value]``: whose keys all have those values; a
selector that more than one item matches is an error naming the keys that tell them
apart, never the first of them); only the last key of a table may be new. A removed path
must exist: its last step is a table key (the key goes), an index or a selector (the list
item goes). With a strength ``k``, appended ``hr`` / ``or`` values (numbers or lists) are
raised to the power ``k`` (log-effects times ``k``).
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

__all__ = ["OverrideError", "ItemMatch", "apply_overrides", "parse_path", "load_cohort_raw"]

_STEP = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)((?:\[[^\]]+\])*)$")
_QUOTED = re.compile(r'^"([^"]+)"((?:\[[^\]]+\])*)$')
_INDEX = re.compile(r"\[([^\]]+)\]")
_SCALED = ("hr", "or")


class OverrideError(ValueError):
    """An override that does not apply to the cohort file; ``key`` names it."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


@dataclass(frozen=True)
class ItemMatch:
    """A list selector ``[k1=v1,k2=v2]``: the one list item (a table) whose ``k1`` is
    ``v1`` and ``k2`` is ``v2`` (values compared as text)."""

    conditions: tuple[tuple[str, str], ...]

    def matches(self, item) -> bool:
        return isinstance(item, dict) and all(k in item and str(item[k]) == v
                                              for k, v in self.conditions)

    def __str__(self) -> str:
        return "[" + ",".join(f"{k}={v}" for k, v in self.conditions) + "]"


def parse_path(path: str) -> list[Any]:
    """``a.b[2].c[variable=x,arm=y]`` -> ``['a', 'b', 2, 'c', ItemMatch((('variable', 'x'),
    ('arm', 'y')))]``."""
    if not isinstance(path, str) or not path:
        raise OverrideError("path", "expected a dotted path such as cohorts.main.outcomes.os")
    out: list[Any] = []
    for part in _steps(path):
        m = _STEP.match(part) or _QUOTED.match(part)
        if not m:
            raise OverrideError(path, f"cannot read path step {part!r}")
        out.append(m.group(1))
        for idx in _INDEX.findall(m.group(2)):
            if "=" in idx:
                out.append(_item_match(idx, path))
            elif idx.strip().lstrip("-").isdigit():
                out.append(int(idx))
            else:
                raise OverrideError(path, f"list selector [{idx}] is neither an index nor key=value")
    return out


def _item_match(text: str, path: str) -> ItemMatch:
    """``k1=v1,k2="v,2"`` (commas inside double quotes are the value's)."""
    conditions = []
    for part in _split(text, ",", path):
        k, eq, v = part.partition("=")
        if not eq or not k.strip():
            raise OverrideError(path, f"list selector [{text}]: {part.strip()!r} is not key=value")
        conditions.append((k.strip(), v.strip().strip("\"'")))
    keys = [k for k, _ in conditions]
    if len(set(keys)) < len(keys):
        raise OverrideError(path, f"list selector [{text}] names a key twice")
    return ItemMatch(tuple(conditions))


def _steps(path: str) -> list[str]:
    """The path's steps: split at the dots outside double quotes."""
    return _split(path, ".", path)


def _split(text: str, sep: str, path: str) -> list[str]:
    """``text`` split at each ``sep`` outside double quotes."""
    parts, start, quoted = [], 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append(text[start:i])
            start = i + 1
    if quoted:
        raise OverrideError(path, "a double quote is not closed")
    return parts + [text[start:]]


def _walk(node, step, path: str):
    if isinstance(step, str):
        if not isinstance(node, dict):
            raise OverrideError(path, f"{step!r} is not inside a table")
        if step not in node:
            raise OverrideError(path, f"no key {step!r} in cohort.toml (has {sorted(node)})")
        return node[step]
    if not isinstance(node, list):
        raise OverrideError(path, "a list selector on something that is not a list")
    if isinstance(step, int):
        if not -len(node) <= step < len(node):
            raise OverrideError(path, f"index {step} out of range (list of {len(node)})")
        return node[step]
    hits = [x for x in node if step.matches(x)]
    if not hits:
        raise OverrideError(path, f"no item {step}")
    if len(hits) > 1:
        # which keys tell the items apart: the selector must name one of them
        keys = sorted({k for x in hits for k in x
                       if len({repr(y.get(k)) for y in hits}) > 1 and k not in ("hr", "or")})
        raise OverrideError(path, f"{len(hits)} items match {step}: add a key that tells them "
                            f"apart ({', '.join(keys) or 'none differs'}), e.g. "
                            f"[{','.join(f'{k}={v}' for k, v in step.conditions)}"
                            f"{',' + keys[0] + '=...' if keys else ''}]")
    return hits[0]


def _assign(root: dict, path: str, value, append: bool) -> None:
    steps = parse_path(path)
    node = root
    for step in steps[:-1]:                 # only the last key of a table may be new
        node = _walk(node, step, path)
    last = steps[-1]
    if append:
        if not isinstance(last, str) or not isinstance(node, dict):
            raise OverrideError(path, "append needs a path ending in a table key")
        target = node.setdefault(last, [])
        if not isinstance(target, list):
            raise OverrideError(path, "append needs a list at the path")
        target.extend(copy.deepcopy(list(value)))
        return
    if isinstance(last, str):
        if not isinstance(node, dict):
            raise OverrideError(path, f"{last!r} is not inside a table")
        node[last] = copy.deepcopy(value)
    elif isinstance(last, int):
        if not isinstance(node, list) or not -len(node) <= last < len(node):
            raise OverrideError(path, "index out of range")
        node[last] = copy.deepcopy(value)
    else:
        raise OverrideError(path, "a path to set must end in a key or an index")


def _scale(item, k: float):
    """``hr`` / ``or`` (a number or a list) raised to the power k."""
    if not isinstance(item, dict):
        return item
    out = dict(item)
    for key in _SCALED:
        v = out.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            out[key] = float(v) ** k
        elif isinstance(v, list):
            out[key] = [float(x) ** k if isinstance(x, (int, float)) and x > 0 else x
                        for x in v]
    return out


def apply_overrides(raw: Mapping, set: Mapping[str, Any] | None = None,
                    append: Mapping[str, Any] | None = None,
                    strength: float | None = None,
                    unset: Sequence[str] | None = None) -> dict:
    """A deep copy of ``raw`` (a parsed ``cohort.toml``) with the ``unset`` paths removed,
    ``set`` values replaced and ``append`` items added (their ``hr`` / ``or`` raised to
    ``strength`` when given).

    The paths are removed first and the values set next, both in the cohort file as it is;
    then the items are appended: a value of an appended item is given in the item itself.
    A path both removed and set is refused (which of the two is meant?).

    Raises :class:`OverrideError` naming the path that does not apply.
    """
    out = copy.deepcopy(dict(raw))
    both = sorted({*(unset or ())} & {*(set or {})})   # (``set`` is the argument here)
    if both:
        raise OverrideError(both[0], "both removed (unset) and set: give one of them")
    for path in unset or ():
        _remove(out, path)
    for path, value in (set or {}).items():
        try:
            _assign(out, path, value, append=False)
        except OverrideError as exc:
            # a selector meant for an item the same override appends: say why it is absent
            if exc.message.startswith("no item") and any(
                    path.startswith(f"{a}[") for a in (append or {})):
                raise OverrideError(path, f"{exc.message}: `set` applies to the cohort file "
                                    "before `append` adds its items, so give an appended "
                                    "item's values in the item itself") from None
            raise
    for path, items in (append or {}).items():
        _assign(out, path, [_scale(x, strength) for x in items] if strength is not None
                else list(items), append=True)
    return out


def _remove(root: dict, path: str) -> None:
    """Delete the key, list index or selected list item at ``path`` (it must exist)."""
    steps = parse_path(path)
    node = root
    for step in steps[:-1]:
        node = _walk(node, step, path)
    last = steps[-1]
    if isinstance(last, str):
        _walk(node, last, path)            # the error of a key that is not there
        del node[last]
        return
    item = _walk(node, last, path)         # an index in range, or the one item selected
    del node[next(i for i, x in enumerate(node) if x is item)]


def load_cohort_raw(base: str) -> dict:
    """The parsed ``cohort.toml`` of a study, or of one of its declared worlds.

    ``base`` is what :func:`simulate.studies.find_study` accepts, optionally followed by
    ``@<world>``: the ``[[worlds]]`` entry of that name in the study's ``worlds.toml``
    (format: docs/study-format.md) applied to it, so a benchmark can start from a reading
    of a paper that the study keeps as an alternative world (a plain world: a family
    with ``strength`` has no single member to name).
    """
    import tomllib
    from .studies import find_study
    from .table1 import read_cohort_toml

    ref, _, world = str(base).partition("@")
    path = find_study(ref)
    raw = read_cohort_toml(path)                  # a Table 1 file expanded
    if not world:
        return raw
    wfile = path.parent / "worlds.toml"
    if not wfile.is_file():
        raise ValueError(f"base {base!r}: {wfile} does not exist")
    with open(wfile, "rb") as fh:
        entries = tomllib.load(fh).get("worlds", [])
    hits = [w for w in entries if isinstance(w, dict) and w.get("name") == world]
    if not hits:
        names = sorted(w.get("name") for w in entries if isinstance(w, dict))
        raise ValueError(f"base {base!r}: no world {world!r} in {wfile} (worlds: {names})")
    if hits[0].get("strength") is not None:
        raise ValueError(f"base {base!r}: world {world!r} is a family (strength); name a "
                         "plain world")
    return apply_overrides(raw, hits[0].get("set"), hits[0].get("append"),
                           unset=hits[0].get("unset"))
