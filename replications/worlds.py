"""Worlds: alternative generators a verdict is tested against, declared as data.

A verdict holds only under the assumptions the simulation made. Every assumption a paper
leaves open that could move a verdict is varied: a study folder may hold a fourth file,
``worlds.toml``, of named alternative worlds, each a set of overrides of ``cohort.toml``
with the reason it is defensible::

    [[worlds]]
    name = "left_out_effects"
    why = "Table 3's multivariable column keeps only covariates with univariable p < 0.05; \
not selected is not no effect"
    strength = [0.25, 0.5, 0.75, 1.0]     # optional: a family indexed by k (see below)
    [worlds.append]
    "cohorts.main.outcomes.os.effects" = [{ variable = "creatinine", hr = 1.004 }]
    [worlds.set]
    "cohorts.main.outcomes.os.effects[variable=ast].hr" = 1.0025

``unset`` (a list of paths) removes keys and list items that exist; ``set`` replaces the
value at a dotted path (``[i]`` indexes a list, ``[key=value]`` picks the list item whose
``key`` is ``value``, ``[key=value,other=value]`` the one whose keys all have those values,
and more than one match is an error; the last key of a table may be new); ``append`` adds
items to the list at a path (created if absent), after the paths are removed and the
values set. With ``strength = [k1, k2, ...]`` the world is a **family**: member ``k``
raises every ``hr`` / ``or`` of the appended items to the power ``k`` (log-effects times
``k``; ``k = 0`` is the study's own world), so a verdict's **tipping point** is the ``k``
at which it flips.

Every comparative study also gets one built-in family, ``unmeasured_confounder``: a binary
confounder ``U`` (prevalence 0.5) whose treatment odds ratio and outcome hazard ratios are
both ``k``, for ``k`` in :data:`CONFOUNDER_STRENGTHS` (``k = 1`` is no confounding), the
"both associations equal" convention of the E-value (VanderWeele & Ding 2017). A cohort
that declares its own ``[unmeasured]`` confounder keeps its name. A second built-in pair of
families, ``unreported_effects_aligned`` / ``unreported_effects_opposed``
(:mod:`replications.unreported`), gives every covariate without a published effect a hazard
ratio of ``k`` per SD, in the direction of the arms' imbalance or against it. Built-in
families start from ``k = 1`` (:data:`FAMILY_BASE`); their overrides carry their final
values (no power ``k`` is applied).

Each world is a whole recalibrated generator: calibration targets are refitted in it, so a
world changes what the paper's design does to the data, not the numbers it was fitted to.

References
----------
VanderWeele TJ, Ding P. Sensitivity analysis in observational research: introducing the
E-value. Ann Intern Med 2017;167:268-274.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from tacebench.simulate.overrides import OverrideError as WorldError
from tacebench.simulate.overrides import apply_overrides, parse_path

from .analysis.problems import MISSING, Problem, Problems, raw_table, toml_problem
from .unreported import UNREPORTED_FAMILIES, unreported_sets

__all__ = ["World", "load_worlds", "apply_world", "builtin_worlds", "world_problems",
           "CONFOUNDER_STRENGTHS", "WORLDS_FILE", "WorldError", "FAMILY_BASE", "BUILTIN_FAMILIES"]

WORLDS_FILE = "worlds.toml"
#: Strengths k of the built-in unmeasured confounder (treatment OR = outcome HR = k).
CONFOUNDER_STRENGTHS = (1.5, 2.0, 3.0)
#: Names of the built-in families (a declared world may not take them).
BUILTIN_FAMILIES = ("unmeasured_confounder", *UNREPORTED_FAMILIES)
#: The strength at which a family is the study's own world (declared families: 0).
FAMILY_BASE = dict.fromkeys(BUILTIN_FAMILIES, 1.0)
_KEYS = {"name", "why", "set", "append", "unset", "strength"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class World:
    """One alternative generator: overrides of ``cohort.toml``, with the reason."""

    name: str
    why: str
    set: Mapping[str, Any] = field(default_factory=dict)
    append: Mapping[str, tuple] = field(default_factory=dict)
    family: str | None = None        # the family a member belongs to
    strength: float | None = None    # its k
    builtin: bool = False
    key: str = ""                    # "worlds[i]" of worlds.toml, for messages
    unset: tuple[str, ...] = ()      # paths removed (before ``set`` and ``append``)

    @property
    def label(self) -> str:
        return self.name if self.strength is None else f"{self.family} k={self.strength:g}"


def load_worlds(folder: Path) -> tuple[tuple[World, ...], list[Problem]]:
    """Parse ``worlds.toml`` of a study folder (absent: no declared worlds), collecting
    every problem with its key."""
    path = Path(folder) / WORLDS_FILE
    problems = Problems(str(path))
    if not path.exists():
        return (), []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problems.extend([toml_problem(problems.file, exc)])
        return (), list(problems)
    for k in raw:
        if k != "worlds":
            problems.add(k, raw[k], "unknown top-level key; expected [[worlds]]", "unknown-key")
    items = raw.get("worlds", [])
    if not isinstance(items, list):
        problems.add("worlds", items, "expected an array of [[worlds]] tables")
        items = []
    out, seen = [], set()
    for i, item in enumerate(items):
        out.extend(_parse_world(item, f"worlds[{i}]", problems, seen))
    return tuple(out), list(problems)


def _parse_world(item, key: str, problems: Problems, seen: set) -> list[World]:
    add = problems.add
    if not isinstance(item, Mapping):
        add(key, item, "each [[worlds]] entry must be a table")
        return []
    n0 = len(problems)
    for k in item:
        if k not in _KEYS:
            add(f"{key}.{k}", item[k], f"unknown key; expected {sorted(_KEYS)}", "unknown-key")
    name = item.get("name", MISSING)
    if not isinstance(name, str) or not _NAME.match(name) or name in BUILTIN_FAMILIES:
        add(f"{key}.name", name, f"needs a snake_case name (not a built-in family: "
            f"{', '.join(BUILTIN_FAMILIES)})", "fill-me")
    elif name in seen:
        add(f"{key}.name", name, "duplicated world name", "duplicate")
    if isinstance(name, str):      # (a name of another type has its error above)
        seen.add(name)
    why = item.get("why", MISSING)
    if not isinstance(why, str) or not why.strip():
        add(f"{key}.why", why, "say why this world is defensible", "fill-me")
    sets = item.get("set", {})
    appends = item.get("append", {})
    unsets = item.get("unset", [])
    if not isinstance(sets, Mapping):
        add(f"{key}.set", sets, "expected a table of \"dotted.path\" = value")
    if not isinstance(appends, Mapping) or not all(isinstance(v, list)
                                                   for v in appends.values()):
        add(f"{key}.append", appends, "expected a table of \"dotted.path\" = [items]")
    if not isinstance(unsets, list) or not all(isinstance(v, str) for v in unsets):
        add(f"{key}.unset", unsets, "expected a list of \"dotted.path\" strings (the keys "
            "or list items removed)")
        unsets = []
    if isinstance(sets, Mapping) and isinstance(appends, Mapping) and not sets and not appends \
            and not unsets:
        add(key, name, "a world overrides something: give `set`, `append` or `unset`",
            "fill-me")
    for path in sorted({*unsets} & {*(sets if isinstance(sets, Mapping) else ())}):
        add(f"{key}.unset", path, "the path is also in `set`: a world removes a path or "
            "sets it, not both", "incompatible")
    for path in [*(sets if isinstance(sets, Mapping) else ()),
                 *(appends if isinstance(appends, Mapping) else ()), *unsets]:
        try:
            parse_path(path)
        except WorldError as exc:
            add(f"{key}.{exc.key}", path, exc.message, "malformed")
    strength = item.get("strength")
    if strength is not None and not (
            isinstance(strength, list) and strength and
            all(isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0
                and math.isfinite(x) for x in strength)):
        add(f"{key}.strength", strength, "expected a list of positive numbers k (the "
            "appended effects' log-HRs times k)")
    if strength is not None and isinstance(appends, Mapping) and not appends:
        add(f"{key}.strength", strength, "a family scales the effects it appends: give "
            "`append`", "incompatible")
    if len(problems) > n0:
        return []
    base = dict(name=name, why=why.strip(), set=dict(sets),
                append={k: tuple(v) for k, v in appends.items()}, key=key,
                unset=tuple(unsets))
    if strength is None:
        return [World(**base)]
    return [World(**{**base, "name": f"{name}_k{k:g}"}, family=name, strength=float(k))
            for k in sorted(set(strength))]


def world_problems(cohort_raw: Mapping, worlds, folder: Path) -> list[Problem]:
    """Each declared world applied to ``cohort.toml`` and loaded by simulate's loader: an
    override that does not apply, or a world the loader refuses, is a problem of
    ``worlds.toml`` naming the world's key."""
    from tacebench.simulate.io import spec_from_dict
    problems = Problems(str(Path(folder) / WORLDS_FILE))
    for w in worlds:
        try:
            spec_from_dict(apply_world(cohort_raw, w), source=f"world {w.name}")
        except WorldError as exc:
            problems.add(f"{w.key}.{exc.key}", MISSING, exc.message, "world-path")
        except ValueError as exc:
            problems.add(w.key, w.name, f"the world's cohort.toml is invalid: {exc}",
                         "world-spec")
    return list(problems)


