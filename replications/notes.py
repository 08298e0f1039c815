"""Study-level notes of a reproduction run: replicates without a value, and diagnostics.

``notes`` count replicates per ``"<analysis>: <reason>"`` (the adjustment was not
estimable: every target of the analysis is NaN), ``"<analysis>/<target>: <reason>"`` (one
estimate), ``"<analysis>: <reason>: <detail>"`` (diagnostics of a reason) and
``"<analysis>: note: <reason>"`` (R warned and went on: no value is NaN). These functions
turn them into the report's ``Note:`` lines. They are counted on the declared reading of an
analysis only (its readings' reruns are not diagnosed): a line about an analysis with
readings names the declared one, since its numbers may be judged under another.
"""
from __future__ import annotations

from .analysis.kernels import DIAGNOSTICS, NOTE_KEY
from .verdicts import MIN_ESTIMABLE

__all__ = ["split_notes", "group_notes", "note_head", "diagnostic_lines", "note_lines"]


def split_notes(notes: dict) -> tuple[dict, dict]:
    """``(failures, diagnostics)``: the note counts of replicates without a value, and
    those of diagnostics that make no value NaN (keys ``"<analysis>: note: ..."``, R
    warned and went on), keyed without the ``note:`` marker."""
    failures, diagnostics = {}, {}
    for key, count in notes.items():
        where, _, rest = key.partition(": ")
        if rest.startswith(NOTE_KEY):
            diagnostics[f"{where}: {rest[len(NOTE_KEY):]}"] = count
        else:
            failures[key] = count
    return failures, diagnostics


def group_notes(counts: dict) -> dict[tuple, list[str]]:
    """Whole-analysis note counts ``"<analysis>: <reason>"`` (with their details
    ``"<analysis>: <reason>: <detail>"``) grouped as ``(reason, count, details) ->
    analyses``: analyses sharing one fit share one report line. ``details`` are
    ``(detail, count)``, most frequent first."""
    reasons = {k: v for k, v in counts.items()
               if not any(k.startswith(o + ": ") for o in counts if o != k)}
    grouped: dict[tuple, list[str]] = {}
    for key, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        name, _, reason = key.partition(": ")
        details = tuple(sorted(((k[len(key) + 2:], v) for k, v in counts.items()
                                if k.startswith(key + ": ")), key=lambda kv: (-kv[1], kv[0])))
        grouped.setdefault((reason, count, details), []).append(name)
    return grouped


def note_head(names, reason: str, count: int, reps: int, details) -> str:
    """'Note: a, b: reason in 5/200 replicates (detail in 4; ...)'."""
    diag = "; ".join(f"{d} in {v}" for d, v in details[:3])
    more = "; ..." if len(details) > 3 else ""
    return (f"Note: {', '.join(names)}: {reason} in {count}/{reps} replicates"
            + (f" ({diag}{more})" if diag else ""))


def diagnostic_lines(diagnostics: dict, reps: int, declared: dict | None = None) -> list[str]:
    """One line per diagnostic: its count, its most frequent details and what the analysis
    does about it, e.g. 'Note: iptw: propensity model separated in 200/200 replicates (no
    control patient with g = 1 in 199): ... as R's glm, the analysis uses them';
    ``declared`` (analysis -> its declared reading) as in :func:`note_lines`."""
    return [note_head(_named(names, declared), reason, count, reps, details) + ": "
            + DIAGNOSTICS.get(reason, "a diagnostic; the values are computed")
            for (reason, count, details), names in group_notes(diagnostics).items()]


def _named(names, declared: dict | None) -> list[str]:
    """Analysis names, each with the reading its notes were counted under when it has
    readings: ``iptw (declared reading stabilized=false)``."""
    return [f"{n} (declared reading {declared[n]})" if declared and n in declared else n
            for n in names]


def note_lines(notes: dict, reps: int, limit: int = 6, declared: dict | None = None
               ) -> list[str]:
    """Study-level lines about replicates without a value.

    An analysis whose adjustment is not estimable in some replicates gets one line with
    its reason and diagnostics; when that leaves fewer than ``MIN_ESTIMABLE`` of the
    replicates, the line says that the published numbers of that analysis cannot come
    from its model on a cohort like the published one. Per-estimate reasons follow,
    grouped by reason: 'reason: up to N replicates (analyses ...)'. Diagnostics that
    are not failures (:func:`diagnostic_lines`) come last. ``declared`` maps an analysis
    with readings to its declared reading's label: the notes describe that reading.
    """
    notes, diagnostics = split_notes(notes)
    whole = {k: v for k, v in notes.items() if "/" not in k.partition(": ")[0]}
    lines = []
    for (reason, count, details), names in group_notes(whole).items():
        line = note_head(_named(names, declared), reason, count, reps, details)
        if count > (1 - MIN_ESTIMABLE) * reps:
            line += (": the model has no estimate on most cohorts like the published one, "
                     "so its published numbers are not judged ('not estimable')")
        else:
            line += f": verdicts use the {reps - count} estimable replicates"
        lines.append(line)
    by: dict[str, list] = {}
    for key, count in notes.items():
        where, _, reason = key.partition(": ")
        if "/" in where:
            by.setdefault(reason, []).append((where, count))
    for reason, items in sorted(by.items(), key=lambda kv: -max(c for _, c in kv[1])):
        names = _named(sorted({w.split("/")[0] for w, _ in items}), declared)
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        lines.append(f"Note: {reason}: up to {max(c for _, c in items)}/{reps} replicates "
                     f"({shown})")
    return lines[:limit] + diagnostic_lines(diagnostics, reps, declared)[:limit]
