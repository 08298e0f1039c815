"""ADEMP simulation studies declared as data (Morris, White & Crowther 2019).

A study TOML names its **A**ims (text), its **D**ata-generating mechanisms (one or more
``[[dgm]]`` blocks, each a full factorial grid of ``factors`` over a base cohort), its
**E**stimands (``[estimands.<name>]``), its **M**ethods (``[methods.<name>]``, a method family
plus options) and its **P**erformance measures (``[performance]``). ``docs`` in
``benchmarks/studies/README.md`` annotate the format; :func:`load_study` validates it once,
naming the offending key, so that the runner never meets a bad configuration mid-run.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tacebench.engine import MAX_REPS

from .measures import MEASURES
from .study_match import (DEFAULT_HORIZON, ESTIMAND_SCALES, endpoint_problem,  # noqa: F401
                          population_problem, scale_problem)
from .study_problems import Problems, required_text

#: Estimand kinds a study may declare; the DGM computes their true values.
ESTIMAND_KINDS = ("conditional_log_hr", "marginal_log_hr", "rmst_difference",
                  "risk_difference", "log_hr_per_month", "custom")


def _freeze(mapping: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    def conv(v):
        if isinstance(v, list):
            return tuple(conv(x) for x in v)
        if isinstance(v, dict):
            return _freeze(v)
        return v
    return tuple(sorted((k, conv(v)) for k, v in mapping.items()))


def _thaw(items) -> dict[str, Any]:
    def conv(v):
        if isinstance(v, tuple) and v and all(isinstance(x, tuple) and len(x) == 2
                                              and isinstance(x[0], str) for x in v):
            return _thaw(v)
        if isinstance(v, tuple):
            return [conv(x) for x in v]
        return v
    return {k: conv(v) for k, v in items}


@dataclass(frozen=True)
class Estimand:
    """A named target quantity: ``kind`` (see :data:`ESTIMAND_KINDS`) plus options."""

    name: str
    kind: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def config(self) -> dict[str, Any]:
        return _thaw(self.options)


@dataclass(frozen=True)
class Method:
    """A named estimator configuration: a family from the method registry plus options."""

    name: str
    family: str
    estimand: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def config(self) -> dict[str, Any]:
        return _thaw(self.options)


@dataclass(frozen=True)
class Scenario:
    """One cell of a DGM grid: the generator, its base cohort and the factor values."""

    index: int
    name: str
    dgm: str
    generator: str
    base: str | None
    cohort: str
    factors: tuple[tuple[str, Any], ...]
    methods: tuple[str, ...]

    @property
    def config(self) -> dict[str, Any]:
        return _thaw(self.factors)


@dataclass(frozen=True)
class Study:
    """A validated ADEMP study; ``fingerprint`` identifies its content for ``--resume``."""

    name: str
    title: str
    aims: str
    seed: int
    reps: int
    scenarios: tuple[Scenario, ...]
    estimands: tuple[Estimand, ...]
    methods: tuple[Method, ...]
    level: float = 0.95
    alpha: float = 0.05
    measures: tuple[str, ...] = MEASURES
    chunk_size: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the study's canonical JSON, less run-size settings (seed, reps)."""
        body = {k: v for k, v in self.raw.items() if k != "study"}
        body["study"] = {k: v for k, v in self.raw.get("study", {}).items()
                         if k not in ("reps", "seed", "chunk_size")}
        text = json.dumps(body, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def method(self, name: str) -> Method:
        for m in self.methods:
            if m.name == name:
                return m
        raise KeyError(name)

    def estimand(self, name: str) -> Estimand:
        for e in self.estimands:
            if e.name == name:
                return e
        raise KeyError(name)

    def scenario_frame(self):
        """One row per scenario: index, name, dgm, base and every factor as a column."""
        import pandas as pd

        rows = [{"scenario_index": s.index, "scenario": s.name, "dgm": s.dgm, "base": s.base,
                 **s.config} for s in self.scenarios]
        return pd.DataFrame(rows)


#: Built-in generators: name -> "module:function" (:func:`benchmarks.dgm.resolve_generator`).
GENERATORS: dict[str, str] = {"cohort": "tacebench.benchmarks.cohort_dgm:prepare"}

#: The tables of a study file, and the keys of those whose keys are fixed (an estimand's
#: options and a method's are its kind's and family's: checked by them).
TABLES = ("study", "estimands", "methods", "dgm", "performance")
STUDY_KEYS = ("name", "title", "aims", "seed", "reps", "chunk_size")
DGM_KEYS = ("name", "generator", "base", "cohort", "fixed", "factors", "methods")
PERFORMANCE_KEYS = ("level", "alpha", "measures")


def _scenario_name(dgm: str, factors: dict[str, Any], crossed: list[str]) -> str:
    if not crossed:
        return dgm
    def show(v):
        if isinstance(v, dict):
            return ";".join(f"{a}={show(b)}" for a, b in v.items())
        return str(v)
    return dgm + "[" + ",".join(f"{k}={show(factors[k])}" for k in crossed) + "]"


def generator_problem(generator) -> str | None:
    """What is wrong with a generator's name (built-in or ``module:function``), or None.
    The form only: the function is imported by :func:`benchmarks.dgm.resolve_generator`."""
    if not isinstance(generator, str) or (generator not in GENERATORS
                                          and ":" not in generator):
        return (f"generator must be one of {sorted(GENERATORS)} or 'module:function'; got "
                f"{generator!r}")
    return None


def _expand_dgms(blocks: list, method_names: list[str], problems: Problems
                 ) -> tuple[Scenario, ...]:
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for b, block in enumerate(blocks):
        where = f"[[dgm]] #{b + 1}"
        if not isinstance(block, dict):
            problems.add(where, f"must be a table; got {block!r}")
            continue
        name = required_text(block, "name", where, problems)
        if name is None:
            continue
        where = f"[[dgm]] {name!r}"
        ok = True
        if name in seen:
            problems.add(where, f"duplicate dgm name {name!r}")
            ok = False
        seen.add(name)
        problems.unknown(block, DGM_KEYS, where)
        generator = block.get("generator", "cohort")
        if (msg := generator_problem(generator)) is not None:
            problems.add(where, msg)
        fixed, factors = block.get("fixed", {}), block.get("factors", {})
        for key, table in (("fixed", fixed), ("factors", factors)):
            if not isinstance(table, dict):
                problems.add(where, f"{key} must be a table; got {table!r}")
                ok = False
        if not ok or not isinstance(fixed, dict) or not isinstance(factors, dict):
            continue
        for k, v in factors.items():
            if not isinstance(v, list) or not v:
                problems.add(where, f"factors.{k} must be a non-empty list; got {v!r}")
                ok = False
            if k in fixed:
                problems.add(where, f"factor {k!r} is both fixed and varied")
        methods = block.get("methods", method_names)
        unknown = [m for m in methods if m not in method_names]
        if unknown:
            problems.add(where, f"methods {unknown!r} are not declared under [methods]")
        if not ok:
            continue
        keys = list(factors)
        for combo in itertools.product(*(factors[k] for k in keys)):
            cell = {**fixed, **dict(zip(keys, combo))}
            scenarios.append(Scenario(
                index=len(scenarios), name=_scenario_name(name, cell, keys), dgm=name,
                generator=generator, base=block.get("base"), cohort=block.get("cohort", "main"),
                factors=_freeze(cell), methods=tuple(methods)))
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        problems.add("[[dgm]]", f"scenario names are not unique: {names!r}")
    return tuple(scenarios)


def study_from_dict(raw: dict[str, Any], *, source: str = "<dict>",
                    scenario_check: Callable | None = None) -> Study:
    """Validate a parsed study table and expand its DGM grids into scenarios.

    ``scenario_check(scenarios, estimands by name, method -> estimand)`` returns further
    problem lines of the scenarios the file expands to
    (:func:`benchmarks.dgm.scenario_problems`), reported with the file's own.

    Raises
    ------
    ValueError
        Every problem of the file at once, one line each, naming the table and key.
    """
    from .methods import (estimate_endpoint, estimate_population,  # late: methods import
                          estimate_scale, method_problems,             # estimators
                          validate_method)

    problems = Problems(source)
    problems.unknown(raw, TABLES, "top level")
    head = problems.table(raw, "study", "top level")
    problems.unknown(head, STUDY_KEYS, "[study]")
    name = required_text(head, "name", "[study]", problems)
    seed = head.get("seed", 20240601)
    reps = head.get("reps", 1000)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.add("[study]", f"seed must be a non-negative integer; got {seed!r}")
    if isinstance(reps, bool) or not isinstance(reps, int) or not 2 <= reps <= MAX_REPS:
        # (every performance measure needs two replicates)
        problems.add("[study]", f"reps must be an integer from 2 to {MAX_REPS}; got {reps!r}")
    chunk = head.get("chunk_size")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1):
        problems.add("[study]", f"chunk_size must be a positive integer; got {chunk!r}")

    estimands = []
    for ename, table, where in problems.entries(raw, "estimands"):
        kind = required_text(table, "kind", where, problems)
        if kind is not None and kind not in ESTIMAND_KINDS:
            problems.add(where, f"kind must be one of {ESTIMAND_KINDS}; got {kind!r}")
        elif kind is not None:
            opts = {k: v for k, v in table.items() if k != "kind"}
            estimands.append(Estimand(ename, kind, _freeze(opts)))
    # (a method naming an estimand whose table has a problem is not reported again)
    declared = raw.get("estimands") if isinstance(raw.get("estimands"), dict) else {}
    est_names = set(declared)

    methods = []
    for mname, table, where in problems.entries(raw, "methods"):
        family = required_text(table, "family", where, problems)
        estimand = required_text(table, "estimand", where, problems)
        if estimand is not None and estimand not in est_names:
            problems.add(where, f"estimand {estimand!r} is not declared under [estimands]")
        if family is None:
            continue
        opts = {k: v for k, v in table.items() if k not in ("family", "estimand")}
        try:
            config = validate_method(family, opts, where=where)
        except ValueError as exc:
            msg = str(exc)
            problems.line(msg if msg.startswith(where) else f"{where}: {msg}")
            continue
        for msg in method_problems(family, opts, config):
            problems.add(where, msg)
        if estimand in est_names and isinstance(declared[estimand], dict) and (
                msg := scale_problem(estimate_scale(family, config), estimand,
                                     declared[estimand])):
            problems.add(where, msg)
        if estimand in est_names and isinstance(declared[estimand], dict):
            table = declared[estimand]
            for msg in (endpoint_problem(estimate_endpoint(family, config), estimand, table),
                        population_problem(estimate_population(family, config), estimand,
                                           table)):
                if msg:
                    problems.add(where, msg)
        if estimand is not None:
            methods.append(Method(mname, family, estimand, _freeze(opts)))

    dgms = raw.get("dgm")
    if isinstance(dgms, dict):
        dgms = [dgms]
    scenarios: tuple[Scenario, ...] = ()
    if not isinstance(dgms, list) or not dgms:
        problems.add("top level", "needs at least one [[dgm]] block")
    else:
        listed = raw.get("methods") if isinstance(raw.get("methods"), dict) else {}
        scenarios = _expand_dgms(dgms, list(listed), problems)

    perf = raw.get("performance", {})
    if not isinstance(perf, dict):
        problems.add("top level", f"[performance] must be a table; got {perf!r}")
        perf = {}
    problems.unknown(perf, PERFORMANCE_KEYS, "[performance]")
    level = perf.get("level", 0.95)
    alpha = perf.get("alpha", 0.05)
    for key, val in (("level", level), ("alpha", alpha)):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 < val < 1:
            problems.add("[performance]", f"{key} must lie in (0, 1); got {val!r}")
    measures = perf.get("measures", MEASURES)
    bad = [m for m in measures if m not in MEASURES] if isinstance(measures, list) else None
    if bad or not isinstance(measures, (list, tuple)):
        problems.add("[performance]", f"unknown measures {bad if bad else measures!r}; "
                     f"choose from {MEASURES}")
    if scenario_check is not None and scenarios:
        # a method's estimand is checked even when the method itself has a problem
        estimand_of = {name: t.get("estimand") for name, t in (raw.get("methods") or {}).items()
                       if isinstance(t, dict) and isinstance(t.get("estimand"), str)}
        for line in scenario_check(scenarios, {e.name: e for e in estimands}, estimand_of,
                                   methods={m.name: m for m in methods}):
            problems.line(line)
    problems.check()
    return Study(name=name, title=head.get("title", name), aims=head.get("aims", ""),
                 seed=seed, reps=reps, scenarios=scenarios, estimands=tuple(estimands),
                 methods=tuple(methods), level=level, alpha=alpha, measures=tuple(measures),
                 chunk_size=chunk, raw=raw)


