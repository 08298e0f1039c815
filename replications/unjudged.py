"""What kind of number each ``reported`` target is: an input, computed, or not computed.

A ``role = "reported"`` number is audited and never judged against the simulation. That
one role holds three different things, which the accounting and ``tacebench check`` tell
apart:

- **input**: the cohort is drawn from it or the generator is given it, so judging it
  would count a copy as a reproduction: a cell of a ``calibration`` Table 1 column, a
  ``[[baseline]]`` row, a covariate's share, mean or median in an arm of an unadjusted
  whole-cohort analysis (the cohort's variables are drawn from them) and its SMD between
  the arms there (a function of those distributions), a hazard ratio
  cohort.toml's ``effects``, ``treatment_hr``, ``associations`` or the response block's
  ``os_hr_pd`` give the generator (:mod:`replications.effect_inputs`), a response rate or odds ratio of the response
  shares it is fed (:mod:`replications.response_inputs`), a whole arm's size (or its
  assessed patients, when the response input is counts: their sum), and a ``same_as``
  repeat of a calibration target or of any of these;
- **computed**: not an input, and an analysis of the study computes it: declared
  ``predicted``, it would bind to an estimate of that analysis (the binder of ``check``
  and of every run, :func:`replications.analysis.compile.bind_target`, on the declared
  reading). Left reported, it needs ``not_judged = "<reason>"``: ``check`` refuses it
  without one, and the accounting lists the reasons;
- **not computed**: the rest: p-values of tests the run does not compute, adverse events,
  quantities no analysis makes.

A ``same_as`` repeat of a predicted or calibration number is judged as that number and is
not classified; a repeat of another reported number takes its kind and reason (one number,
quoted twice, is one number).
"""
from __future__ import annotations

from typing import Mapping

from .analysis.compile import SIMULATED_ROLES, bind_target
from .analysis.problems import Problem, Problems, RoleFix, raw_items, raw_table
from .effect_inputs import effect_input_keys
from .reported import Kind, Reported
from .response_inputs import _inputs as response_shares, response_input_keys
from .strict import plain_reason
from .targets.table import study_table_cells

__all__ = ["Kind", "Reported", "classify_reported", "table_cells", "unjudged_problems"]


#: A covariate's summaries in an unadjusted analysis of the whole cohort, which the drawn
#: distributions fix: its share, mean or median in an arm, and its SMD between the arms
#: (a function of the two arms' distributions).
_COVARIATE_SUMMARIES = ("proportion", "mean", "median", "balance")
#: Adjustments whose sample drops patients (weighting keeps every patient of an arm).
_MATCHING = ("psm", "exact")


def _root(t, by_id: Mapping):
    """The target a ``same_as`` chain of ``t`` ends at (``t`` itself without one)."""
    seen = {t.id}
    while t.same_as and t.same_as in by_id and t.same_as not in seen:
        t = by_id[t.same_as]
        seen.add(t.id)
    return t


def _dry_run(t, i: int, compiled: Mapping, plan) -> tuple[object | None, Problems]:
    """Bind ``t`` as if it were simulated: its Request (or None) and the binder's problems."""
    probs = Problems("targets.toml")
    return bind_target(t, i, compiled, plan, probs), probs


def _variables(raw: Mapping, cohort: str) -> set[str]:
    rows = raw_table(raw_table(raw.get("cohorts")).get(cohort)).get("variables")
    return {v["name"] for v in raw_items(rows)
            if isinstance(v, Mapping) and isinstance(v.get("name"), str)}


def _drawn_input(t, req, raw: Mapping, plan) -> str | None:
    """What of cohort.toml fixes ``t`` when it is a whole arm's size or a covariate's
    summary in an unadjusted whole-cohort analysis (None otherwise)."""
    analysis = plan.get(t.analysis)
    steps = {step.kind for step in analysis.population} - {"all"}
    if t.weighted or (req.estimate == "group_size" and analysis.method in _MATCHING):
        return None
    if req.estimate == "group_size" and not steps:
        return f"the arm sizes of cohort.toml's cohort {analysis.cohort!r}"
    if req.estimate == "group_size" and steps == {"response_assessed"}:
        return _assessed(raw, analysis.cohort, t.arm)
    if steps:
        return None
    variable = req.term_model.parts[0].term.variable if req.term_model else t.term
    if (req.estimate in _COVARIATE_SUMMARIES and analysis.method == "none"
            and variable in _variables(raw, analysis.cohort)):
        return (f"the distribution of variable {variable!r} the cohort {analysis.cohort!r} is "
                "drawn from (cohort.toml)")
    return None


