"""The layout of a reproduction run's outputs: which analyses run, into which columns.

:func:`build_plan` compiles a study's analyses against the levels of a pilot draw
(:mod:`replications.binding`) and lays out one row of draws per replicate: the targets, then
the leave-one-covariate-out reruns of the ``to`` analysis of every shift, then one rerun per
analysis variant the readings need, then the shown estimates. :class:`Plan` is what a worker
needs to analyse its replicates (:func:`replications.reproduce.run_replicates`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .analysis.compile import CompiledAnalysis
from .analysis.compile_readings import compile_readings, variant_key
from .analysis.schema import schema_from_spec
from .binding import bind_study
from .shown import plan_shown
from .study import Study

__all__ = ["Plan", "ReadingColumn", "build_plan"]

@dataclass
class Plan:
    """Everything a worker needs for one study, compiled once."""

    study_id: str
    cohorts: tuple[str, ...]
    target_ids: tuple[str, ...]
    runs: list[tuple[CompiledAnalysis, list[int]]]      # analysis, output slots
    loco: list[tuple[CompiledAnalysis, str, object, list, list[int]]] = field(
        default_factory=list)                              # analysis, term, adj, reqs, slots
    loco_keys: tuple[tuple[str, str, str], ...] = ()       # (analysis, term, target) per slot
    decompose_reps: int = 0                                 # LOCO on replicates r < this
    problems: list = field(default_factory=list)
    requests: dict = field(default_factory=dict)
    #: analysis variants of the readings: (analysis, output slots, draw ids of the slots)
    variants: list[tuple[CompiledAnalysis, list[int], tuple[str, ...]]] = field(
        default_factory=list)
    reading_columns: tuple[ReadingColumn, ...] = ()
    reading_groups: tuple = ()                              # the plan's ReadingGroups
    #: shown estimates, not judged: (analysis, slots, ShownEstimates, requests)
    shown: list = field(default_factory=list)
    #: reported target id -> its kind (:func:`replications.unjudged.classify_reported`)
    reported: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        """Columns of a replicate's draws: targets, LOCO reruns, reading variants."""
        return len(self.target_ids) + len(self.loco_keys) + sum(
            len(slots) for _, slots, _ in self.variants) + sum(
            len(slots) for _, slots, _, _ in self.shown)


@dataclass(frozen=True)
class ReadingColumn:
    """The column of the draws holding ``target`` under reading ``reading`` of group
    ``group`` (the target's own column for the declared reading)."""

    group: int
    reading: int
    target: str
    column: int


def build_plan(study: Study, levels: Mapping[str, Mapping], decompose_reps: int = 0) -> Plan:
    """Compile the study's analyses against the generated levels and lay out the outputs."""
    schemas = {name: schema_from_spec(study.cohort_raw, name)
               for name in study.cohort_raw.get("cohorts", {})}
    compiled, requests, problems = bind_study(study.cohort_raw, study.targets, study.plan,
                                              schemas, levels)
    order = [t.id for t in study.targets.targets if t.id in requests]
    slot = {tid: i for i, tid in enumerate(order)}
    runs = []
    for name, ca in compiled.items():
        mine = [tid for tid in order if requests[tid][0] == name]
        if mine:
            ca.requests = [requests[tid][1] for tid in mine]
            runs.append((ca, [slot[tid] for tid in mine]))
    cohorts = tuple(dict.fromkeys([ca.analysis.cohort for ca, _ in runs] + [
        ca.analysis.cohort for ca in compiled.values() if ca.shown]))
    plan = Plan(study.id, cohorts, tuple(order), runs, problems=problems, requests=requests,
                decompose_reps=decompose_reps)
    if decompose_reps > 0:
        _plan_loco(plan, study, compiled, requests)
    _plan_readings(plan, study, compiled, levels, slot)
    plan.shown = plan_shown(compiled, plan.width)
    # imported here: the classification reads the audit's rounding (scipy.stats), which a
    # worker importing this module for Plan must not load
    from .unjudged import classify_reported, table_cells
    plan.reported = classify_reported(study.cohort_raw, study.targets, study.plan, compiled,
                                      table_cells(getattr(study, "path", None)))
    return plan


def _plan_readings(plan: Plan, study: Study, compiled, levels, slot) -> None:
    """One rerun per distinct analysis variant the readings need, after the LOCO slots."""
    variants = compile_readings(study.plan, compiled, _Sink(), levels)
    n_out = len(plan.target_ids) + len(plan.loco_keys)
    columns, placed = [], {}
    for gi, g in enumerate(study.plan.readings):
        for r in g.readings:
            for name in g.analyses:
                ca = variants.get((name, variant_key(g.overrides(r, name))))
                tids = [tid for tid in plan.target_ids if plan.requests[tid][0] == name]
                if ca is None or not tids:
                    continue
                if ca is compiled[name]:            # the declared reading: its own columns
                    columns += [ReadingColumn(gi, r.index, t, slot[t]) for t in tids]
                    continue
                if id(ca) not in placed:
                    slots = list(range(n_out, n_out + len(tids)))
                    n_out += len(tids)
                    plan.variants.append((ca, slots, tuple(
                        f"reading:{name}:{r.label}:{t}" for t in tids)))
                    placed[id(ca)] = slots
                columns += [ReadingColumn(gi, r.index, t, c)
                            for t, c in zip(tids, placed[id(ca)])]
    plan.reading_columns = tuple(columns)
    plan.reading_groups = study.plan.readings


class _Sink:
    """A problems list that drops what it is given: ``check`` reports reading problems."""

    def add(self, *args, **kwargs) -> None:
        pass


def _plan_loco(plan: Plan, study: Study, compiled, requests) -> None:
    """One LOCO rerun per (analysis, covariate) for the ``to`` end of every shift."""
    wanted: dict[str, list[str]] = {}
    for s in study.targets.shifts:
        if s.from_ in requests and s.to in requests:
            wanted.setdefault(requests[s.to][0], [])
            if s.to not in wanted[requests[s.to][0]]:
                wanted[requests[s.to][0]].append(s.to)
    keys, n_out = [], len(plan.target_ids)
    for name, tids in wanted.items():
        ca = compiled[name]
        if not ca.schema.comparative:
            continue
        reqs = [requests[t][1] for t in tids]
        for term in ca.adjustment.loco_terms:
            slots = list(range(n_out, n_out + len(tids)))
            n_out += len(tids)
            plan.loco.append((ca, term, ca.adjustment.without(term), reqs, slots))
            keys.extend((name, term, t) for t in tids)
    plan.loco_keys = tuple(keys)