def builtin_studies() -> dict[str, Path]:
    """Studies shipped with tacebench, by name: ``benchmarks/studies/*.toml``."""
    root = resources.files("tacebench.benchmarks") / "studies"
    return {Path(p.name).stem: Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml")}


def load_study(study: str | Path, *, scenario_check: Callable | None = None,
               **overrides) -> Study:
    """Load a study by built-in name (``"default"``) or TOML path.

    ``overrides`` replace ``[study]`` settings (``seed``, ``reps``, ``chunk_size``);
    ``scenario_check``: as :func:`study_from_dict`.
    """
    path = Path(study)
    if not path.suffix == ".toml" or not path.exists():
        shipped = builtin_studies()
        if str(study) not in shipped:
            raise ValueError(
                f"study must be a TOML file or one of {sorted(shipped)}; got {str(study)!r}")
        path = shipped[str(study)]
    with open(path, "rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"study file {path}: {exc}") from None
    return study_from_raw(raw, source=str(path), scenario_check=scenario_check, **overrides)


def study_from_raw(raw: dict[str, Any], *, source: str = "<dict>",
                   scenario_check: Callable | None = None, **overrides) -> Study:
    raw = copy.deepcopy(raw)
    head = raw.setdefault("study", {})
    for k, v in overrides.items():
        if v is not None:
            head[k] = v
    return study_from_dict(raw, source=source, scenario_check=scenario_check)
