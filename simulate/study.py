"""Cohort and study specifications: cross-field checks, canonical form and hash."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Mapping

from .spec import (FrozenDict, PROPORTION_TOL, Arm, Correlation, Derived, MissingRule, SpecError, Summary,
                   Unmeasured, Variable)
from .spec_endpoints import ResponseColumn, TimeToProgression, endpoint_problems
from .spec_associations import association_problems
from .spec_outcome_checks import repeated_entry_problems
from .spec_outcomes import Censoring, Endpoint, Response, TimeVarying

ASSIGNMENTS = ("arm_marginals", "logistic")

#: bump when the generating model changes, so cached calibrations are not reused; the
#: digest of the package's source below also invalidates caches on any code change
ENGINE_VERSION = "2"


def _source_digest() -> str:
    from pathlib import Path
    h = hashlib.sha256()
    for f in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


_SOURCE = _source_digest()


def _therapy_on_os(c: "CohortSpec") -> str | None:
    """How the cohort's time-varying therapy changes the OS law (an effect per month, an
    inclusion on months of therapy), in words; ``None`` when it does not."""
    tv = c.time_varying
    if tv is None:
        return None
    ways = ([f"a therapy effect (hr_per_month = {tv.hr_per_month})"] if tv.hr_per_month != 1.0 else []) + (
        [f"an inclusion on months of therapy (inclusion.min_months = {tv.inclusion.min_months})"]
        if tv.inclusion is not None else [])
    return " and ".join(ways) or None


def _hazard_problems(c: "CohortSpec", ep_name: str, ep) -> list[tuple[str, str]]:
    """Cross-field problems of an endpoint's ``hazards`` and ``hr`` calibration targets."""
    p = []
    key = f"outcomes.{ep_name}"
    on_os = _therapy_on_os(c)
    if ep.hazards == "arm_specific":
        if len(c.arms) != 2:
            p.append((f"{key}.hazards", f"'arm_specific' needs two arms, got {len(c.arms)}"))
        if on_os is not None and ep_name == "os":
            # the arm's own baseline is inverted without the therapy's segments
            p.append((f"{key}.hazards", f"'arm_specific' cannot be combined with time_varying {on_os}; "
                      "use hazards = 'proportional'"))
    if ep_name == "pfs" and c.ttp is not None and c.ttp.calibrate and (
            ep.hazards == "arm_specific" or any(t.kind == "hr" for t in ep.calibrate)):
        # that fit (simulate.calibrate) solves the PFS targets alone: TTP's would be dropped
        why = "hazards = 'arm_specific'" if ep.hazards == "arm_specific" else "an 'hr' target"
        p.append(("outcomes.ttp.calibrate", f"TTP targets are fitted with the proportional PFS targets only; "
                  f"outcomes.pfs has {why}, whose fit would leave them out"))
    for j, t in enumerate(ep.calibrate):
        if t.kind != "hr":
            continue
        if len(c.arms) != 2:
            p.append((f"{key}.calibrate[{j}].kind", "an 'hr' target needs two arms"))
        if ep.treatment_hr != "calibrate":
            p.append((f"{key}.calibrate[{j}].kind", f"an 'hr' target needs treatment_hr = 'calibrate', "
                      f"got {ep.treatment_hr!r}"))
        # the therapy acts on death only: PFS curves see it through the death times; the
        # crude-HR fit's OS curves do not integrate the therapy's segments
        if ep_name == "os" and on_os is not None:
            p.append((f"{key}.calibrate[{j}].kind", f"an 'hr' target cannot be combined with time_varying "
                      f"{on_os}"))
        for name in c.censoring.unknowns if c.censoring is not None and not c.censoring.outcome_free else ():
            # the crude HR depends on follow-up, and censoring that depends on the event times
            # is solved after the outcome
            p.append((f"{key}.calibrate[{j}].kind", f"an 'hr' target needs a numeric censoring.{name}, "
                      "got 'calibrate'"))
    return p