def _assessed(raw: Mapping, cohort: str, arm: str | None) -> str | None:
    """The response counts that fix the assessed patients of ``arm`` (all arms: None)."""
    counts = {a: found.key for (c, column, a), found in response_shares(raw).items()
              if c == cohort and column == "response" and found.key.endswith(".counts")}
    arms = [a.get("label") for a in raw_items(raw_table(raw_table(raw.get("cohorts")).get(
        cohort)).get("arms")) if isinstance(a, Mapping)]
    wanted = arms if arm is None else [arm]
    if not wanted or any(a not in counts for a in wanted):
        return None
    return (f"the response counts of cohort.toml's {', '.join(counts[a] for a in wanted)} "
            "(their sum is the assessed patients)")


def _input_of(t, req, place: str, cells: Mapping, given: Mapping, raw: Mapping,
              plan) -> str | None:
    """Why ``t`` is an input of the generator, or None."""
    cell = cells.get(t.id)
    if cell is not None and cell[0] == place and cell[2].role == "calibration":
        return f"a cell of the calibration column {cell[1]} of Table 1"
    if place.startswith("baseline["):
        return "a [[baseline]] row: the Table 1 share the cohort is drawn from"
    if t.id in given:
        return given[t.id]
    return None if req is None else _drawn_input(t, req, raw, plan)


def _misspelt(t, probs: Problems, compiled: Mapping) -> str | None:
    """What ``t``, not bound, lacks when it is an HR whose ``term`` its analysis's model
    does not have: the model's terms, or the binder's words for a model of its own."""
    if t.quantity != "hr" or not t.term or t.analysis not in compiled:
        return None
    why = next((p.message for p in probs if p.key.endswith(".term")), None)
    if why is None:
        return None
    outcome = compiled[t.analysis].adjustment.outcome_terms
    if outcome is not None:
        return (f"term {t.term!r} is not a term of analysis {t.analysis!r}'s model "
                f"{list(outcome.names)}")
    return plain_reason(why)


def table_cells(folder) -> dict:
    """:func:`~replications.targets.table.study_table_cells` of a study folder, or nothing
    when there is no folder or its Table 1 does not read (its own loader says why)."""
    import tomllib
    if folder is None:
        return {}
    try:
        return study_table_cells(folder)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError, KeyError,
            TypeError):
        return {}


def classify_reported(raw: Mapping, targets, plan, compiled: Mapping,
                      cells: Mapping | None = None) -> dict[str, Reported]:
    """The kind of every reported target of ``targets`` (module docstring).

    Parameters
    ----------
    raw : Mapping
        The parsed cohort.toml (Table 1 expanded into variables).
    targets : StudyTargets
        The parsed targets.toml (its ``places`` tell [[baseline]] rows and Table 1 cells).
    plan : AnalysisPlan
        The parsed analysis.toml.
    compiled : Mapping
        Analysis name -> compiled analysis, the declared reading
        (:func:`replications.binding.bind_study`).
    cells : Mapping, optional
        Target id -> (place, column key, TableColumn) of the Table 1 cells
        (:func:`replications.targets.table.study_table_cells`).

    Returns
    -------
    dict
        Target id -> :class:`Reported`, in file order; repeats of simulated numbers left out.
    """
    if targets is None or not getattr(plan, "readable", False):
        return {}
    cells = cells or {}
    by_id = {t.id: t for t in targets.targets}
    reported = [(i, t) for i, t in enumerate(targets.targets) if t.role == "reported"]
    bound, why_not, misspelt = {}, {}, {}
    for i, t in reported:
        req, probs = _dry_run(t, i, compiled, plan)
        if req is not None:
            bound[t.id] = (t.analysis, req)
            continue
        why_not[t.id] = next((plain_reason(p.message) for p in probs),
                             "no analysis computes it")
        misspelt[t.id] = _misspelt(t, probs, compiled)
    given = {tid: f"cohort.toml's {key} ({what})"
             for tid, (key, what) in effect_input_keys(raw, targets, compiled, bound).items()}
    given.update((tid, f"the response shares of cohort.toml's {key}") for tid, key in
                 response_input_keys(raw, targets, plan, bound).items() if tid not in given)
    out: dict[str, Reported] = {}
    for _, t in reported:
        root = _root(t, by_id)
        if root is not t and root.role in SIMULATED_ROLES:
            if root.role == "calibration":
                out[t.id] = Reported(t.id, Kind.INPUT, f"repeats calibration target "
                                     f"{root.id!r}", original=root.id)
            continue
        req = bound.get(t.id, (None, None))[1]
        place = targets.places.get(t.id, "")
        column = cells[t.id][1] if t.id in cells and cells[t.id][0] == place else None
        given_by = _input_of(t, req, place, cells, given, raw, plan)
        if given_by is not None:
            out[t.id] = Reported(t.id, Kind.INPUT, given_by, column=column,
                                 reason=t.not_judged)
        elif req is not None:
            out[t.id] = Reported(t.id, Kind.COMPUTED, f"estimate {req.estimate!r}",
                                 t.analysis, column, t.not_judged)
        else:
            out[t.id] = Reported(t.id, Kind.NOT_COMPUTED, why_not.get(t.id, ""),
                                 column=column, reason=t.not_judged,
                                 misspelt=misspelt.get(t.id))
    for tid, r in list(out.items()):         # a repeat of a reported number: its original's
        root = _root(by_id[tid], by_id)
        if root.id != tid and root.id in out and r.original is None:
            o = out[root.id]
            out[tid] = Reported(tid, o.kind, o.why, o.analysis, r.column, o.reason, root.id,
                                r.misspelt)
    return out


