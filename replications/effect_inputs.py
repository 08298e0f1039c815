"""Conditional hazard ratios that are inputs of the generator: not predictions.

``cohort.toml`` gives an endpoint's outcome model its conditional effects: a covariate's
``effects`` entry (the HR a paper's multivariable table prints, transcribed), an
``associations`` entry whose printed columns name their targets (solved so that the
simulated Cox tables return them), and a numeric ``treatment_hr`` (the treated arm's
conditional HR, a known truth); the ``[response]`` block's ``os_hr_pd`` is the OS HR of
progressive disease (PD, the last level) against the other levels, to which the response
model's link with death is solved (the paper's HR of PD, transcribed). A Cox model of the
same covariates fitted on the simulated cohorts then returns that input up to sampling
error: declared ``role = "predicted"``, the number would count among the "predicted
reproduced" ones though it was copied into the generator (a paper's multivariable
covariate HRs pass with a z spread near 0). ``tacebench check`` reports such a target as
an error, naming the target and the input:

- a hazard ratio of a covariate term in an analysis's outcome model (``multivariable``
  covariates or ``outcome_covariates``), whose variable has an ``effects`` entry for that
  endpoint in the analysis's cohort (whatever the term's coding: the model is told the
  variable's effect) that acts in the analysed patients: an entry of every arm, or one
  whose ``arm`` is the arm the analysis's population keeps (``population = { arm = ...
  }``); an effect of one arm is not the HR a model of the whole cohort (or of the other
  arm) estimates;
- the treatment HR of such an outcome model, when ``treatment_hr`` is a number;
- a target named by an ``associations`` entry's ``univariable`` or ``multivariable``
  column;
- an OS hazard ratio of PD vs non-PD of the overall response (``response==PD``, or its
  complement such as ``response!=PD``, written directly or through an alias) in an
  outcome model that includes it or in its own univariable model, when the analysis's
  cohort gives ``os_hr_pd``: the univariable HR is the very number the link is solved
  for, the adjusted one the number an author transcribes into it.

Give such a number ``role = "calibration"`` (judged apart from the predictions, as a check
of the calibration) or ``"reported"`` (audited only). Univariable HRs of covariates with
an ``effects`` entry, a response level's HR against the best level (the ``response[PD]``
dummy of a categorical response term), crude, weighted and matched treatment HRs are
predictions: they follow from the inputs and the covariates' distributions, not from one
input alone.
"""
from __future__ import annotations

from typing import Iterator, Mapping

from .analysis.problems import Problem, Problems, RoleFix, raw_items, raw_table

__all__ = ["effect_input_keys", "effect_input_problems"]


def _outcomes(raw: Mapping) -> Iterator[tuple[str, str, Mapping]]:
    """``(cohort, endpoint, outcome table)`` of every outcome of a raw cohort.toml."""
    for cname, cohort in raw_table(raw.get("cohorts")).items():
        for ep, out in raw_table(raw_table(cohort).get("outcomes")).items():
            if isinstance(out, Mapping):
                yield str(cname), str(ep), out


def _effect_keys(raw: Mapping) -> dict[tuple[str, str, str, str | None], str]:
    """``(cohort, endpoint, variable, arm) -> key`` of every ``effects`` entry (``arm``
    None: an effect of every arm)."""
    out = {}
    for cname, ep, table in _outcomes(raw):
        effects = table.get("effects")
        for k, e in enumerate(raw_items(effects)):
            if isinstance(e, Mapping) and isinstance(e.get("variable"), str):
                arm = e.get("arm") if isinstance(e.get("arm"), str) else None
                out.setdefault((cname, ep, e["variable"], arm),
                               f"cohorts.{cname}.outcomes.{ep}.effects[{k}]")
    return out


def _analysed_arm(analysis) -> str | None:
    """The arm an analysis's population keeps (None: both arms)."""
    return next((s.options["arm"] for s in analysis.population if s.kind == "arm"), None)


