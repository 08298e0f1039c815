"""Response rates that are inputs of the generator: calibration, not prediction.

The generator draws each arm's tumour response from the shares ``cohort.toml`` declares
(the ``[response]`` block's counts or proportions, or a ``[response_columns.*]`` column's).
An unadjusted response rate of the whole arm (or of its assessed patients) is therefore
fitted by construction: declared ``role = "predicted"`` it counted among the "predicted
reproduced" numbers, though it was copied into the generator. And an input that is not
the paper's number (70 responders where the paper prints 58 of 150) calibrates the cohort
to another paper. ``tacebench check`` reports both, naming the target and the input:

- a predicted target whose number is an input: an error (give it ``role =
  "calibration"``);
- an input whose responders are neither the count the paper prints for that arm nor
  within the rounding interval of its printed rate (the shares are among the assessed
  patients): an error.

Rates under weighting or matching, of a landmark set or a subgroup, are predictions
(:func:`replications.calibration_inputs._population` says which populations are partial).
"""
from __future__ import annotations

from typing import Mapping

from .analysis.problems import Problem, Problems
from .audit.rounding import printed
from .calibration_inputs import _population

__all__ = ["response_input_problems"]


def _inputs(raw: Mapping) -> dict[tuple[str, str, str], tuple[str, list, list]]:
    """``(cohort, column, arm) -> (key, levels, shares)`` of every declared response
    input; ``column`` is ``"response"`` for the ``[response]`` block."""
    out = {}
    for cname, cohort in (raw.get("cohorts") or {}).items():
        if not isinstance(cohort, Mapping):
            continue
        blocks = [("response", cohort.get("response"), f"cohorts.{cname}.response")]
        blocks += [(name, col, f"cohorts.{cname}.response_columns.{name}")
                   for name, col in (cohort.get("response_columns") or {}).items()]
        for column, block, key in blocks:
            if not isinstance(block, Mapping) or not isinstance(block.get("arms"), Mapping):
                continue
            levels = block.get("levels") or []
            for arm, entry in block["arms"].items():
                shares = entry.get("counts", entry.get("proportions")) if isinstance(
                    entry, Mapping) else None
                if isinstance(shares, list) and len(shares) == len(levels):
                    which = "counts" if "counts" in entry else "proportions"
                    out[(cname, column, str(arm))] = (f"{key}.arms.{arm}.{which}",
                                                      list(levels), shares)
    return out


def response_input_problems(raw: Mapping, targets, plan, requests: Mapping,
                            file: str) -> list[Problem]:
    """Errors for response-rate targets that are the generator's inputs (see the module
    docstring).

    Parameters
    ----------
    raw : Mapping
        The parsed cohort.toml.
    targets : Targets
        The parsed targets.toml.
    plan : AnalysisPlan
        The parsed analysis.toml.
    requests : Mapping
        Target id -> ``(analysis, Request)`` of the bound simulated targets
        (:func:`replications.binding.bind_study`).
    file : str
        The targets.toml path, for the messages.

    Returns
    -------
    list of Problem
    """
    probs = Problems(file)
    inputs = _inputs(raw)
    if not inputs or targets is None or not getattr(plan, "readable", False):
        return []
    # (input key, responders) -> [(targets[i], target, agrees)]: a paper that prints one
    # rate twice, differently, has an inconsistency for the audit (same_as_agree); the
    # input is wrong only when it agrees with none of its printings
    printings: dict[tuple, list] = {}
    for i, t in enumerate(targets.targets):
        bound = requests.get(t.id)
        # (a declared mislabel is judged as its true quantity: not this rate)
        if bound is None or bound[1].estimate != "response_rate" or t.weighted or t.mislabel:
            continue
        analysis = plan.get(t.analysis)
        endpoint = plan.response.get(t.endpoint)
        if endpoint is None or _population(analysis) is not None or analysis.method != "none":
            continue
        found = inputs.get((analysis.cohort, endpoint.column, str(t.arm)))
        if found is None:
            continue
        key, levels, shares = found
        if t.role == "predicted":
            probs.add(f"targets[{i}].role", t.role,
                      f"{t.id!r} is an unadjusted response rate of arm {t.arm!r}, whose "
                      f"response shares are an input of cohort.toml ({key}): it is fitted "
                      "by construction, not predicted; give it role = \"calibration\"",
                      "response-input")
        responders = ((t.level,) if endpoint.levels == "level" else tuple(endpoint.levels))
        p, total = printed(t, "value"), sum(shares)
        if not total or (p is None and t.count is None):
            continue
        hits = sum(s for lev, s in zip(levels, shares) if lev in responders)
        # the paper's count or its rate: a count the input has agrees even where the
        # printed percentage does not (the audit's percent_matches_count reports that)
        agrees = ((t.count is not None and key.endswith(".counts") and hits == t.count)
                  or (p is not None and p.lo - 1e-9 <= hits / total <= p.hi + 1e-9))
        shown = p.text if p is not None else f"{t.count:g} patients"
        printings.setdefault((key, responders, tuple(levels), tuple(shares)), []).append(
            (i, t, shown, agrees))
    for (key, responders, levels, shares), rows in printings.items():
        if any(agrees for *_, agrees in rows):
            continue
        i, t, _, _ = rows[0]
        total = sum(shares)
        hits = sum(s for lev, s in zip(levels, shares) if lev in responders)
        shown = ", ".join(f"{x.id} {text}" for _, x, text, _ in rows)
        probs.add(f"targets[{i}]", t.id,
                  f"the paper prints {shown} for arm {t.arm!r}, but cohort.toml's {key} "
                  f"{list(shares)} give {hits / total:.2%} ({'+'.join(responders)} of "
                  f"{total:g}): the generator would be calibrated to another number",
                  "response-input")
    return list(probs)
