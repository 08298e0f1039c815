"""Data-generating mechanisms: from a scenario to a replicate generator and true values.

A study's ``[[dgm]]`` block names a ``generator``: ``"cohort"`` (a simulate cohort spec
modified by the scenario's factors, :mod:`benchmarks.cohort_dgm`) or
``"package.module:function"`` for a mechanism of one's own. The generator is called once per
scenario and worker as ``prepare(scenario) -> PreparedDGM``; its ``generate(rng)`` is the only
thing run per replicate.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .study import Estimand, Scenario

#: Built-in generators: name -> "module:function".
GENERATORS: dict[str, str] = {"cohort": "benchmarks.cohort_dgm:prepare"}


@dataclass(frozen=True)
class PreparedDGM:
    """A scenario made ready to run.

    ``generate(rng)`` returns one replicate's cohort columns (``dict[str, ndarray]`` with at
    least ``treated``, ``os_time``, ``os_event``); ``truth(estimand, seed)`` returns the true
    value of an estimand on the scale the methods estimate it (log HR for hazard ratios),
    using ``seed`` for any large-sample Monte Carlo integration it needs.
    """

    generate: Callable[[np.random.Generator], dict[str, np.ndarray]]
    truth: Callable[[Estimand, np.random.SeedSequence], float]
    description: str = ""


def resolve_generator(name: str) -> Callable[[Scenario], PreparedDGM]:
    target = GENERATORS.get(name, name)
    if ":" not in target:
        raise ValueError(f"generator must be one of {sorted(GENERATORS)} or 'module:function'; "
                         f"got {name!r}")
    mod, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"generator {name!r} cannot be imported: {exc}") from None


_CACHE: dict[tuple[str, int], PreparedDGM] = {}


def prepared(fingerprint: str, scenario: Scenario) -> PreparedDGM:
    """``prepare`` once per (study, scenario) in each worker process, then reuse it."""
    key = (fingerprint, scenario.index)
    dgm = _CACHE.get(key)
    if dgm is None:
        if len(_CACHE) > 256:  # a long-lived worker serving many studies
            _CACHE.clear()
        dgm = resolve_generator(scenario.generator)(scenario)
        _CACHE[key] = dgm
    return dgm