def _association_targets(raw: Mapping) -> dict[str, str]:
    """Target id -> key of the ``associations`` column that names it."""
    out = {}
    for cname, ep, table in _outcomes(raw):
        rows = table.get("associations")
        for k, a in enumerate(raw_items(rows)):
            for column in ("univariable", "multivariable"):
                entry = raw_table(a).get(column)
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


def _pd_keys(raw: Mapping) -> dict[str, str]:
    """``cohort -> key`` of every numeric ``response.os_hr_pd``."""
    out = {}
    for cname, cohort in raw_table(raw.get("cohorts")).items():
        hr = raw_table(raw_table(cohort).get("response")).get("os_hr_pd")
        if isinstance(hr, (int, float)) and not isinstance(hr, bool):
            out[str(cname)] = f"cohorts.{cname}.response.os_hr_pd"
    return out


def _part_of(request, outcome_terms):
    """The bound term behind an HR target's design column, in its own univariable model
    or the analysis's outcome model (None: the treatment term, or no model)."""
    model = request.term_model if request.term_model is not None else outcome_terms
    for part in (model.parts if model is not None and request.term is not None else ()):
        if request.term in part.names:
            return part
    return None


def _splits_pd(part, schema) -> bool:
    """Whether a bound term is the overall response's indicator of PD vs non-PD, either
    way round: its last (worst) level, the one ``os_hr_pd`` speaks of, against all the
    others."""
    if part.term.variable != "response" or part.kind != "indicator_levels":
        return False
    k = len(schema.columns["response"].levels)
    return set(part.codes) in ({k - 1}, set(range(k - 1)))


_CONDITIONAL = "sets the conditional HR this outcome model estimates"
_PD = "is the OS HR of PD vs non-PD that the response model's link with death is solved for"


def _input_key(t, request, compiled: Mapping, effects, treatments, pds
               ) -> tuple[str, str] | None:
    """The cohort.toml key whose value ``t``'s hazard ratio is, if it is an input, and
    how the generator uses it."""
    ca = compiled.get(t.analysis)
    if ca is None or request.endpoint is None:
        return None
    cohort, terms = ca.analysis.cohort, ca.adjustment.outcome_terms
    part = _part_of(request, terms)
    if part is not None and request.endpoint == "os" and _splits_pd(part, ca.schema):
        return (pds[cohort], _PD) if cohort in pds else None
    if terms is None or request.term_model is not None:
        return None                 # no outcome model, or a univariable model of its own
    if request.term is None:        # the treatment term of the outcome model
        key = treatments.get((cohort, request.endpoint))
    else:
        arm = _analysed_arm(ca.analysis)    # an effect of one arm acts in its models only
        var = None if part is None else part.term.variable
        key = None if var is None else (
            effects.get((cohort, request.endpoint, var, None))
            or (arm is not None and effects.get((cohort, request.endpoint, var, arm))) or None)
    return None if key is None else (key, _CONDITIONAL)


def effect_input_keys(raw: Mapping, targets, compiled: Mapping, requests: Mapping
                      ) -> dict[str, tuple[str, str]]:
    """Target id -> (cohort.toml key, what it does) of every hazard ratio of ``targets``
    (whatever its role) that the generator is given (the module docstring); ``requests``
    binds each target to consider to its analysis (target id -> ``(analysis, Request)``)."""
    inputs = _effect_keys(raw), _treatment_keys(raw), _pd_keys(raw)
    associations = _association_targets(raw)
    out = {}
    for t in targets.targets:
        key, what = associations.get(t.id), "names it as the number its effects are solved to"
        bound = requests.get(t.id)
        if key is None and bound is not None and bound[1].estimate == "hr":
            key, what = _input_key(t, bound[1], compiled, *inputs) or (None, "")
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
                      "give it role = \"calibration\" or \"reported\"", "effect-input",
                      fix=RoleFix(t.id, "calibration"))
    return list(probs)
