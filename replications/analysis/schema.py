"""What a cohort generates: column names, kinds and levels, known before any simulation.

``tacebench check`` validates an analysis plan without simulating, so the set of columns a
cohort will produce is read from ``cohort.toml`` itself (the format pinned in
``docs/design.md``): one column per variable, derived variable and unmeasured confounder,
``<endpoint>_time`` / ``<endpoint>_event`` per outcome, ``response`` when a response model is
given. The same :class:`Schema` can be built from a generated cohort, which is what the
reproduction run compiles its plan against.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .problems import raw_table

__all__ = ["Column", "Schema", "schema_from_spec", "schema_from_cohort", "ORACLE_COLUMNS"]

#: Columns the generator writes that no analysis may use: the truth is not observable.
ORACLE_COLUMNS = frozenset({"true_ps"})

_RESPONSE_LEVELS = ("CR", "PR", "SD", "PD")     # a response table without `levels`
#: Response columns: the overall ``response`` and the further ``response_<name>`` ones.
_RESPONSE_COLUMN = re.compile(r"^response(_[a-z0-9_]+)?$")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str                       # continuous | binary | categorical | count | derived | ...
    levels: tuple[str, ...] = ()
    cutpoints: tuple[float, ...] = ()
    unmeasured: bool = False


@dataclass(frozen=True)
class Schema:
    """The columns of one cohort of a study and its arms."""

    cohort: str
    columns: Mapping[str, Column]
    arms: tuple[str, ...]
    treated_arm: str | None = None
    endpoints: tuple[str, ...] = ()
    response_levels: tuple[str, ...] = ()
    levels_known: bool = True       # False when built from a spec whose derived levels are unknown
    extra: Mapping[str, Any] = field(default_factory=dict)
    responses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # column -> levels

    @property
    def comparative(self) -> bool:
        return len(self.arms) == 2

    @property
    def reference_arm(self) -> str | None:
        if not self.comparative:
            return None
        return next(a for a in self.arms if a != self.treated_arm)

    def has(self, name: str) -> bool:
        return name in self.columns


def _arms(raw_cohort: Mapping) -> tuple[tuple[str, ...], str | None]:
    arms = raw_cohort.get("arms") or []
    labels = tuple(str(a.get("label")) for a in arms if isinstance(a, Mapping))
    treated = [str(a.get("label")) for a in arms if isinstance(a, Mapping) and a.get("treated")]
    treated_arm = treated[0] if treated else (labels[-1] if len(labels) == 2 else None)
    return labels, treated_arm


def schema_from_spec(raw: Mapping, cohort: str) -> Schema:
    """Build the schema of ``cohort`` from a parsed ``cohort.toml`` (a plain dict).

    Raises ``KeyError`` if the cohort is not defined; unknown or odd entries are skipped
    (the simulate loader reports those).
    """
    raw_cohort = raw_table(raw.get("cohorts"))[cohort]
    arms, treated_arm = _arms(raw_cohort)
    cols: dict[str, Column] = {}
    for var in raw_cohort.get("variables") or []:
        if not isinstance(var, Mapping) or "name" not in var:
            continue
        kind = str(var.get("type", "continuous"))
        levels = tuple(str(x) for x in var.get("levels", ()) or ())
        cuts = tuple(float(x) for x in var.get("cutpoints", ()) or ()
                     if isinstance(x, (int, float)))
        cols[str(var["name"])] = Column(str(var["name"]), kind, levels, cuts)
    levels_known = True
    for der in raw_cohort.get("derived") or []:
        if isinstance(der, Mapping) and "name" in der:
            levels = tuple(str(x) for x in der.get("levels", ()) or ())
            kind = "categorical" if levels else "derived"
            levels_known &= bool(levels) or "grade" not in str(der.get("kind", ""))
            cols[str(der["name"])] = Column(str(der["name"]), kind, levels)
    unmeasured = raw_cohort.get("unmeasured")
    for u in unmeasured if isinstance(unmeasured, list) else [unmeasured] if unmeasured else []:
        if isinstance(u, Mapping) and "name" in u:
            cols[str(u["name"])] = Column(str(u["name"]), "continuous", unmeasured=True)
    endpoints = tuple(str(k) for k in raw_table(raw_cohort.get("outcomes")))
    for ep in endpoints:
        cols[f"{ep}_time"] = Column(f"{ep}_time", "time")
        cols[f"{ep}_event"] = Column(f"{ep}_event", "binary")
    responses: dict[str, tuple[str, ...]] = {}
    further = raw_cohort.get("response_columns") or {}
    for name, entry in [("response", raw_cohort.get("response"))] + (
            list(further.items()) if isinstance(further, Mapping) else []):
        if isinstance(entry, Mapping) and entry:
            responses[str(name)] = tuple(str(x) for x in entry.get("levels", _RESPONSE_LEVELS))
            cols[str(name)] = Column(str(name), "categorical", responses[str(name)])
    response_levels = responses.get("response", ())
    if raw_cohort.get("time_varying"):
        for name in ("systemic_start", "systemic_duration"):
            cols[name] = Column(name, "continuous")
    cols["treated"] = Column("treated", "binary")
    cols["arm"] = Column("arm", "categorical", arms)
    return Schema(cohort, cols, arms, treated_arm, endpoints, response_levels, levels_known,
                  responses=responses)


def schema_from_cohort(cohort, name: str = "main", unmeasured: frozenset = frozenset()
                       ) -> Schema:
    """Build the schema from a generated ``simulate.Cohort`` (columns, levels, arm labels)."""
    columns = cohort.columns
    levels = dict(getattr(cohort, "levels", {}) or {})
    arms = tuple(str(a) for a in cohort.arm_labels)
    treated_arm = getattr(cohort, "treated_label", None)
    if treated_arm is None and len(arms) == 2:
        arm = np.asarray(columns["arm"])
        treated = np.asarray(columns["treated"])
        hits = arm[treated == 1]
        treated_arm = arms[int(hits[0])] if hits.size else arms[-1]
    cols: dict[str, Column] = {}
    endpoints = []
    for key, values in columns.items():
        if key in levels:
            cols[key] = Column(key, "categorical", tuple(str(x) for x in levels[key]))
        else:
            kind = "binary" if np.isin(np.asarray(values)[:50], (0, 1)).all() else "continuous"
            cols[key] = Column(key, kind, unmeasured=key in unmeasured or key.startswith("u_"))
        if key.endswith("_time") and f"{key[:-5]}_event" in columns:
            endpoints.append(key[:-5])
    cols["arm"] = Column("arm", "categorical", arms)
    responses = {k: tuple(str(x) for x in levels[k]) for k in columns
                 if k in levels and _RESPONSE_COLUMN.match(k)}
    return Schema(name, cols, arms, treated_arm, tuple(endpoints),
                  responses.get("response", ()), responses=responses)
