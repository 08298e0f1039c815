"""Load a cohort specification from ``cohort.toml`` (or a dict), collecting all errors.

The format is documented in ``docs/cohort-spec.md``. Errors name the file, the key path
and the value, e.g. ``cohort.toml: cohorts.main.variables[2] (tumor_size).arms.TACE.sd:
must be > 0, got -3.9``; all problems of a file are reported in one ``SpecError``.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Callable, Mapping

from .spec import Arm, Correlation, Derived, MissingRule, SpecError, Unmeasured, Variable
from .spec_base import missing_keys, text_problems
from .spec_endpoints import TimeToProgression, response_column_from
from .spec_outcomes import Censoring, Endpoint, Response, TimeVarying
from .studies import find_study
from .study import CohortSpec, StudySpec
from .table1 import read_cohort_toml

_COHORT_KEYS = {"assignment", "arms", "variables", "correlation", "derived", "unmeasured",
                "outcomes", "censoring", "response", "response_columns", "missing", "time_varying"}
#: endpoints of [outcomes] and the class of each table (TTP: the progression time of pfs)
_ENDPOINTS = {"os": Endpoint, "pfs": Endpoint, "ttp": TimeToProgression}


class _Collector:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def build(self, key: str, factory: Callable[..., Any], value: Any, cls: type | None = None) -> Any:
        if not isinstance(value, Mapping):
            self.problems.append((key, f"must be a table, got {value!r}"))
            return None
        if cls is not None:
            allowed = set(cls.__dataclass_fields__) - {"path"}
            unknown = sorted(set(value) - allowed)
            if unknown:
                self.problems.append((key, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}"))
                return None
            if text_problems(key, cls, value):
                self.problems.extend(text_problems(key, cls, value))
                return None
        try:
            return factory(**value)
        except SpecError as e:
            self.problems.extend(e.prefixed(key).problems)
        except TypeError as e:  # missing required keys
            if cls is None:
                self.problems.append((key, str(e).split(".__init__() ")[-1]))
            else:
                self.problems.extend(missing_keys(key, cls, value, e))
        return None


def _array(col: _Collector, key: str, value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        col.problems.append((key, f"must be an array of tables ([[{key}]]), got {value!r}"))
        return []
    return value


def _cohort(col: _Collector, name: str, raw: Any) -> CohortSpec | None:
    key = f"cohorts.{name}"
    if not isinstance(raw, Mapping):
        col.problems.append((key, f"must be a table, got {raw!r}"))
        return None
    if "table1" in raw:                 # expand_tables reads it with the study folder
        col.problems.append((f"{key}.table1", "a Table 1 file is read with its study folder: "
                             "load the study with load_spec or expand_tables first"))
    unknown = sorted(set(raw) - _COHORT_KEYS - {"table1"})
    if unknown:
        col.problems.append((key, f"unknown key(s) {unknown}; allowed: {sorted(_COHORT_KEYS)}"))
    before = len(col.problems)
    arms = [col.build(f"{key}.arms[{i}]", Arm, a, Arm) for i, a in enumerate(_array(col, f"{key}.arms", raw.get("arms")))]
    variables = []
    for i, v in enumerate(_array(col, f"{key}.variables", raw.get("variables"))):
        nm = v.get("name", "?") if isinstance(v, Mapping) else "?"
        variables.append(col.build(f"{key}.variables[{i}] ({nm})", Variable, v, Variable))
    corr = raw.get("correlation", {})
    correlation = col.build(f"{key}.correlation", Correlation, corr, Correlation)
    derived = [col.build(f"{key}.derived[{i}]", Derived, d, Derived)
               for i, d in enumerate(_array(col, f"{key}.derived", raw.get("derived")))]
    unmeasured = None
    if "unmeasured" in raw:
        unmeasured = col.build(f"{key}.unmeasured", Unmeasured, raw["unmeasured"], Unmeasured)
    outcomes = raw.get("outcomes", {})
    eps: dict[str, Any] = dict.fromkeys(_ENDPOINTS)
    if not isinstance(outcomes, Mapping):
        col.problems.append((f"{key}.outcomes", f"must be a table, got {outcomes!r}"))
        outcomes = {}
    for ep in outcomes:
        if ep not in eps:
            col.problems.append((f"{key}.outcomes", f"unknown endpoint {ep!r}; allowed: {list(_ENDPOINTS)}"))
            continue
        eps[ep] = col.build(f"{key}.outcomes.{ep}", _ENDPOINTS[ep], outcomes[ep], _ENDPOINTS[ep])
    censoring = response = time_varying = None
    if "censoring" in raw:
        censoring = col.build(f"{key}.censoring", Censoring, raw["censoring"], Censoring)
    if "response" in raw:
        response = col.build(f"{key}.response", Response, raw["response"], Response)
    if "time_varying" in raw:
        time_varying = col.build(f"{key}.time_varying", TimeVarying, raw["time_varying"], TimeVarying)
    response_columns = _response_columns(col, f"{key}.response_columns", raw.get("response_columns", {}))
    missing = []
    miss_raw = raw.get("missing", {})
    if not isinstance(miss_raw, Mapping):
        col.problems.append((f"{key}.missing", f"must be a table of variable = {{rate, ...}}, got {miss_raw!r}"))
        miss_raw = {}
    for var, rule in miss_raw.items():
        if isinstance(rule, Mapping):
            missing.append(col.build(f"{key}.missing.{var}", MissingRule, {"variable": var, **rule}, MissingRule))
        else:
            col.problems.append((f"{key}.missing.{var}", f"must be a table {{rate = ..}}, got {rule!r}"))
    if len(col.problems) > before:
        return None
    try:
        return CohortSpec(name=name, arms=tuple(arms), variables=tuple(variables),
                          assignment=raw.get("assignment", "arm_marginals"),
                          correlation=correlation, derived=tuple(derived), unmeasured=unmeasured,
                          os=eps["os"], pfs=eps["pfs"], censoring=censoring, response=response,
                          missing=tuple(missing), time_varying=time_varying, ttp=eps["ttp"],
                          response_columns=response_columns)
    except SpecError as e:
        col.problems.extend(e.prefixed(key).problems)
    return None


def _response_columns(col: _Collector, key: str, raw: Any) -> tuple:
    """``[cohorts.<name>.response_columns.<column>]`` tables, in file order."""
    if not isinstance(raw, Mapping):
        col.problems.append((key, f"must be a table of <column> = {{...}} tables, got {raw!r}"))
        return ()
    out = []
    for name, value in raw.items():
        try:
            out.append(response_column_from(f"{key}.{name}", name, value))
        except SpecError as e:
            col.problems.extend(e.problems)
    return tuple(out)


def spec_from_dict(data: Mapping[str, Any], *, source: str = "<dict>", path: str | None = None) -> StudySpec:
    """Build a :class:`StudySpec` from parsed TOML; all problems in one ``SpecError``."""
    col = _Collector()
    study = data.get("study", {})
    if not isinstance(study, Mapping):
        col.problems.append(("study", f"must be a table, got {study!r}"))
        study = {}
    if not study.get("id"):
        col.problems.append(("study.id", f"must be a non-empty string, got {study.get('id')!r}"))
    unknown = sorted(set(data) - {"study", "cohorts"})
    if unknown:
        col.problems.append(("", f"unknown top-level key(s) {unknown}; allowed: ['cohorts', 'study']"))
    cohorts_raw = data.get("cohorts")
    cohorts = {}
    if not isinstance(cohorts_raw, Mapping) or not cohorts_raw:
        col.problems.append(("cohorts", "at least one [cohorts.<name>] table is needed"))
    else:
        for name, raw in cohorts_raw.items():
            c = _cohort(col, name, raw)
            if c is not None:
                cohorts[name] = c
    if col.problems:
        raise SpecError([(f"{source}: {k}" if k else source, m) for k, m in col.problems])
    return StudySpec(id=str(study["id"]), title=str(study.get("title", "")),
                     source=str(study.get("source", "")), cohorts=cohorts, path=path)


def load_spec(study: "str | Path | StudySpec | Mapping[str, Any]") -> StudySpec:
    """Load a study's cohort specification.

    Parameters
    ----------
    study : str, Path, StudySpec or mapping
        A study id (``"tace_sorafenib_ehs"``), a study folder, a ``cohort.toml`` path,
        an already built spec (returned as is) or a parsed-TOML mapping.
    """
    if isinstance(study, StudySpec):
        return study
    if isinstance(study, Mapping):
        return spec_from_dict(study)
    path = find_study(study)
    try:
        data = read_cohort_toml(path)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(str(path), f"is not valid TOML: {e}") from None
    except SpecError as e:                        # a Table 1 file's problems
        raise SpecError([(f"{path}: {k}" if k else str(path), m) for k, m in e.problems]) from None
    return spec_from_dict(data, source=str(path), path=str(path))
