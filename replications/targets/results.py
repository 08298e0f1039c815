"""The compact ``[[results]]`` form of ``targets.toml``: the keys a group of numbers shares
written once, then one inline row per number (or per pair of arms).

A group reads like the paragraph it transcribes::

    [[results]]
    analysis = "crude"
    endpoint = "os"
    where = "text"
    role = "predicted"
    rows = [
      { quantity = "km_rate", time = 12, arm = ["TACE", "TACE-L"], percent = [56.0, 70.0],
        source = "The 12-month OS rates were 56.0% and 70.0%." },
    ]

Every key of a ``[[targets]]`` entry may be a group default (except ``id``) or a row key; a
row's key replaces the group's. A row whose ``arm`` is a list of ``n`` labels stands for ``n``
targets, one per arm: its per-arm keys (:data:`PER_ARM_KEYS`) are then either one value for
every arm or a list of ``n`` values (``ci`` a list of ``n`` pairs). A row without ``id`` gets
the one the naming convention gives (:func:`~replications.targets.model.expected_id`).
The expanded rows are validated exactly as ``[[targets]]`` entries; their key paths name the
row and its id (``results[0].rows[2] (os_rate12m_tace_crude).percent``).
"""
from __future__ import annotations

from typing import Any, Mapping

from tacebench.replications.analysis.problems import Problems, raw_items

from .fields import table_items, unknown_keys as _unknown
from .model import TARGET_KEYS, Target, expected_id

__all__ = ["PER_ARM_KEYS", "expand_results", "convention_id", "results_rows"]

#: Keys a row with a list of arms may give per arm (a list with one entry per arm).
PER_ARM_KEYS = ("id", "value", "percent", "count", "denominator", "ci", "se", "sd", "p", "p_text",
                "source", "unweighted", "note")
_GROUP_KEYS = (TARGET_KEYS - {"id"}) | {"rows"}
#: Fields of a target that its conventional id is built from.
_ID_FIELDS = ("endpoint", "arm", "term", "level")


def convention_id(raw: Mapping) -> str | None:
    """The id the naming convention gives a raw target, or None when the fields it is built
    from are missing or malformed (the target's own validation reports them).

    Parameters
    ----------
    raw : Mapping
        A raw target table (the keys of a ``[[targets]]`` entry, ``id`` aside).

    Returns
    -------
    str or None
    """
    kw = {k: raw[k] for k in ("analysis", "quantity", *_ID_FIELDS) if k in raw}
    if not all(isinstance(v, str) and v for v in kw.values()) or len(
            {"analysis", "quantity"} & set(kw)) < 2 or "mislabel" in raw:
        return None                  # a mislabelled target is named as printed: give its id
    time = raw.get("time")
    if raw.get("quantity") == "km_rate":
        if isinstance(time, bool) or not isinstance(time, (int, float)):
            return None
        kw["time"] = float(time)
    return expected_id(Target(id="x", role="reported", where="text", source="", **kw))


def _per_arm(row: Mapping, arms: list, path: str, probs: Problems) -> list[dict] | None:
    """One raw target per arm of a row whose ``arm`` is a list."""
    n = len(arms)
    if n == 0 or not all(isinstance(a, str) and a for a in arms):
        probs.add(f"{path}.arm", arms, "must be an arm label or a non-empty list of arm "
                  "labels", "malformed-value")
        return None
    out = [dict(row, arm=a) for a in arms]
    ok = True
    for key in PER_ARM_KEYS:
        v = row.get(key)
        each = isinstance(v, list) and (key != "ci" or all(isinstance(x, list) for x in v))
        if key in row and isinstance(v, list) and key != "ci" or key == "ci" and each:
            if len(v) != n:
                probs.add(f"{path}.{key}", v, f"gives {len(v)} values for {n} arms {arms}: one "
                          "per arm, in the order of arm", "malformed-value")
                ok = False
                continue
            for target, x in zip(out, v):
                target[key] = x
        elif key == "id" and key in row:
            probs.add(f"{path}.id", v, f"a row of {n} arms needs {n} ids (a list) or none",
                      "malformed-value")
            ok = False
    return out if ok else None


def expand_results(raw: Any, path: str, probs: Problems) -> list[tuple[str, dict]]:
    """One ``[[results]]`` group -> ``(key path, raw target)``, one per number.

    Parameters
    ----------
    raw : Any
        The group as parsed from TOML.
    path : str
        Its place, ``results[i]``.
    probs : Problems
        Where problems of the group itself are recorded (the targets' own are recorded when
        the returned raw targets are validated).

    Returns
    -------
    list of (str, dict)
        Each row's key path (with its id) and its raw target, defaults applied.
    """
    if not isinstance(raw, Mapping):
        probs.add(path, raw, "must be a table", "malformed-value")
        return []
    _unknown(raw, _GROUP_KEYS, probs, path)
    if "id" in raw:
        probs.add(f"{path}.id", raw["id"], "an id names one number: give it in its row",
                  "malformed-value")
    rows = table_items(raw, "rows", probs, path, "rows, one { quantity, value, ... } per number")
    defaults = {k: v for k, v in raw.items() if k in TARGET_KEYS and k != "id"}
    out = []
    for rpath, row in rows:
        merged = {**defaults, **row}
        arms = merged.get("arm")
        expanded = _per_arm(merged, arms, rpath, probs) if isinstance(arms, list) else [merged]
        for k, target in enumerate(expanded or []):
            if "id" not in target and (tid := convention_id(target)) is not None:
                target["id"] = tid
            where = f"{rpath}[{k}]" if isinstance(arms, list) else rpath
            label = target.get("id") if isinstance(target.get("id"), str) else None
            out.append((f"{where} ({label})" if label else where, target))
    return out


def results_rows(raw_targets: Mapping) -> list[tuple[str, dict]]:
    """Every ``[[results]]`` row of a parsed targets.toml as ``(key path, raw target)``,
    without validation (the loader reports the problems).

    Parameters
    ----------
    raw_targets : Mapping
        The parsed targets.toml.

    Returns
    -------
    list of (str, dict)
    """
    groups = raw_targets.get("results")
    return [row for i, g in enumerate(raw_items(groups))
            for row in expand_results(g, f"results[{i}]", Problems(""))]
