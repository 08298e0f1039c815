"""``[[shifts]]``: a paired shift between two targets of ``targets.toml`` (``to`` minus
``from`` on the log or the natural scale), checked against the targets it names."""
from __future__ import annotations

import math
from typing import Any, Mapping

from tacebench.replications.analysis.problems import Problems

from .fields import text_value as _text, unknown_keys as _unknown
from .model import ROLES, SHIFT_SCALES, Shift, Target

_SHIFT_KEYS = frozenset({"id", "from", "to", "scale", "role", "required", "note"})


def parse_shift(raw: Any, path: str, probs: Problems, by_id: Mapping[str, Target],
                seen: Mapping[str, str]):
    """One ``[[shifts]]`` table as a :class:`Shift` (its reported value computed from the
    two targets it names, ``by_id``), or None with its problems added to ``probs``;
    ``seen``: every target id of the file, with its path."""
    if not isinstance(raw, Mapping):
        probs.add(path, raw, "must be a table", "malformed-value")
        return None
    n0 = len(probs)
    _unknown(raw, _SHIFT_KEYS, probs, path)
    sid = _text(raw, "id", probs, path, required=True, snake=True)
    ends = [_text(raw, k, probs, path, required=True) for k in ("from", "to")]
    scale = _text(raw, "scale", probs, path, choices=SHIFT_SCALES) or "log"
    role = _text(raw, "role", probs, path, choices=ROLES) or "predicted"
    if "required" in raw and not isinstance(raw["required"], bool):
        probs.add(f"{path}.required", raw["required"], "must be true or false",
                  "malformed-value")
    for key, ref in zip(("from", "to"), ends):
        if ref is not None and ref not in seen:
            probs.add(f"{path}.{key}", ref, "names no target in this file", "unknown-target")
    if len(probs) > n0 or not all(e in by_id for e in ends):
        return None                          # (a target with problems of its own is listed)
    a, b = by_id[ends[0]], by_id[ends[1]]
    if not (a.quantity == b.quantity and a.endpoint == b.endpoint and a.arm == b.arm
            and a.term == b.term):
        probs.add(f"{path}.to", ends[1], f"is not the same quantity as {ends[0]!r} "
                  "(quantity, endpoint, arm and term must agree)", "mismatched-shift")
        return None
    orient = 1
    # letter case is ignored here: a mistyped label is reported on the target that has it
    ca, cb = (tuple(s.casefold() for s in x.contrast or ()) for x in (a, b))
    if ca and cb and ca != cb:
        if tuple(reversed(ca)) != cb:
            probs.add(f"{path}.to", ends[1], f"contrast {list(b.contrast)} is neither "
                      f"{list(a.contrast)} nor its reverse", "mismatched-shift")
            return None
        orient = -1
    if scale == "log" and (not a.value or not b.value):
        probs.add(f"{path}.scale", scale, "a log shift needs positive values", "malformed-value")
        return None
    reported = (orient * math.log(b.value) - math.log(a.value) if scale == "log"
                else b.value - a.value)
    return Shift(id=sid, from_=ends[0], to=ends[1], scale=scale, role=role,
                 required=raw.get("required") is True, note=raw.get("note"),
                 orientation=orient, reported=reported)
