"""Bind a study's simulated targets to its compiled analyses (``check`` and every run).

Kept apart from :mod:`replications.check` so that the run (:mod:`replications.reproduce`)
and the check that builds it import it without importing each other.
"""
from __future__ import annotations

from typing import Mapping

from .analysis.compile import SIMULATED_ROLES, bind_target, compile_analyses
from .analysis.compile_readings import compile_readings
from .analysis.problems import Problems

__all__ = ["bind_study"]


def bind_study(cohort_raw: Mapping, targets, plan, schemas, levels=None,
               plan_file: str = "analysis.toml", targets_file: str = "targets.toml"):
    """Compile the plan and bind every simulated target; returns (compiled, requests, problems)."""
    plan_probs = Problems(plan_file)
    compiled = compile_analyses(plan, schemas, plan_probs, levels)
    compile_readings(plan, compiled, plan_probs, levels)
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