def world_problem(folder: Path, world: World, problem: Problem) -> Problem:
    """A problem of the cohort a world builds, blamed on the world that made it: its
    ``worlds.toml`` entry, or for a built-in world ``cohort.toml`` (whose cohort it alters)."""
    file = str(Path(folder) / (WORLDS_FILE if world.key else "cohort.toml"))
    where = f"{problem.key}: " if problem.key else ""
    return Problem(file, world.key or problem.key, world.name, f"in world {world.label!r} "
                   f"the generator cannot be built: {where}{problem.message}", problem.kind)


def builtin_worlds(cohort_raw: Mapping) -> tuple[World, ...]:
    """The built-in families for each two-arm cohort: the unmeasured confounder, then the
    unreported effects aligned with and opposed to the arms' imbalance (where some
    covariate has no reported effect)."""
    cohorts = cohort_raw.get("cohorts") or {}
    sets: dict[str, dict[int, Any]] = {}
    for cname, c in cohorts.items():
        if not isinstance(c, Mapping) or len(c.get("arms") or []) != 2:
            continue
        own = c.get("unmeasured") if isinstance(c.get("unmeasured"), Mapping) else {}
        outcomes = [str(o) for o in raw_table(c.get("outcomes"))]
        for k in CONFOUNDER_STRENGTHS:
            u = {"name": own.get("name", "u_sensitivity"), "prevalence": 0.5,
                 "treatment_or": k, **{f"{o}_hr": k for o in outcomes if o in ("os", "pfs")}}
            sets.setdefault(k, {})[f"cohorts.{cname}.unmeasured"] = u
    why = ("a binary unmeasured confounder (prevalence 0.5) with treatment odds ratio and "
           "outcome hazard ratios k: no observational analysis can rule it out")
    confounder = tuple(World(f"unmeasured_confounder_k{k:g}", why, s, {},
                             "unmeasured_confounder", float(k), True)
                       for k, s in sorted(sets.items()))
    if not confounder:    # no two-arm cohort: nothing is confounded
        return ()
    return confounder + tuple(
        World(f"{fam}_k{k:g}", _UNREPORTED_WHY[fam], {}, app, fam, float(k), True)
        for fam, k, app in unreported_sets(cohort_raw))


_UNREPORTED_WHY = {
    "unreported_effects_aligned": "covariates without a published effect are not known to have "
    "none: each gets a hazard ratio k per SD, harmful where the treated arm has more of it",
    "unreported_effects_opposed": "covariates without a published effect are not known to have "
    "none: each gets a hazard ratio k per SD, harmful where the control arm has more of it",
}


def apply_world(cohort_raw: Mapping, world: World) -> dict:
    """A deep copy of the parsed ``cohort.toml`` with the world's overrides applied
    (:func:`simulate.overrides.apply_overrides`).

    Raises :class:`WorldError` naming the path that does not apply.
    """
    # a built-in world's overrides hold their final values; a declared family's are scaled
    return apply_overrides(cohort_raw, world.set, world.append,
                           None if world.builtin else world.strength, world.unset)
