"""What a study declares about how its targets are judged, beside the numbers themselves.

``mislabel`` (a key of one ``[[targets]]`` entry): the paper prints the number under the
wrong label, e.g. a disease control rate called "ORR" in the Discussion. The target keeps
the printed label (its quote, id and ``same_as`` stay as printed, so the audit keeps its
finding) and is judged as the quantity the paper's own data show it is.

``[[expected_failures]]``: a simulated target (or shift) known to fail, with the reason and
the audit finding or the analysis behind it; ``tacebench replicate --strict`` accepts it
while it fails and rejects the declaration once the target reproduces.
"""
from __future__ import annotations

from typing import Any, Mapping

from tacebench.replications.analysis.problems import MISSING, Problems, raw_items

from .fields import sub_table, text_value, unknown_keys
from .model import MISLABEL_FIELDS, QUANTITIES, ExpectedFailure, Mislabel, Target

__all__ = ["MISLABEL_KEYS", "EXPECTED_FAILURE_KEYS", "parse_mislabel", "check_mislabel_endpoints",
           "parse_expected_failures"]

MISLABEL_KEYS = frozenset({"printed", "is", "reason", "finding"})
EXPECTED_FAILURE_KEYS = frozenset({"target", "reason", "finding", "evidence"})


def parse_mislabel(raw: Mapping, endpoint: str | None, quantity: str | None, path: str,
                   probs: Problems) -> Mislabel | None:
    """The ``mislabel`` table of one raw target, or None (absent or with problems).

    Parameters
    ----------
    raw : Mapping
        The raw ``[[targets]]`` entry.
    endpoint, quantity : str or None
        The target's endpoint and quantity as printed: ``mislabel.printed`` must be one of
        them, which says which key the mislabel corrects.
    path : str
        The entry's location (``targets[3]``) for messages.
    probs : Problems
        Where problems are recorded.

    Returns
    -------
    Mislabel or None
    """
    n0, mpath = len(probs), f"{path}.mislabel"
    m = sub_table(raw, "mislabel", MISLABEL_KEYS, probs, path, "{printed, is, reason, finding}")
    if m is None:
        return None
    printed = text_value(m, "printed", probs, mpath, required=True)
    actual = text_value(m, "is", probs, mpath, required=True, snake=True)
    reason = text_value(m, "reason", probs, mpath, required=True)
    finding = text_value(m, "finding", probs, mpath, required=True, snake=True)
    labels = {"endpoint": endpoint, "quantity": quantity}
    key = next((k for k in MISLABEL_FIELDS if printed is not None and labels[k] == printed),
               None)
    if printed is not None and key is None:
        probs.add(f"{mpath}.printed", printed, f"must be the label the quote prints: this "
                  f"target's endpoint ({endpoint!r}) or quantity ({quantity!r})",
                  "malformed-value")
    if printed is not None and printed == actual:
        probs.add(f"{mpath}.is", actual, "is the printed label itself: a mislabel names the "
                  "other quantity the number is", "malformed-value")
    elif key == "quantity" and actual is not None and actual not in QUANTITIES:
        probs.add(f"{mpath}.is", actual, f"is not a quantity; must be one of "
                  f"{sorted(QUANTITIES)}", "unknown-value")
    if len(probs) > n0:
        return None
    return Mislabel(key, printed, actual, reason, finding)


def check_mislabel_endpoints(targets: list[tuple[str, Target]], raws: list[tuple[str, Any]],
                             probs: Problems) -> None:
    """An endpoint mislabel must name an endpoint the paper reports elsewhere in the file:
    what the number really is has to come from the paper's own data."""
    printed = {raw.get("endpoint") for _, raw in raws
               if isinstance(raw, Mapping) and isinstance(raw.get("endpoint"), str)}
    for path, t in targets:
        m = t.mislabel
        if m is not None and m.key == "endpoint" and m.actual not in printed:
            probs.add(f"{path}.mislabel.is", m.actual, "names no endpoint of this file's "
                      f"targets {sorted(printed)}: the paper "
                      "must report the quantity the number is", "unknown-value")


def parse_expected_failures(data: Mapping, seen: Mapping[str, str],
                            by_id: Mapping[str, Target], shift_ids: set[str],
                            probs: Problems) -> tuple[ExpectedFailure, ...]:
    """The ``[[expected_failures]]`` tables.

    Parameters
    ----------
    data : Mapping
        The whole parsed file.
    seen : Mapping
        Every target id of the file (also of targets with problems) -> its location.
    by_id : Mapping
        The targets parsed without problems, by id.
    shift_ids : set of str
        The ids of the file's shifts.
    probs : Problems
        Where problems are recorded.

    Returns
    -------
    tuple of ExpectedFailure
    """
    out, where = [], {}
    items = data.get("expected_failures")
    for i, raw in enumerate(raw_items(items)):
        path = f"expected_failures[{i}]"
        if not isinstance(raw, Mapping):
            probs.add(path, raw, "must be a table", "malformed-value")
            continue
        n0 = len(probs)
        unknown_keys(raw, EXPECTED_FAILURE_KEYS, probs, path)
        tid = text_value(raw, "target", probs, path, required=True, snake=True)
        reason = text_value(raw, "reason", probs, path, required=True)
        finding = text_value(raw, "finding", probs, path, snake=True)
        evidence = text_value(raw, "evidence", probs, path)
        if "finding" not in raw and "evidence" not in raw:
            probs.add(f"{path}.finding", MISSING, "an expected failure needs the audit "
                      "finding (finding) or the analysis (evidence) behind it", "missing-key")
        if tid is not None and tid not in seen and tid not in shift_ids:
            probs.add(f"{path}.target", tid, "names no target or shift in this file",
                      "unknown-target")
        elif tid in by_id and by_id[tid].role == "reported":
            probs.add(f"{path}.target", tid, "is a 'reported' target: it is audited, never "
                      "judged, so it cannot fail", "malformed-value")
        if tid in where:
            probs.add(f"{path}.target", tid, f"is declared twice (also {where[tid]})",
                      "duplicate-id")
        where.setdefault(tid, path)
        if len(probs) == n0:
            out.append(ExpectedFailure(tid, reason, finding, evidence))
    return tuple(out)
