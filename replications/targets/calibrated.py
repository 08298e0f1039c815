"""Calibration targets read from ``cohort.toml`` instead of written twice.

``cohort.toml`` already carries every calibration number with its quote: each entry of an
outcome's ``calibrate`` list and the censoring's ``events`` / ``median_followup`` that names a
``target``. A ``[calibration]`` table in ``targets.toml`` turns each such entry into its
calibration target::

    [calibration]
    analysis = "crude"                    # the whole-cohort analysis the numbers come from
    where = "text"
    os_median_tace_crude.ci = [11.8, 16.2]    # what the entry cannot carry, by target id

The target takes its id (the entry's ``target``), value, arm, time, endpoint and ``source``
from the entry; its quantity from the entry's kind (``median`` -> ``km_median``, ``rate`` ->
``km_rate``, written as a percent when its quote prints ``%``; ``hr`` -> ``hr``, the entry's
arm against the cohort's other arm; ``events`` -> ``count``; ``median_followup`` ->
``median_followup``); its role is ``calibration`` (``predicted`` for a censoring entry
nothing is solved for: :func:`censoring_fitted`). The table's ``analysis``, ``where``,
``note`` and ``required`` apply to every entry; a sub-table keyed by a target id adds that
target's other keys (``ci``, ``p``, ``where``, ...). A ``[[targets]]`` entry with the same id
replaces the derived target, as it replaces a Table 1 cell's.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from tacebench.replications.analysis.problems import Problems, raw_items, raw_table

from .fields import unknown_keys as _unknown
from .model import TARGET_KEYS

__all__ = ["CALIBRATION_DEFAULTS", "calibration_entries", "censoring_fitted", "expand_calibration"]

#: Keys of ``[calibration]`` that apply to every derived target.
CALIBRATION_DEFAULTS = frozenset({"analysis", "where", "note", "required"})
#: Keys a derived target takes from its cohort.toml entry (not to be given again).
_FROM_COHORT = frozenset({"id", "quantity", "endpoint", "arm", "time", "value", "percent",
                          "count", "source", "role", "contrast"})
_KINDS = {"median": "km_median", "rate": "km_rate", "hr": "hr"}


def calibration_entries(cohort: Mapping) -> Iterator[tuple[str, str, Mapping]]:
    """``(key, endpoint, entry)`` of every entry of a raw cohort.toml that names a target.

    Parameters
    ----------
    cohort : Mapping
        The parsed cohort.toml.

    Returns
    -------
    iterator of (str, str, Mapping)
        The entry's key path (``cohorts.main.outcomes.os.calibrate[0]``), its endpoint and
        the entry.
    """
    for cname, c in raw_table(cohort.get("cohorts")).items():
        if not isinstance(c, Mapping):
            continue
        for ep, out in raw_table(c.get("outcomes")).items():
            for k, e in enumerate(raw_items(raw_table(out).get("calibrate"))):
                if isinstance(e, Mapping) and "target" in e:
                    yield f"cohorts.{cname}.outcomes.{ep}.calibrate[{k}]", ep, e
        cen = raw_table(c.get("censoring"))
        for name in ("events", "median_followup"):
            e = cen.get(name)
            if isinstance(e, Mapping) and "target" in e:
                yield f"cohorts.{cname}.censoring.{name}", e.get("endpoint", "os"), e


def censoring_fitted(censoring: Any) -> bool:
    """Whether a raw ``censoring`` table solves anything: its ``events`` and
    ``median_followup`` entries are fitted only when ``follow_up`` or ``loss_rate`` is
    ``"calibrate"``; with both numbers they are recorded, and the numbers are predictions."""
    return isinstance(censoring, Mapping) and any(
        censoring.get(k) == "calibrate" for k in ("follow_up", "loss_rate"))


def _other_arm(cohort: Mapping, key: str, arm: Any) -> str | None:
    """The label of the cohort's one other arm (an ``hr`` entry's comparator)."""
    cname = key.split(".")[1]
    arms = (cohort["cohorts"][cname] or {}).get("arms")
    labels = [a.get("label") for a in raw_items(arms)
              if isinstance(a, Mapping)]
    others = [lab for lab in labels if lab != arm]
    return others[0] if len(others) == 1 and isinstance(others[0], str) else None


def _target(cohort: Mapping, key: str, ep: str, e: Mapping) -> dict:
    """The raw target an entry stands for (validated later as any target)."""
    cname = key.split(".")[1]
    fitted = ".censoring." not in key or censoring_fitted(
        (cohort["cohorts"][cname] or {}).get("censoring"))
    t: dict[str, Any] = {"id": e["target"], "role": "calibration" if fitted else "predicted",
                         "endpoint": ep}
    for k in ("arm", "time", "source"):
        if k in e:
            t[k] = e[k]
    kind = e.get("kind")
    if key.endswith("median_followup"):
        t["quantity"] = "median_followup"
    elif key.endswith("events"):
        t["quantity"] = "count"
    else:
        t["quantity"] = _KINDS.get(kind, kind)
    value = e.get("value")
    if (t["quantity"] == "km_rate" and isinstance(value, (int, float))
            and not isinstance(value, bool) and "%" in str(e.get("source", ""))):
        t["percent"] = round(value * 100, 10)        # printed as a percentage
    elif "value" in e:
        t["value"] = value
    if t["quantity"] == "hr":                   # an HR's arms are its contrast
        arm, other = t.pop("arm", None), _other_arm(cohort, key, e.get("arm"))
        if other is not None:
            t["contrast"] = [arm, other]
    return t


def expand_calibration(raw: Any, cohort: Mapping | None, probs: Problems
                       ) -> list[tuple[str, dict]]:
    """The ``[calibration]`` table -> ``(key path, raw target)``, one per cohort.toml entry.

    Parameters
    ----------
    raw : Any
        The ``[calibration]`` table as parsed from TOML.
    cohort : Mapping or None
        The parsed cohort.toml of the study (None: not readable, no targets).
    probs : Problems
        Where problems are recorded (``calibration.<id>.<key>``).

    Returns
    -------
    list of (str, dict)
        Each target's key path (``calibration (id, from cohort.toml KEY)``) and raw target.
    """
    if not isinstance(raw, Mapping):
        probs.add("calibration", raw, "must be a table", "malformed-value")
        return []
    entries = list(calibration_entries(cohort or {}))
    ids = {e["target"] for _, _, e in entries if isinstance(e["target"], str)}
    defaults = {k: v for k, v in raw.items() if k in CALIBRATION_DEFAULTS}
    extra = {k: v for k, v in raw.items() if k not in CALIBRATION_DEFAULTS}
    for tid, add in extra.items():
        if tid not in ids or not isinstance(add, Mapping):
            probs.add(f"calibration.{tid}", add, "is neither a key of [calibration] "
                      f"({', '.join(sorted(CALIBRATION_DEFAULTS))}) nor the target id of a "
                      "calibrate / events entry of cohort.toml (a table of that target's "
                      "keys)", "unknown-key")
            continue
        _unknown(add, TARGET_KEYS - _FROM_COHORT, probs, f"calibration.{tid}")
    if not entries:
        probs.add("calibration", dict(raw), "cohort.toml has no calibrate / events entry "
                  "naming a target: there is nothing to derive", "unknown-target")
    out = []
    for key, ep, e in entries:
        t = {**defaults, **_target(cohort, key, ep, e)}
        add = extra.get(e["target"]) if isinstance(e["target"], str) else None
        if isinstance(add, Mapping):
            t.update({k: v for k, v in add.items() if k not in _FROM_COHORT})
        out.append((f"calibration ({e['target']}, from cohort.toml {key})", t))
    return out