_FIX = "set role = \"predicted\" to judge it, or not_judged = \"<reason>\" to say why not"


def unjudged_problems(kinds: Mapping[str, Reported], places: Mapping[str, str],
                      targets_file: str, cohort_file: str) -> list[Problem]:
    """An error for each computed reported number without a ``not_judged`` reason (once per
    Table 1 column for its cells), and a warning for each reported HR whose term its
    analysis's model does not have (a misspelt term hides a computable number).

    Parameters
    ----------
    kinds : Mapping
        :func:`classify_reported`'s result.
    places : Mapping
        Target id -> its place in targets.toml (``StudyTargets.places``).
    targets_file, cohort_file : str
        The paths, for the messages.

    Returns
    -------
    list of Problem
    """
    out: list[Problem] = []
    columns: dict[str, list[Reported]] = {}
    reasoned: dict[str, list[Reported]] = {}    # Table 1 columns with a not_judged
    for r in kinds.values():
        if r.column is not None and r.reason is not None and r.original is None:
            reasoned.setdefault(r.column, []).append(r)
        if r.kind is Kind.COMPUTED and r.reason is None and r.original is None:
            if r.column is not None:
                columns.setdefault(r.column, []).append(r)
                continue
            out.append(Problem(targets_file, f"{places.get(r.id, r.id)}.role", "reported",
                               f"{r.id!r} is computed by analysis {r.analysis!r} "
                               f"({r.why}) but is neither judged nor says why: {_FIX}",
                               "unjudged-computed", fix=RoleFix(r.id, "predicted")))
        if r.kind is not Kind.COMPUTED and r.reason is not None and r.original is None \
                and r.column is None:
            what = "an input" if r.kind is Kind.INPUT else "not computed by the run"
            out.append(Problem(targets_file, f"{places.get(r.id, r.id)}.not_judged", r.reason,
                               f"{r.id!r} is {what} ({r.why}): not_judged is the reason a "
                               "computed number is "
                               "not judged; this one is counted with its kind, so the key "
                               "says nothing here", "unjudged-reason", "warning"))
        if r.misspelt is not None and r.original is None:
            out.append(Problem(targets_file, f"{places.get(r.id, r.id)}.term", r.id,
                               f"reported HR {r.id!r}: {r.misspelt}; a different spelling? "
                               "add an [aliases] entry to analysis.toml", "unjudged-term",
                               "warning"))
    for key, rows in columns.items():
        analyses = sorted({r.analysis for r in rows})
        out.append(Problem(cohort_file, key, f"{len(rows)} cells",
                           f"the cells of this reported Table 1 column (e.g. {rows[0].id!r}) "
                           f"are computed by analysis {', '.join(map(repr, analyses))} but "
                           "are neither judged nor say why: set role = \"predicted\" on the "
                           "column to judge them, or not_judged = \"<reason>\"",
                           "unjudged-computed", fix=RoleFix(key, "predicted", column=True)))
    for key, rows in reasoned.items():
        if all(r.kind is not Kind.COMPUTED for r in rows):
            n_in = sum(r.kind is Kind.INPUT for r in rows)
            out.append(Problem(cohort_file, f"{key}.not_judged", rows[0].reason,
                               f"no cell of this column is computed by an analysis ({n_in} "
                               f"inputs, {len(rows) - n_in} not computed, e.g. "
                               f"{rows[0].id!r}): not_judged is the reason computed numbers "
                               "are not judged; these are counted with their kinds, so the "
                               "key says nothing here", "unjudged-reason", "warning"))
    return out
