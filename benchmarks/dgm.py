"""Data-generating mechanisms: from a scenario to a replicate generator and true values.

A study's ``[[dgm]]`` block names a ``generator``: ``"cohort"`` (a simulate cohort spec
modified by the scenario's factors, :mod:`benchmarks.cohort_dgm`) or
``"package.module:function"`` for a mechanism of one's own. The generator is called once per
scenario and worker as ``prepare(scenario) -> PreparedDGM``; its ``generate(rng)`` is the only
thing run per replicate.

:func:`prepared` is the runner's door: it keeps prepared scenarios in an explicit bounded
cache (:data:`DGM_CACHE` or the ``cache`` passed) and gives every replicate's columns a
fresh :class:`~benchmarks.methods.SharedFits` under ``"_fits"``, through which the methods of
that replicate share deterministic fits.
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from collections.abc import Callable, Mapping

import numpy as np

from tacebench.engine import single_threaded_blas
from tacebench.simulate.cache import LRUCache

from .methods import SHARED_FITS, SharedFits
from .study import (GENERATORS, Estimand, Method, Scenario, Study, generator_problem,
                    load_study)
from .study_problems import Problems

_DEFAULT = object()  # "the module's DGM_CACHE", looked up when called (so it can be rebound)



@dataclass(frozen=True)
class PreparedDGM:
    """A scenario made ready to run.

    ``generate(rng)`` returns one replicate's cohort columns (``dict[str, ndarray]`` with at
    least ``treated``, ``os_time``, ``os_event``); ``truth(estimand, seed)`` returns the true
    value of an estimand on the scale the methods estimate it (log HR for hazard ratios),
    using ``seed`` for any large-sample Monte Carlo integration it needs. A generator may
    also offer ``generate_batch(rngs)``: ``[generate(rng) for rng in rngs]``, drawn at once,
    and ``truths(estimands, seeds)``: ``[truth(e, s) for e, s in zip(estimands, seeds)]``,
    computing once what several truths share. ``uncensored_truths(estimands, seeds)``, if
    offered, gives each estimand's true value with every subject followed until the
    event (no censoring), where ``truth`` is the value under the scenario's censoring:
    the two differ for Cox estimands only (truth.csv's ``truth_uncensored``).
    """

    generate: Callable[[np.random.Generator], dict[str, np.ndarray]]
    truth: Callable[[Estimand, np.random.SeedSequence], float]
    description: str = ""
    generate_batch: Callable[[list], list[dict[str, np.ndarray]]] | None = None
    truths: Callable[[list, list], list[float]] | None = None
    uncensored_truths: Callable[[list, list], list[float]] | None = None


def resolve_generator(name: str) -> Callable[[Scenario], PreparedDGM]:
    if (problem := generator_problem(name)) is not None:
        raise ValueError(problem)
    mod, _, attr = GENERATORS.get(name, name).partition(":")
    try:
        return getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"generator {name!r} cannot be imported: {exc}") from None


def check_scenarios(study) -> None:
    """Check, before a run writes anything, what each scenario's generator needs
    (:func:`scenario_problems`).

    Raises
    ------
    ValueError
        Every problem at once, one line per data-generating mechanism and problem.
    """
    problems = Problems(repr(study.name))
    for line in scenario_problems(study.scenarios, {e.name: e for e in study.estimands},
                                  {m.name: m.estimand for m in study.methods},
                                  methods={m.name: m for m in study.methods}):
        problems.line(line)
    problems.check()


def scenario_problems(scenarios, estimands: Mapping[str, Estimand],
                      estimand_of: Mapping[str, str], *,
                      methods: Mapping[str, Method] | None = None) -> list[str]:
    """What each scenario's generator needs, one ``[[dgm]] 'name': problem`` line each.

    Every scenario's generator is imported, and a generator whose prepare function has a
    ``check(scenario, estimands) -> list[str]`` attribute checks the scenario's inputs
    (the cohort generator: its base study and world, its cohort, each estimand's options).
    Without this a wrong base or population was reported by the first worker that
    prepared the scenario, after the run directory was written.

    Parameters
    ----------
    scenarios : sequence of Scenario
    estimands : mapping
        Estimands by name (those of a file with problems: the ones that parsed).
    estimand_of : mapping
        Method name -> the name of its estimand (methods not in it are skipped).
    methods : mapping, optional
        Methods by name (those that parsed): a generator whose prepare function has a
        ``check_methods(scenario, methods) -> list[str]`` attribute checks what the
        scenario's methods need of its cohorts (the cohort generator: the columns they
        name, two arms, time-varying therapy, complete covariates).
    """
    lines = []
    for sc in scenarios:
        where = f"[[dgm]] {sc.dgm!r}"
        try:
            prepare = resolve_generator(sc.generator)
        except ValueError as exc:
            lines.append(f"{where}: {exc}")
            continue
        check_methods = getattr(prepare, "check_methods", None)
        if check_methods is not None and methods:
            lines += [f"{where}: {msg}" for msg in check_methods(
                sc, [methods[m] for m in sc.methods if m in methods])]
        check = getattr(prepare, "check", None)
        if check is None:
            continue
        used = dict.fromkeys(estimand_of[m] for m in sc.methods
                             if estimand_of.get(m) in estimands)
        lines += [f"{where}: {msg}" for msg in check(sc, [estimands[e] for e in used])]
    return lines


def load_checked_study(study, **overrides) -> Study:
    """:func:`benchmarks.study.load_study`, with every scenario's generator checked too
    (:func:`scenario_problems`): the problems of the file and of its scenarios are
    reported together, where a bad method hid a misspelt factor until the next run."""
    return load_study(study, scenario_check=scenario_problems, **overrides)


#: Process-wide default of :func:`prepared`: a bounded LRU of prepared scenarios, keyed by
#: (study fingerprint, scenario index); at most 256, for a long-lived worker serving many
#: studies. Pass ``cache=`` to use another, ``cache=None`` to prepare afresh.
DGM_CACHE = LRUCache(max_size=256)


@single_threaded_blas()  # the plan a study run's workers compile (engine.blas)
def prepared(fingerprint: str, scenario: Scenario, *, cache: "LRUCache | None | object" = _DEFAULT
             ) -> PreparedDGM:
    """``prepare`` once per (study, scenario) in each worker process, then reuse it (from
    ``cache``, default :data:`DGM_CACHE`); prepared with one BLAS thread, whoever calls it."""
    store = DGM_CACHE if cache is _DEFAULT else cache
    if store is None:
        return _prepare(scenario)
    if not isinstance(store, LRUCache):
        raise TypeError(f"cache must be an LRUCache or None; got {store!r}")
    return store.get_or_compute((fingerprint, scenario.index), lambda: _prepare(scenario))


def _prepare(scenario: Scenario) -> PreparedDGM:
    dgm = resolve_generator(scenario.generator)(scenario)
    generate = dgm.generate

    def with_shared_fits(rng: np.random.Generator) -> dict:
        return {**generate(rng), SHARED_FITS: SharedFits()}

    def batch_with_shared_fits(rngs: list) -> list[dict]:
        return [{**cols, SHARED_FITS: SharedFits()} for cols in dgm.generate_batch(rngs)]

    return dataclasses.replace(dgm, generate=with_shared_fits,
                               generate_batch=None if dgm.generate_batch is None
                               else batch_with_shared_fits)
