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
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .measures import MEASURES

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


def _err(where: str, msg: str) -> ValueError:
    return ValueError(f"study {where}: {msg}")


def _need(table: dict, key: str, where: str, kind: type | tuple[type, ...]):
    if key not in table:
        raise _err(where, f"missing required key {key!r}")
    val = table[key]
    if not isinstance(val, kind):
        raise _err(where, f"{key} must be {kind}; got {val!r}")
    return val


def _scenario_name(dgm: str, factors: dict[str, Any], crossed: list[str]) -> str:
    if not crossed:
        return dgm
    def show(v):
        if isinstance(v, dict):
            return ";".join(f"{a}={show(b)}" for a, b in v.items())
        return str(v)
    return dgm + "[" + ",".join(f"{k}={show(factors[k])}" for k in crossed) + "]"


def _expand_dgms(blocks: list[dict], method_names: list[str]) -> tuple[Scenario, ...]:
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for b, block in enumerate(blocks):
        where = f"[[dgm]] #{b + 1}"
        name = _need(block, "name", where, str)
        where = f"[[dgm]] {name!r}"
        if name in seen:
            raise _err(where, f"duplicate dgm name {name!r}")
        seen.add(name)
        generator = block.get("generator", "cohort")
        fixed = dict(block.get("fixed", {}))
        factors = dict(block.get("factors", {}))
        for k, v in factors.items():
            if not isinstance(v, list) or not v:
                raise _err(where, f"factors.{k} must be a non-empty list; got {v!r}")
            if k in fixed:
                raise _err(where, f"factor {k!r} is both fixed and varied")
        methods = block.get("methods", method_names)
        unknown = [m for m in methods if m not in method_names]
        if unknown:
            raise _err(where, f"methods {unknown!r} are not declared under [methods]")
        keys = list(factors)
        for combo in itertools.product(*(factors[k] for k in keys)):
            cell = {**fixed, **dict(zip(keys, combo))}
            scenarios.append(Scenario(
                index=len(scenarios), name=_scenario_name(name, cell, keys), dgm=name,
                generator=generator, base=block.get("base"), cohort=block.get("cohort", "main"),
                factors=_freeze(cell), methods=tuple(methods)))
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"study [[dgm]]: scenario names are not unique: {names!r}")
    return tuple(scenarios)


def study_from_dict(raw: dict[str, Any], *, source: str = "<dict>") -> Study:
    """Validate a parsed study table and expand its DGM grids into scenarios."""
    from .methods import validate_method  # late: methods import estimators

    head = _need(raw, "study", source, dict)
    name = _need(head, "name", "[study]", str)
    seed = head.get("seed", 20240601)
    reps = head.get("reps", 1000)
    if not isinstance(seed, int) or seed < 0:
        raise _err("[study]", f"seed must be a non-negative integer; got {seed!r}")
    if not isinstance(reps, int) or reps < 1:
        raise _err("[study]", f"reps must be a positive integer; got {reps!r}")
    chunk = head.get("chunk_size")
    if chunk is not None and (not isinstance(chunk, int) or chunk < 1):
        raise _err("[study]", f"chunk_size must be a positive integer; got {chunk!r}")

    estimands = []
    for ename, table in _need(raw, "estimands", source, dict).items():
        kind = _need(table, "kind", f"[estimands.{ename}]", str)
        if kind not in ESTIMAND_KINDS:
            raise _err(f"[estimands.{ename}]", f"kind must be one of {ESTIMAND_KINDS}; got {kind!r}")
        opts = {k: v for k, v in table.items() if k != "kind"}
        estimands.append(Estimand(ename, kind, _freeze(opts)))
    est_names = {e.name for e in estimands}

    methods = []
    for mname, table in _need(raw, "methods", source, dict).items():
        where = f"[methods.{mname}]"
        family = _need(table, "family", where, str)
        estimand = _need(table, "estimand", where, str)
        if estimand not in est_names:
            raise _err(where, f"estimand {estimand!r} is not declared under [estimands]")
        opts = {k: v for k, v in table.items() if k not in ("family", "estimand")}
        validate_method(family, opts, where=where)
        methods.append(Method(mname, family, estimand, _freeze(opts)))

    dgms = raw.get("dgm")
    if isinstance(dgms, dict):
        dgms = [dgms]
    if not isinstance(dgms, list) or not dgms:
        raise _err(source, "needs at least one [[dgm]] block")
    scenarios = _expand_dgms(dgms, [m.name for m in methods])

    perf = raw.get("performance", {})
    level = perf.get("level", 0.95)
    alpha = perf.get("alpha", 0.05)
    if not 0 < level < 1:
        raise _err("[performance]", f"level must lie in (0, 1); got {level!r}")
    if not 0 < alpha < 1:
        raise _err("[performance]", f"alpha must lie in (0, 1); got {alpha!r}")
    measures = tuple(perf.get("measures", MEASURES))
    bad = [m for m in measures if m not in MEASURES]
    if bad:
        raise _err("[performance]", f"unknown measures {bad!r}; choose from {MEASURES}")
    return Study(name=name, title=head.get("title", name), aims=head.get("aims", ""),
                 seed=seed, reps=reps, scenarios=scenarios, estimands=tuple(estimands),
                 methods=tuple(methods), level=level, alpha=alpha, measures=measures,
                 chunk_size=chunk, raw=raw)


def builtin_studies() -> dict[str, Path]:
    """Studies shipped with tacebench, by name: ``benchmarks/studies/*.toml``."""
    root = resources.files("tacebench.benchmarks") / "studies"
    return {Path(p.name).stem: Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml")}


def load_study(study: str | Path, **overrides) -> Study:
    """Load a study by built-in name (``"default"``) or TOML path.

    ``overrides`` replace ``[study]`` settings (``seed``, ``reps``, ``chunk_size``).
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
    return study_from_raw(raw, source=str(path), **overrides)


def study_from_raw(raw: dict[str, Any], *, source: str = "<dict>", **overrides) -> Study:
    raw = copy.deepcopy(raw)
    head = raw.setdefault("study", {})
    for k, v in overrides.items():
        if v is not None:
            head[k] = v
    return study_from_dict(raw, source=source)
