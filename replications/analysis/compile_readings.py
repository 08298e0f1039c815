"""Analyses compiled under other readings of their methods (:mod:`.readings`): each
variant the plan's readings need, run by ``replicate`` on the same cohorts as the
declared reading."""
from __future__ import annotations

from typing import Any, Mapping

from .adjustments import ADJUSTMENTS, compile_adjustment
from .compile import CompiledAnalysis
from .plan import AnalysisPlan
from .problems import Problems
from .readings import apply_reading
from .terms import TermError

__all__ = ["compile_reading", "compile_readings", "variant_key"]


def compile_reading(ca: CompiledAnalysis, overrides: Mapping[str, Any],
                    levels: Mapping | None = None) -> CompiledAnalysis:
    """``ca`` under another reading of its methods (:mod:`.readings`): the same population,
    responders and requests, the adjustment and outcome model as ``overrides`` set them.
    Raises ``TermError`` when a covariate of the reading is not generated."""
    a = apply_reading(ca.analysis, overrides)
    adj = compile_adjustment(a.method, a.options, ca.schema, levels, a.missing)
    return CompiledAnalysis(a, ca.schema, ca.population, adj, ca.responders,
                            list(ca.requests))


def variant_key(overrides: Mapping[str, Any]) -> str:
    return repr(sorted(overrides.items()))


def compile_readings(plan: AnalysisPlan, compiled: Mapping[str, CompiledAnalysis],
                     problems: Problems, levels: Mapping[str, Mapping] | None = None
                     ) -> dict[tuple[str, str], CompiledAnalysis]:
    """Every analysis variant the plan's readings need, keyed by (analysis name,
    :func:`variant_key` of its overrides); the declared reading maps to the analysis
    itself. A covariate a reading names that the cohort does not generate is a problem
    (key ``readings[i].values``)."""
    out: dict[tuple[str, str], CompiledAnalysis] = {}
    for g in plan.readings:
        for name in g.analyses:
            ca = compiled.get(name)
            if ca is None:
                continue
            declared = g.overrides(g.readings[0], name)
            out[(name, variant_key(declared))] = ca
            for r in g.readings[1:]:
                over = g.overrides(r, name)
                key = (name, variant_key(over))
                if key in out:
                    continue
                try:
                    out[key] = compile_reading(ca, over, (levels or {}).get(ca.analysis.cohort))
                except TermError as exc:
                    c = next((c for c in g.choices if name in c.analyses and c.option in
                              ADJUSTMENTS[ca.analysis.method].covariate_options), g.choices[0])
                    problems.add(f"{c.key}.values", r.label, f"reading of analysis {name!r}: "
                                 f"{exc}", "not-generated")
                    out[key] = None
    return {k: v for k, v in out.items() if v is not None}
