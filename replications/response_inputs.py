"""Response rates that are inputs of the generator: calibration, not prediction.

The generator draws each arm's tumour response from the shares ``cohort.toml`` declares
(the ``[response]`` block's counts or proportions, or a ``[response_columns.*]`` column's).
A response rate the generator is fed is fitted by construction: declared ``role =
"predicted"`` it counted among the "predicted reproduced" numbers, though it was copied
into the generator. And an input that is not the paper's number (70 responders where the
paper prints 58 of 150) calibrates the cohort to another paper. ``tacebench check``
reports both, naming the target and the input.

Which targets are the input's printing:

- an unadjusted rate of the whole arm (or of its assessed patients) of the input's
  cohort: whatever its quote, the generator draws exactly this population's shares;
- a rate whose quote and the input block's ``source`` are the same printing: one
  contains the other (whitespace aside). A paper that reports response only for a
  matched or weighted cohort leaves nothing else to transcribe, and its shares stand in
  for the whole cohort's: the matched rate then sits on the input by construction (the
  matched patients are drawn from a cohort with those shares).

An odds ratio of two such rates is a function of the inputs only: the unadjusted odds
ratio of arms A and B is ``(a / (1 - a)) / (b / (1 - b))`` of their response shares. A
predicted ``odds_ratio`` is therefore an error too when both arms of its contrast have an
input and the analysis is unadjusted over the input's whole cohort (no matching,
weighting, outcome covariates or partial population), or when its outcome model has no
covariates and the analysis is transcribed into both arms' inputs (below): the input
fixes it as surely as it fixes the rates.

An analysis is *transcribed* into an arm's input when a target of it is the input's
printing by quote and agrees with the input (below); when an unadjusted whole-arm
analysis is among them, the input is that analysis's, and the others are not (a table
that prints the crude and matched columns in one row). Then:

- a predicted target is an error (give it ``role = "calibration"``) when it is an
  unadjusted whole-arm rate of the input's cohort, or a rate of a transcribed analysis
  that agrees with the input, whatever its population or weighting (the ORR and DCR the
  text restates from a transcribed table are its sums of the input's shares);
- a group of the input's printings of one rate (one arm, one set of responding levels)
  none of which agrees with the input is an error.

A rate *agrees* with the input when the input's responders are the count the paper
prints for the arm (an unweighted count, against counts; a count of 0 against shares too)
or their share is within the rounding interval of the printed rate. A genuinely predicted matched or weighted rate is
not refused merely for equalling the whole cohort's: its quote is not the input's
source, so its analysis is not transcribed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .analysis.problems import Problem, Problems, RoleFix, raw_table
from .audit.rounding import printed
from .calibration_inputs import _population

__all__ = ["response_input_keys", "response_input_problems"]


@dataclass(frozen=True)
class _Input:
    """One arm's declared response shares."""

    key: str                # cohort.toml key of the shares
    levels: tuple
    shares: tuple
    source: str             # the block's quote ("" when none)


@dataclass(frozen=True)
class _Rate:
    """A response-rate target with an input for its arm, and how it relates to it."""

    index: int
    target: object
    found: _Input
    responders: tuple
    whole: bool             # an unadjusted rate of the whole arm of the input's cohort
    quoted: bool            # its quote and the input's source are one printing
    agrees: bool | None     # None: nothing printed to compare
    shown: str


def _inputs(raw: Mapping) -> dict[tuple[str, str, str], _Input]:
    """``(cohort, column, arm) -> _Input`` of every declared response input; ``column``
    is ``"response"`` for the ``[response]`` block."""
    out = {}
    for cname, cohort in raw_table(raw.get("cohorts")).items():
        if not isinstance(cohort, Mapping):
            continue
        blocks = [("response", cohort.get("response"), f"cohorts.{cname}.response")]
        blocks += [(name, col, f"cohorts.{cname}.response_columns.{name}")
                   for name, col in raw_table(cohort.get("response_columns")).items()]
        for column, block, key in blocks:
            if not isinstance(block, Mapping) or not isinstance(block.get("arms"), Mapping):
                continue
            levels = block.get("levels")
            if not isinstance(levels, list):     # (none, or the cohort check's error)
                continue
            source = block.get("source") if isinstance(block.get("source"), str) else ""
            for arm, entry in block["arms"].items():
                shares = entry.get("counts", entry.get("proportions")) if isinstance(
                    entry, Mapping) else None
                if isinstance(shares, list) and len(shares) == len(levels):
                    which = "counts" if "counts" in entry else "proportions"
                    out[(cname, column, str(arm))] = _Input(
                        f"{key}.arms.{arm}.{which}", tuple(levels), tuple(shares), source)
    return out


