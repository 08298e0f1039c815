"""Calibration inputs must come from the population the generator is calibrated on.

The generator calibrates each arm of the whole cohort (its survival curves, its event
count, its censoring). A number published for a matched sample, a weighted
pseudo-population or a sub-population (a landmark set, a subgroup) describes other
patients: calibrating the whole arm to it is harmless when matching keeps nearly everyone
and wrong when it drops half an arm. ``tacebench check`` therefore refuses a calibration
entry of ``cohort.toml`` whose target belongs to such an analysis, naming the file, the
key and the population the number comes from.
"""
from __future__ import annotations

from typing import Mapping

from .analysis.problems import Problem, Problems, raw_items, raw_table

__all__ = ["REWEIGHTING_METHODS", "calibration_input_problems"]

#: Adjustments whose estimates describe a matched or weighted population, not the cohort.
REWEIGHTING_METHODS = {"psm": "a propensity-score matched sample", "exact": "an exactly matched sample",
                       "iptw": "an inverse-probability weighted pseudo-population"}
#: Population filters that keep part of an arm (``response_assessed`` is what the response
#: model is calibrated on, so it is not among them).
_PARTIAL_STEPS = {"landmark": "a landmark population", "where": "a subgroup",
                  "arm": "one arm's sub-population"}


def _target_ids(raw: Mapping):
    """``(key, target id)`` of every calibration entry of a raw cohort.toml that names one."""
    for cname, cohort in raw_table(raw.get("cohorts")).items():
        if not isinstance(cohort, Mapping):
            continue
        for ep, out in raw_table(cohort.get("outcomes")).items():
            for k, c in enumerate(raw_items(raw_table(out).get("calibrate"))):
                if isinstance(c, Mapping) and "target" in c:
                    yield f"cohorts.{cname}.outcomes.{ep}.calibrate[{k}]", c["target"]
        cen = raw_table(cohort.get("censoring"))
        for name in ("events", "median_followup"):
            entry = cen.get(name)
            if isinstance(entry, Mapping) and "target" in entry:
                yield f"cohorts.{cname}.censoring.{name}", entry["target"]


def _population(analysis) -> str | None:
    """What a non-whole-cohort analysis describes, or None for the whole cohort."""
    if analysis.method in REWEIGHTING_METHODS:
        return REWEIGHTING_METHODS[analysis.method]
    for step in analysis.population:
        if step.kind in _PARTIAL_STEPS:
            return _PARTIAL_STEPS[step.kind]
    return None


def calibration_input_problems(raw: Mapping, targets, plan, file: str) -> list[Problem]:
    """Calibration entries whose target comes from a matched, weighted or partial population
    (errors), and median follow-ups calibrated by another definition than the analyses'
    reverse Kaplan-Meier estimate (warnings).

    Parameters
    ----------
    raw : Mapping
        The parsed cohort.toml.
    targets : Targets or None
        The parsed targets.toml.
    plan : AnalysisPlan
        The parsed analysis.toml.
    file : str
        The cohort.toml path, for the messages.

    Returns
    -------
    list of Problem
        One error (kind ``calibration-population``) per refused entry, one warning (kind
        ``followup-definition``) per median follow-up judged by another definition.
    """
    probs = Problems(file)
    if targets is None or not getattr(plan, "readable", False):
        return []
    by_id = {t.id: t for t in targets.targets}
    names = set(plan.names)
    for key, tid in _target_ids(raw):
        t = by_id.get(tid)
        if t is None:
            continue
        what = None
        if t.analysis in names:
            analysis = plan.get(t.analysis)
            what = _population(analysis)
            where = f"analysis {t.analysis!r} ({what})"
        if what is None and getattr(t, "weighted", False):
            what, where = "weighted", "a weighted number (weighted = true)"
        if what is None:
            continue
        probs.add(f"{key}.target", t.id,
                  f"targets.toml {t.id!r} comes from {where}, but the generator calibrates the "
                  "whole cohort's arms; calibrate to the whole-cohort number and let the "
                  f"{t.analysis!r} analysis predict this one (role = \"predicted\")",
                  "calibration-population")
    for cname, cohort in raw_table(raw.get("cohorts")).items():
        mf = raw_table(raw_table(cohort).get("censoring")).get("median_followup")
        t = by_id.get(mf.get("target")) if isinstance(mf, Mapping) else None
        definition = mf.get("definition", "reverse_km") if isinstance(mf, Mapping) else None
        if t is not None and definition != "reverse_km" and t.role != "reported":
            probs.add(f"cohorts.{cname}.censoring.median_followup.definition", definition,
                      f"the generator is calibrated to this definition, but the analyses' "
                      f"followup estimate of targets.toml {t.id!r} is the reverse Kaplan-Meier "
                      "median: its verdict compares different quantities", "followup-definition",
                      "warning")
    return list(probs)
