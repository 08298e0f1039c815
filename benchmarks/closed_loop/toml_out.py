"""A small TOML writer for the study files the closed loop generates (plain data only:
strings, numbers, booleans, lists and tables; nested tables as inline tables)."""
from __future__ import annotations

import json
import math

__all__ = ["value", "table", "array_of_tables"]


def value(x) -> str:
    """One TOML value."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"TOML value: must be finite; got {x!r}")
        return repr(x)
    if isinstance(x, str):
        return json.dumps(x, ensure_ascii=False)   # a JSON string is a TOML basic string
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(value(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in x.items()) + " }"
    raise ValueError(f"TOML value: cannot write {type(x).__name__} {x!r}")


def key(k: str) -> str:
    """A bare key when it can be one, else a quoted key."""
    ok = k and all(ch.isalnum() or ch in "_-" for ch in k) and k.isascii()
    return k if ok else json.dumps(k)


def table(name: str, items: dict) -> str:
    """``[name]`` and its ``key = value`` lines (``None`` values left out)."""
    lines = [f"[{name}]"] + [f"{key(k)} = {value(v)}" for k, v in items.items() if v is not None]
    return "\n".join(lines) + "\n"


def array_of_tables(name: str, items: dict) -> str:
    """``[[name]]`` and its lines (``None`` values left out)."""
    return f"[[{name}]]\n" + "".join(f"{key(k)} = {value(v)}\n" for k, v in items.items()
                                     if v is not None)