def _one_printing(a: str, b: str) -> bool:
    """Whether two quotes are one printing: one contains the other, whitespace aside."""
    a, b = " ".join((a or "").split()), " ".join((b or "").split())
    return bool(a and b) and (a in b or b in a)


def _responders(found: _Input, responders: tuple) -> tuple[float, float]:
    """The input's responders among ``responders`` and its total."""
    return (sum(s for lev, s in zip(found.levels, found.shares) if lev in responders),
            sum(found.shares))


def _agreement(t, found: _Input, responders: tuple) -> tuple[bool | None, str]:
    """Whether the input gives ``t``'s printed count or rate (None: nothing printed),
    and the printing in words."""
    p = printed(t, "value")
    hits, total = _responders(found, responders)
    if not total or (p is None and t.count is None):
        return None, ""
    shown = p.text if p is not None else f"{t.count:g} patients"
    count = t.count if not t.weighted else None
    if p is None and not found.key.endswith(".counts") and count != 0:
        return None, shown      # a count against shares: no arm size to compare with
    # the paper's count or its rate: a count the input has agrees even where the printed
    # percentage does not (the audit's percent_matches_count reports that); no
    # responders agree with a count of 0 whatever the shares' scale
    agrees = ((count is not None and (found.key.endswith(".counts") or count == 0)
               and hits == count)
              or (p is not None and p.lo - 1e-9 <= hits / total <= p.hi + 1e-9))
    return agrees, shown


def _rates(inputs: Mapping, targets, plan, requests: Mapping) -> list[_Rate]:
    """Every response-rate target whose arm has an input."""
    out = []
    for i, t in enumerate(targets.targets):
        bound = requests.get(t.id)
        # (a declared mislabel is judged as its true quantity: bound is that quantity)
        if bound is None or bound[1].estimate != "response_rate":
            continue
        analysis = plan.get(t.analysis)
        endpoint = plan.response.get(t.endpoint)
        found = None if endpoint is None else inputs.get(
            (analysis.cohort, endpoint.column, str(t.arm)))
        if found is None:
            continue
        whole = _unadjusted_whole(t, analysis)
        responders = (t.level,) if endpoint.levels == "level" else tuple(endpoint.levels)
        agrees, shown = _agreement(t, found, responders)
        out.append(_Rate(i, t, found, responders, whole, _one_printing(t.source, found.source),
                         agrees, shown))
    return out


def _transcribed(rates: list[_Rate]) -> dict[str, dict[str, _Rate]]:
    """Input key -> {analysis: the target whose quote links it} of the analyses whose
    printing the input is (module docstring)."""
    claims: dict[str, dict[str, _Rate]] = {}
    for r in rates:
        if r.quoted and r.agrees:
            claims.setdefault(r.found.key, {}).setdefault(r.target.analysis, r)
    wholes = {key: {a for a, r in by.items() if r.whole} for key, by in claims.items()}
    return {key: {a: r for a, r in by.items() if not wholes[key] or a in wholes[key]}
            for key, by in claims.items()}


def _unadjusted_whole(t, analysis) -> bool:
    """Whether ``t`` is an unweighted number of the input's whole cohort, unadjusted."""
    return (not t.weighted and not t.mislabel and _population(analysis) is None
            and analysis.method == "none")


