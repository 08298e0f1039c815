"""Conditional hazard ratios that are inputs of the generator: not predictions.

``cohort.toml`` gives an endpoint's outcome model its conditional effects: a covariate's
``effects`` entry (the HR a paper's multivariable table prints, transcribed), an
``associations`` entry whose printed columns name their targets (solved so that the
simulated Cox tables return them), and a numeric ``treatment_hr`` (the treated arm's
conditional HR, a known truth). A Cox model of the same covariates fitted on the simulated
cohorts then returns that input up to sampling error: declared ``role = "predicted"``, the
number would count among the "predicted reproduced" ones though it was copied into the
generator (a paper's multivariable covariate HRs pass with a z spread near 0). ``tacebench
check`` reports such a target as an error, naming the target and the input:

- a hazard ratio of a covariate term in an analysis's outcome model (``multivariable``
  covariates or ``outcome_covariates``), whose variable has an ``effects`` entry for that
  endpoint in the analysis's cohort (whatever the term's coding: the model is told the
  variable's effect);
- the treatment HR of such an outcome model, when ``treatment_hr`` is a number;
- a target named by an ``associations`` entry's ``univariable`` or ``multivariable``
  column.

Give such a number ``role = "calibration"`` (judged apart from the predictions, as a check
of the calibration) or ``"reported"`` (audited only). Univariable HRs of covariates with
an ``effects`` entry, crude, weighted and matched treatment HRs are predictions: they
follow from the inputs and the covariates' distributions, not from one input alone.
"""
from __future__ import annotations

from typing import Iterator, Mapping

from .analysis.problems import Problem, Problems

__all__ = ["effect_input_keys", "effect_input_problems"]


def _outcomes(raw: Mapping) -> Iterator[tuple[str, str, Mapping]]:
    """``(cohort, endpoint, outcome table)`` of every outcome of a raw cohort.toml."""
    for cname, cohort in (raw.get("cohorts") or {}).items():
        outcomes = cohort.get("outcomes") if isinstance(cohort, Mapping) else None
        for ep, out in (outcomes if isinstance(outcomes, Mapping) else {}).items():
            if isinstance(out, Mapping):
                yield str(cname), str(ep), out


def _effect_keys(raw: Mapping) -> dict[tuple[str, str, str], str]:
    """``(cohort, endpoint, variable) -> key`` of every ``effects`` entry."""
    out = {}
    for cname, ep, table in _outcomes(raw):
        effects = table.get("effects")
        for k, e in enumerate(effects if isinstance(effects, list) else []):
            if isinstance(e, Mapping) and isinstance(e.get("variable"), str):
                out.setdefault((cname, ep, e["variable"]),
                               f"cohorts.{cname}.outcomes.{ep}.effects[{k}]")
    return out


def _association_targets(raw: Mapping) -> dict[str, str]:
    """Target id -> key of the ``associations`` column that names it."""
    out = {}
    for cname, ep, table in _outcomes(raw):
        rows = table.get("associations")
        for k, a in enumerate(rows if isinstance(rows, list) else []):
            for column in ("univariable", "multivariable"):
                entry = a.get(column) if isinstance(a, Mapping) else None
                if isinstance(entry, Mapping) and isinstance(entry.get("target"), str):
                    out.setdefault(entry["target"],
                                   f"cohorts.{cname}.outcomes.{ep}.associations[{k}].{column}")
    return out


def _treatment_keys(raw: Mapping) -> dict[tuple[str, str], str]:
    """``(cohort, endpoint) -> key`` of every numeric ``treatment_hr``."""
    return {(cname, ep): f"cohorts.{cname}.outcomes.{ep}.treatment_hr"
            for cname, ep, table in _outcomes(raw)
            if isinstance(table.get("treatment_hr"), (int, float))
            and not isinstance(table.get("treatment_hr"), bool)}


def _variable_of(outcome_terms, column: str) -> str | None:
    """The cohort variable behind a design column of an outcome model."""
    for part in outcome_terms.parts:
        if column in part.names:
            return part.term.variable
    return None


def _input_key(t, request, compiled: Mapping, effects, treatments) -> str | None:
    """The cohort.toml key whose value ``t``'s hazard ratio is, if it is an input."""
    ca = compiled.get(t.analysis)
    terms = ca.adjustment.outcome_terms if ca is not None else None
    if terms is None or request.term_model is not None or request.endpoint is None:
        return None                 # no outcome model, or a univariable model of its own
    cohort = ca.analysis.cohort
    if request.term is None:        # the treatment term of the outcome model
        return treatments.get((cohort, request.endpoint))
    variable = _variable_of(terms, request.term)
    return None if variable is None else effects.get((cohort, request.endpoint, variable))


def effect_input_keys(raw: Mapping, targets, compiled: Mapping, requests: Mapping
                      ) -> dict[str, tuple[str, str]]:
    """Target id -> (cohort.toml key, what it does) of every hazard ratio of ``targets``
    (whatever its role) that the generator is given (the module docstring); ``requests``
    binds each target to consider to its analysis (target id -> ``(analysis, Request)``)."""
    effects, treatments = _effect_keys(raw), _treatment_keys(raw)
    associations = _association_targets(raw)
    out = {}
    for t in targets.targets:
        key, what = associations.get(t.id), "names it as the number its effects are solved to"
        bound = requests.get(t.id)
        if key is None and bound is not None and bound[1].estimate == "hr":
            key = _input_key(t, bound[1], compiled, effects, treatments)
            what = "sets the conditional HR this outcome model estimates"
        if key is not None:
            out[t.id] = (key, what)
    return out


def effect_input_problems(raw: Mapping, targets, compiled: Mapping, requests: Mapping,
                          file: str) -> list[Problem]:
    """Errors for hazard-ratio targets declared predicted that are the generator's
    inputs (see the module docstring).

    Parameters
    ----------
    raw : Mapping
        The parsed cohort.toml.
    targets : Targets
        The parsed targets.toml.
    compiled : Mapping
        Analysis name -> compiled analysis (:func:`replications.binding.bind_study`).
    requests : Mapping
        Target id -> ``(analysis, Request)`` of the bound simulated targets.
    file : str
        The targets.toml path, for the messages.

    Returns
    -------
    list of Problem
    """
    if targets is None:
        return []
    probs = Problems(file)
    inputs = effect_input_keys(raw, targets, compiled, requests)
    for i, t in enumerate(targets.targets):
        if t.role == "predicted" and t.id in inputs:
            key, what = inputs[t.id]
            probs.add(f"targets[{i}].role", t.role,
                      f"{t.id!r} is a hazard ratio the generator is given: cohort.toml's "
                      f"{key} {what}, so it is reproduced by construction, not predicted; "
                      "give it role = \"calibration\" or \"reported\"", "effect-input")
    return list(probs)