@dataclass(frozen=True)
class CohortSpec:
    """One cohort of a study: arms, covariates and the outcome model.

    ``variables`` are the covariates with published per-arm summaries (one column each);
    ``multiselect`` holds the multiselect variables (``type = "multiselect"``, which
    cohort.toml lists among the variables and which may be passed in ``variables``):
    each generates its binary options jointly and adds a pattern column.
    """

    name: str
    arms: tuple[Arm, ...]
    variables: tuple[Variable, ...] = ()
    assignment: str = "arm_marginals"
    correlation: Correlation = Correlation()
    derived: tuple[Derived, ...] = ()
    unmeasured: Unmeasured | None = None
    os: Endpoint | None = None
    pfs: Endpoint | None = None
    censoring: Censoring | None = None
    response: Response | None = None
    missing: tuple[MissingRule, ...] = ()
    time_varying: TimeVarying | None = None
    multiselect: tuple[Variable, ...] = ()
    ttp: TimeToProgression | None = None
    response_columns: tuple[ResponseColumn, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        # validated in the given order (key paths = positions in cohort.toml), then split
        every = tuple(self.variables) + tuple(self.multiselect)
        object.__setattr__(self, "variables", every)
        object.__setattr__(self, "multiselect", ())
        object.__setattr__(self, "derived", tuple(self.derived))
        object.__setattr__(self, "missing", tuple(self.missing))
        object.__setattr__(self, "response_columns", tuple(self.response_columns))
        problems = self.problems()
        if problems:
            raise SpecError(problems)
        object.__setattr__(self, "_positions", {v.name: i for i, v in enumerate(every)})
        object.__setattr__(self, "variables", tuple(v for v in every if v.type != "multiselect"))
        object.__setattr__(self, "multiselect", tuple(v for v in every if v.type == "multiselect"))

    # -- cross-field validation -------------------------------------------------------
    def problems(self) -> list[tuple[str, str]]:
        """All cross-field problems at once, as ``(key, message)`` pairs."""
        p: list[tuple[str, str]] = []
        if self.assignment not in ASSIGNMENTS:
            p.append(("assignment", f"must be one of {ASSIGNMENTS}, got {self.assignment!r}"))
        labels = [a.label for a in self.arms]
        if not self.arms:
            p.append(("arms", "at least one arm is needed"))
        if len(set(labels)) != len(labels):
            p.append(("arms", f"arm labels must be distinct, got {labels}"))
        n_treated = sum(a.treated for a in self.arms)
        if len(self.arms) == 2 and n_treated != 1:
            p.append(("arms", f"exactly one of two arms must be treated = true, got {n_treated}"))
        if len(self.arms) > 2:
            p.append(("arms", f"at most two arms are supported, got {len(self.arms)}"))
        nmap = {a.label: a.n for a in self.arms}
        names: list[str] = []
        for i, v in enumerate(self.all_variables):
            key = f"variables[{i}] ({v.name})"
            names.append(v.name)
            for lab in v.arms:
                if lab not in nmap:
                    p.append((f"{key}.arms.{lab}", f"unknown arm {lab!r}; arms are {labels}"))
            for lab in labels if v.type != "multiselect" else ():
                if lab not in v.arms:
                    p.append((f"{key}.arms", f"missing the summary for arm {lab!r}"))
                    continue
                s = v.arms[lab]
                if s.counts is not None and sum(s.counts) != nmap[lab]:
                    p.append((f"{key}.arms.{lab}.counts", f"sum to {sum(s.counts)} but arm {lab!r} has n = "
                              f"{nmap[lab]}: {list(s.counts)}"))
                if s.count is not None and s.count > nmap[lab]:
                    p.append((f"{key}.arms.{lab}.count", f"{s.count} exceeds the arm size {nmap[lab]}"))
                if v.type == "binary" and s.count is not None and s.p is not None:
                    if abs(s.count / nmap[lab] - s.p) > PROPORTION_TOL:
                        p.append((f"{key}.arms.{lab}", f"count {s.count}/{nmap[lab]} disagrees with p = {s.p}"))
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            p.append(("variables", f"duplicate variable names {dup}"))
        known = set(names)
        owner = self._option_owners(p)
        for i, pr in enumerate(self.correlation.pairs):
            for nm in pr[:2]:
                if nm not in known:
                    p.append((f"correlation.pairs[{i}]", f"unknown variable {nm!r}"))
                elif nm in owner:
                    p.append((f"correlation.pairs[{i}]", f"{nm!r} is an option of the multiselect "
                              f"{owner[nm]!r}, generated from its pattern: correlate {owner[nm]!r} instead"))
        for i, d in enumerate(self.derived):
            if d.name in known:
                p.append((f"derived[{i}].name", f"{d.name!r} clashes with a generated variable"))
            for role, nm in d.inputs.items():
                if nm not in known:
                    p.append((f"derived[{i}].inputs.{role}", f"unknown variable {nm!r}"))
            known.add(d.name)
        if self.unmeasured is not None:
            known.add(self.unmeasured.name)
        for ep_name in ("os", "pfs"):
            ep = getattr(self, ep_name)
            if ep is None:
                continue
            for j, e in enumerate(ep.effects):
                if e.variable not in known:
                    p.append((f"outcomes.{ep_name}.effects[{j}].variable", f"unknown variable {e.variable!r}"))
                if e.arm is not None and e.arm not in nmap:
                    p.append((f"outcomes.{ep_name}.effects[{j}].arm", f"unknown arm {e.arm!r}; arms are {labels}"))
            for j, t in enumerate(ep.calibrate):
                if t.arm not in nmap:
                    p.append((f"outcomes.{ep_name}.calibrate[{j}].arm", f"unknown arm {t.arm!r}; arms are {labels}"))
            if ep.treatment_hr == "calibrate" and len(self.arms) == 2:
                arms_t = {t.arm for t in ep.calibrate}
                if ep_name == "pfs" and self.ttp is not None:  # one progression time, fitted jointly
                    arms_t |= {t.arm for t in self.ttp.calibrate}
                if len(arms_t) < 2:
                    p.append((f"outcomes.{ep_name}.treatment_hr",
                              "'calibrate' needs calibration targets in both arms"))
            p.extend(_hazard_problems(self, ep_name, ep))
            p.extend(association_problems(ep_name, ep, self.variables))
        if self.pfs is not None and self.os is None:
            p.append(("outcomes.pfs", "PFS is generated jointly with OS: give outcomes.os too"))
        for name in ("events", "median_followup"):
            ev = getattr(self.censoring, name, None)
            if ev is None:
                continue
            if ev.arm is not None and ev.arm not in nmap:
                p.append((f"censoring.{name}.arm", f"unknown arm {ev.arm!r}"))
            if getattr(self, ev.endpoint) is None:
                p.append((f"censoring.{name}.endpoint", f"no outcomes.{ev.endpoint} model"))
        if self.censoring is not None and self.censoring.events is not None:
            ev = self.censoring.events
            cap = sum(nmap.values()) if ev.arm is None else nmap.get(ev.arm, 0)
            if ev.value > cap:
                p.append(("censoring.events.value", f"{ev.value} events exceed the {cap} patients"))
        if self.response is not None:
            if self.os is None:
                p.append(("response", "best response is generated jointly with OS: give outcomes.os"))
            for lab in labels:
                if lab not in self.response.arms:
                    p.append(("response.arms", f"missing counts for arm {lab!r}"))
            for lab, s in self.response.arms.items():
                if lab not in nmap:
                    p.append((f"response.arms.{lab}", f"unknown arm {lab!r}"))
                elif s.counts is not None and sum(s.counts) > nmap[lab]:
                    p.append((f"response.arms.{lab}.counts", f"sum {sum(s.counts)} exceeds n = {nmap[lab]}"))
        for i, m in enumerate(self.missing):
            if m.variable not in names:
                p.append((f"missing.{m.variable}", f"unknown variable {m.variable!r}"))
            if m.depends_on is not None and m.depends_on not in known:
                p.append((f"missing.{m.variable}.depends_on", f"unknown variable {m.depends_on!r}"))
            elif m.depends_on is not None and m.variable in names:
                shared = self._computed_from(m.depends_on) & self._computed_from(m.variable)
                if shared:
                    p.append((f"missing.{m.variable}.depends_on", _self_dependence(m, sorted(shared))))
        if self.time_varying is not None:
            if self.time_varying.arm not in nmap:
                p.append(("time_varying.arm", f"unknown arm {self.time_varying.arm!r}; arms are {labels}"))
            if self.os is None:
                p.append(("time_varying", "needs outcomes.os"))
        p.extend(endpoint_problems(self))
        p.extend(repeated_entry_problems(self))
        return p

    def _computed_from(self, name: str) -> set[str]:
        """``name`` and the variables its values are computed from (or that are computed
        from it): a multiselect with its options, a derived variable with its inputs'."""
        out = {name}
        for v in self.all_variables:
            if v.name == name and v.type == "multiselect":
                out.update(v.options)
        for d in self.derived:
            if d.name == name:
                for nm in d.inputs.values():
                    out |= self._computed_from(nm) if nm != name else set()
        return out

    def _option_owners(self, p: list) -> dict[str, str]:
        """Option variable -> its multiselect; problems with options go to ``p``."""
        owner: dict[str, str] = {}
        types = {v.name: v.type for v in self.all_variables}
        for i, v in enumerate(self.all_variables):
            if v.type != "multiselect":
                continue
            for j, o in enumerate(v.options):
                key = f"variables[{i}] ({v.name}).options[{j}]"
                if types.get(o) != "binary":
                    p.append((key, f"{o!r} must be a binary variable of this cohort (got "
                              f"{types.get(o, 'no such variable')})"))
                elif o in owner:
                    p.append((key, f"{o!r} is already an option of {owner[o]!r}"))
                else:
                    owner[o] = v.name
        return owner

    @property
    def option_names(self) -> dict[str, str]:
        """Binary variables generated as options of a multiselect -> its name."""
        return self._option_owners([])

    @property
    def all_variables(self) -> tuple[Variable, ...]:
        """``variables`` then ``multiselect``."""
        return self.variables + self.multiselect

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """Measured baseline columns, one per published row (a multiselect's options are
        among them; its pattern column, a summary of them, is not)."""
        return tuple(v.name for v in self.variables)

    # -- convenience ------------------------------------------------------------------
    @property
    def n(self) -> int:
        return sum(a.n for a in self.arms)

    @property
    def arm_labels(self) -> tuple[str, ...]:
        return tuple(a.label for a in self.arms)

    def variable_key(self, name: str) -> str:
        """Key path of a variable as cohort.toml lists it: ``variables[i] (name)``."""
        return f"variables[{self._positions[name]}] ({name})"

    def variable(self, name: str) -> Variable:
        for v in self.all_variables:
            if v.name == name:
                return v
        raise KeyError(name)


@dataclass(frozen=True)
class StudySpec:
    """A study's cohort specification (the content of ``cohort.toml``)."""

    id: str
    cohorts: Mapping[str, CohortSpec]
    title: str = ""
    source: str = ""
    path: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise SpecError("study.id", f"must be a non-empty string, got {self.id!r}")
        if not self.cohorts:
            raise SpecError("cohorts", "at least one cohort is needed")
        object.__setattr__(self, "cohorts", FrozenDict(dict(self.cohorts)))

    def cohort(self, name: str | None = None) -> CohortSpec:
        """The cohort ``name``; ``None`` means the only cohort, or ``"main"``."""
        if name is None:
            if len(self.cohorts) == 1:
                return next(iter(self.cohorts.values()))
            if "main" not in self.cohorts:  # (it said "unknown cohort 'main'", unasked)
                raise ValueError(f"cohort: study {self.id!r} has several cohorts, "
                                 f"{sorted(self.cohorts)}: name one")
            name = "main"
        if name not in self.cohorts:
            raise ValueError(f"cohort: unknown cohort {name!r} in study {self.id!r}; "
                             f"cohorts are {sorted(self.cohorts)}")
        return self.cohorts[name]


def canonical(obj: Any) -> Any:
    """A JSON-able canonical form of a spec tree (for hashing and ``to_dict``)."""
    if is_dataclass(obj):
        return {f.name: canonical(getattr(obj, f.name)) for f in fields(obj)
                if f.name not in ("path", "source", "unit", "rationale")}
    if isinstance(obj, Mapping):
        return {str(k): canonical(v) for k, v in sorted(obj.items())}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    return obj


def spec_hash(obj: Any, *extra: Any) -> str:
    """SHA-256 of the canonical form (quotes and rationales excluded) plus the engine version."""
    payload = json.dumps([ENGINE_VERSION, _SOURCE, canonical(obj), [canonical(e) for e in extra]],
                         sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _self_dependence(m, shared: list[str]) -> str:
    """Why missingness driven by the variable's own value is refused (MNAR)."""
    if m.depends_on == m.variable:
        what = f"{m.depends_on!r} is {m.variable!r} itself"
    else:
        what = f"{m.depends_on!r} and {m.variable!r} are computed one from the other (through {shared})"
    return (f"{what}: missingness that depends on the variable's own, unobserved value is missing not "
            "at random (MNAR); the format allows MCAR and MAR only, so depend on another variable")


__all__ = ["CohortSpec", "StudySpec", "canonical", "spec_hash", "Summary"]
