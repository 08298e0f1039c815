"""The worlds of the lessons (``worlds.toml``) and their true hazard ratios.

A world is a published cohort (``tacebench/studies/<id>/cohort.toml``, read as data) edited
by the scenario factors of :mod:`benchmarks.cohort_factors` and, where a world needs more,
by extra OS effects appended to its TOML table (simulate's spec format).
"""
from __future__ import annotations

import json
import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tacebench.simulate.cache import CacheFileWarning, env_cache_dir, read_cache_file, write_cache_file

_DEFAULT: Any = object()  # "the module-level default", looked up at call time


@dataclass(frozen=True)
class World:
    """A scenario of a lesson: a published cohort plus named edits (``worlds.toml``)."""

    name: str
    label: str
    description: str
    factors: Mapping[str, Any] = field(default_factory=dict)
    add_effects: tuple[Mapping[str, Any], ...] = ()

    def edit(self, cohort_table: dict) -> None:
        """Append the extra OS effects to the cohort's TOML table (simulate's format)."""
        if self.add_effects:
            os_ = cohort_table.setdefault("outcomes", {}).setdefault("os", {})
            os_.setdefault("effects", []).extend(dict(e) for e in self.add_effects)


WORLDS_FILE = Path(__file__).with_name("worlds.toml")


def load_worlds(lesson: str) -> tuple[str, str, dict[str, World]]:
    """``(study, cohort, {name: World})`` of a lesson, ``base = <world>`` inherited."""
    with open(WORLDS_FILE, "rb") as fh:
        table = tomllib.load(fh)
    if lesson not in table:
        raise ValueError(f"lesson must be one of {sorted(table)}; got {lesson!r}")
    entry = table[lesson]
    raw = {w["name"]: w for w in entry["worlds"]}
    worlds: dict[str, World] = {}
    for name, w in raw.items():
        factors, effects = {}, []
        chain = [w]
        while "base" in chain[-1]:
            chain.append(raw[chain[-1]["base"]])
        for link in reversed(chain):
            factors.update(link.get("factors", {}))
            effects.extend(link.get("add_effects", []))
        worlds[name] = World(name, w["label"], " ".join(w["description"].split()), factors,
                             tuple(effects))
    return entry["study"], entry["cohort"], worlds


def world_plan(study: str, cohort: str, world: World):
    """``(spec, plan)`` of a world (calibration cached by simulate's default PlanCache)."""
    from tacebench.simulate import compile_plan

    from ..cohort_dgm import scenario_spec

    spec = scenario_spec(study, cohort, dict(world.factors), world.edit)
    return spec, compile_plan(spec, cohort)


#: Folder of the truth files of :func:`true_hrs`: ``$TACEBENCH_CACHE_DIR/lessons`` if that
#: variable is set when this module is imported, else ``None`` (no disk cache: opt-in, never
#: a home-directory default). ``true_hrs(plan, cache_dir=...)`` chooses per call.
TRUTH_DIR: Path | None = env_cache_dir("lessons")


def true_hrs(plan, *, cache_dir: Path | str | None = _DEFAULT) -> dict[str, float]:
    """Conditional and marginal (ATE, ATT) OS hazard ratios, counterfactual medians and
    absolute differences, from :func:`simulate.truth.true_estimands`.

    The marginal HRs are the population Cox estimands under the cohorts' own censoring
    (``censoring=True``): a lesson's cohorts are drawn from ``plan`` with that censoring,
    and marginal hazards are not proportional, so a Cox-based estimator of them converges to
    the estimand weighted by it, not to the HR with every patient followed until death. The
    latter is kept as ``marginal_hr_ate_uncensored`` and ``marginal_hr_att_uncensored``.
    The conditional HR (the generator's treatment effect) and the curve-based truths are the
    same either way.

    With a ``cache_dir`` (default :data:`TRUTH_DIR`), kept there as
    ``truths-<spec_hash>.json`` (the hash covers simulate's source), since the truth is a
    deterministic function of the calibrated plan; an unreadable file gives a
    :class:`~simulate.cache.CacheFileWarning` naming it and is recomputed.
    """
    from tacebench.simulate.truth import true_estimands_followed

    folder = TRUTH_DIR if cache_dir is _DEFAULT else cache_dir
    # a new name: files of the uncensored truths (same hash) must not be read as these
    path = None if folder is None else Path(folder) / f"truths-{plan.spec_hash}.json"
    if path is not None:
        cached = read_cache_file(path, json.load, "lesson truth cache")
        if isinstance(cached, dict):
            return cached
        if cached is not None:
            warnings.warn(CacheFileWarning(f"lesson truth cache file {path} does not hold a "
                                           f"table of truths; recomputing", path), stacklevel=2)
    # the defaults of true_estimands (RMST to the plan's horizon, survival at 12 months),
    # with and without censoring from one set of curves
    followed = true_estimands_followed(plan, [(None, 12.0)], censorings=(True, False))
    t, free = followed[True][0], followed[False][0]
    out = {"conditional_hr": t.conditional_hr, "marginal_hr_ate": t.marginal_hr_ate,
           "marginal_hr_att": t.marginal_hr_att,
           "marginal_hr_ate_uncensored": free.marginal_hr_ate,
           "marginal_hr_att_uncensored": free.marginal_hr_att,
           "median_treated_ate": t.median_treated_ate,
           "median_control_ate": t.median_control_ate,
           "survival_difference_ate": t.survival_difference_ate,
           "survival_difference_att": t.survival_difference_att,
           "rmst_difference_ate": t.rmst_difference_ate,
           "rmst_difference_att": t.rmst_difference_att, "rmst_tau": t.rmst_tau,
           "landmark": t.landmark}
    if path is not None:
        write_cache_file(path, lambda fh: fh.write(json.dumps(out).encode()), "lesson truth cache")
    return out
