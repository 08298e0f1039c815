"""Bind a study's simulated targets to its compiled analyses (``check`` and every run).

Kept apart from :mod:`replications.check` so that the run (:mod:`replications.reproduce`)
and the check that builds it import it without importing each other.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from .analysis.compile import SIMULATED_ROLES, bind_target, compile_analyses
from .analysis.compile_readings import compile_readings
from .analysis.problems import SPEC_GAP, Problems

__all__ = ["bind_shown", "bind_study"]


def bind_study(cohort_raw: Mapping, targets, plan, schemas, levels=None,
               plan_file: str = "analysis.toml", targets_file: str = "targets.toml"):
    """Compile the plan and bind every simulated target; returns (compiled, requests, problems)."""
    plan_probs = Problems(plan_file)
    compiled = compile_analyses(plan, schemas, plan_probs, levels)
    compile_readings(plan, compiled, plan_probs, levels)
    bind_shown(plan, compiled, plan_probs)
    t_probs = Problems(targets_file)
    requests = {}
    if targets is not None and plan.readable:
        for i, t in enumerate(targets.targets):
            if t.role not in SIMULATED_ROLES:
                continue
            req = bind_target(t, i, compiled, plan, t_probs)
            if req is not None:
                requests[t.id] = (t.analysis, req)
        for j, s in enumerate(targets.shifts):
            for end in (s.from_, s.to):
                if targets[end].role not in SIMULATED_ROLES:
                    t_probs.add(f"shifts[{j}]", end, f"shift {s.id!r} joins target {end!r} "
                                "whose role is 'reported' (not simulated)", "shift-unsimulated")
    return compiled, requests, [*plan_probs, *t_probs]


class _Errors:
    """Problems of a shown estimate are errors: no verdict reports them."""

    def __init__(self, problems: Problems):
        self.problems = problems

    def add(self, key, value, message, kind="invalid", severity="error") -> None:
        self.problems.add(key, value, message.replace(f"; {SPEC_GAP}", ""),
                          kind, "error")


def bind_shown(plan, compiled: Mapping, problems: Problems) -> None:
    """Bind the shown estimates of every compiled analysis (``show`` in analysis.toml,
    :mod:`.analysis.show`) to requests on it, as targets are bound: each compiled
    analysis's ``shown`` lists ``(ShownEstimate, Request)``; an estimate that cannot be
    bound is an error of ``problems`` (analysis.toml's). A ``contrast`` left out (with no
    ``arm`` or ``term``) is the treated arm against the reference arm."""
    errors = _Errors(problems)
    for a in plan.analyses:
        ca = compiled.get(a.name)
        if ca is None:
            continue
        ca.shown = []
        for s in a.show:
            fields = dict(s.fields)
            if ca.schema.comparative and not {"contrast", "term", "arm"} & set(fields):
                fields["contrast"] = [ca.schema.treated_arm, ca.schema.reference_arm]
            req = bind_target({"id": s.id, "analysis": a.name, **fields}, 0, compiled, plan,
                              errors, key=s.key)
            if req is not None:
                ca.shown.append((replace(s, fields=fields), req))