def _determined_odds_ratios(inputs: Mapping, targets, plan, requests: Mapping,
                            transcribed: Mapping, roles=("predicted",)
                            ) -> list[tuple[int, object, list[str]]]:
    """``(index, target, input keys)`` of the odds ratios of ``roles`` that are functions
    of two arms' response inputs only (module docstring)."""
    out = []
    for i, t in enumerate(targets.targets):
        bound = requests.get(t.id)
        if (t.role not in roles or bound is None or bound[1].estimate != "odds_ratio"
                or not t.contrast):
            continue
        analysis = plan.get(t.analysis)
        endpoint = plan.response.get(t.endpoint)
        found = [None if endpoint is None else inputs.get(
            (analysis.cohort, endpoint.column, str(arm))) for arm in t.contrast]
        if any(f is None for f in found):
            continue
        plain = not (analysis.options or {}).get("outcome_covariates")
        if _unadjusted_whole(t, analysis) or (plain and all(
                t.analysis in transcribed.get(f.key, {}) for f in found)):
            out.append((i, t, [f.key for f in found]))
    return out


def response_input_keys(raw: Mapping, targets, plan, requests: Mapping) -> dict[str, str]:
    """Target id -> the cohort.toml key of the response shares it prints or is a function
    of, for every target of ``targets`` bound in ``requests`` (whatever its role) that the
    generator is fed (the module docstring's rates and odds ratios)."""
    inputs = _inputs(raw)
    if not inputs or targets is None or not getattr(plan, "readable", False):
        return {}
    rates = _rates(inputs, targets, plan, requests)
    transcribed = _transcribed(rates)
    out = {r.target.id: r.found.key for r in rates if r.whole or (
        r.agrees and r.target.analysis in transcribed.get(r.found.key, {}))}
    for _, t, keys in _determined_odds_ratios(inputs, targets, plan, requests, transcribed,
                                              roles=("calibration", "predicted", "reported")):
        out.setdefault(t.id, " and ".join(keys))
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
    rates = _rates(inputs, targets, plan, requests)
    transcribed = _transcribed(rates)
    for r in rates:
        t, key = r.target, r.found.key
        if t.role != "predicted":
            continue
        if r.whole:
            probs.add(f"targets[{r.index}].role", t.role,
                      f"{t.id!r} is an unadjusted response rate of arm {t.arm!r}, whose "
                      f"response shares are an input of cohort.toml ({key}): it is fitted "
                      "by construction, not predicted; give it role = \"calibration\"",
                      "response-input", fix=RoleFix(t.id, "calibration"))
        elif r.agrees and t.analysis in transcribed.get(key, {}):
            link = transcribed[key][t.analysis].target
            probs.add(f"targets[{r.index}].role", t.role,
                      f"{t.id!r} ({r.shown}) is a response rate of arm {t.arm!r} in "
                      f"{t.analysis!r}, and cohort.toml's {key} are that analysis's printing "
                      f"({link.id!r} quotes its source): the generator is fed this number, "
                      "so it is fitted, not predicted; give it role = \"calibration\"",
                      "response-input", fix=RoleFix(t.id, "calibration"))
    for i, t, keys in _determined_odds_ratios(inputs, targets, plan, requests, transcribed):
        probs.add(f"targets[{i}].role", t.role,
                  f"{t.id!r} is the odds ratio of two response rates, arms {t.contrast[0]!r} "
                  f"and {t.contrast[1]!r} in {t.analysis!r}, whose shares are inputs of "
                  f"cohort.toml ({' and '.join(keys)}): a function of the inputs only, it is "
                  "fitted by construction, not predicted; give it role = \"calibration\"",
                  "response-input", fix=RoleFix(t.id, "calibration"))
    # (input key, responders) -> printings: a paper that prints one rate twice,
    # differently, has an inconsistency for the audit (same_as_agree); the input is
    # wrong only when it agrees with none of its printings
    printings: dict[tuple, list[_Rate]] = {}
    for r in rates:
        if (r.whole or r.quoted) and r.agrees is not None:
            printings.setdefault((r.found, r.responders), []).append(r)
    for (found, responders), rows in printings.items():
        if any(r.agrees for r in rows):
            continue
        first = rows[0]
        hits, total = _responders(found, responders)
        shown = ", ".join(f"{r.target.id} {r.shown}" for r in rows)
        probs.add(f"targets[{first.index}]", first.target.id,
                  f"the paper prints {shown} for arm {first.target.arm!r}, but cohort.toml's "
                  f"{found.key} {list(found.shares)} give {hits / total:.2%} "
                  f"({'+'.join(responders)} of {total:g}): the generator would be "
                  "calibrated to another number", "response-input")
    return list(probs)
