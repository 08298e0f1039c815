"""The parts of ``tacebench check`` that go beyond parsing: build the study as ``replicate``
does, name targets by id, hint at mistyped arm labels, and list what will be judged.

``build_problems`` runs :func:`replications.reproduce.prepare`, the code path of every
replicate run (cohorts compiled and calibrated, a pilot cohort drawn, the analyses compiled
against its levels), so a folder ``check`` passes is a folder ``replicate`` can run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

from .analysis.problems import Problem, StudyError, raw_items, raw_table
from .targets.results import results_rows

__all__ = ["Judged", "build_problems", "label_problems", "arm_label_problems", "judged",
           "target_index"]

_ROW = re.compile(r"results\[\d+\]\.rows\[\d+\]")
_INDEXED = re.compile(r"^((targets|shifts)\[\d+\]|results\[\d+\]\.rows\[\d+\])(?! \(|\[)")


def build_problems(study, seed: int | None = None, worlds: str = "all", progress=None
                   ) -> tuple[object | None, list[Problem]]:
    """Build ``study`` as a run with root ``seed`` (default: replicate's) does, and each
    alternative world ``worlds`` selects (``replicate --worlds``); returns (the run's plan
    or None, problems). ``progress(done, total)``: told of the worlds built
    (:func:`~replications.robustness.world_build_problems`)."""
    # reproduce and robustness import check: import them at call time
    from .reproduce import DEFAULT_SEED, prepare
    from .robustness import world_build_problems
    try:
        _, plan = prepare(study, DEFAULT_SEED if seed is None else seed)
    except StudyError as exc:
        return None, list(exc.problems)
    return plan, [*plan.problems, *world_build_problems(study, worlds, progress=progress)]


def _keys(raw_targets: Mapping) -> dict[str, str]:
    """``{"targets[i]" / "shifts[j]": id}`` from the parsed targets.toml."""
    out = {}
    for table in ("targets", "shifts"):
        rows = raw_targets.get(table)
        for i, row in enumerate(raw_items(rows)):
            if isinstance(row, Mapping) and isinstance(row.get("id"), str):
                out[f"{table}[{i}]"] = row["id"]
    return out


def _row_ids(raw_targets: Mapping) -> dict[str, str]:
    """``{"results[i].rows[j]": "id"}`` (ids joined by ", " where a row of several arms
    stands for several targets), the ids the loader gives the rows."""
    out: dict[str, list[str]] = {}
    for key, row in results_rows(raw_targets):
        if isinstance(row.get("id"), str):
            place = _ROW.match(key).group(0)          # rows[j][k] (one per arm): row j
            out.setdefault(place, []).append(row["id"])
    return {k: ", ".join(v) for k, v in out.items()}


def target_index(raw_targets: Mapping) -> dict[str, str]:
    """``{target or shift id: "targets[i]" / "shifts[j]"}`` (the first entry of an id)."""
    out: dict[str, str] = {}
    for key, tid in _keys(raw_targets).items():
        out.setdefault(tid, key)
    for key, row in results_rows(raw_targets):          # results[i].rows[j] (id)
        if isinstance(row.get("id"), str):
            out.setdefault(row["id"], key.split(" (", 1)[0])
    return out


def label_problems(problems: Iterable[Problem], raw_targets: Mapping,
                   file_suffix: str = "targets.toml") -> list[Problem]:
    """Each ``targets[i]`` / ``shifts[j]`` / ``results[i].rows[j]`` key of a targets.toml
    problem followed by the entry's id (``targets[59] (os_hr_iptw).value``): an author
    finds a target by id."""
    ids = {**_keys(raw_targets), **_row_ids(raw_targets)}
    out = []
    for p in problems:
        m = _INDEXED.match(p.key) if p.file.endswith(file_suffix) else None
        tid = ids.get(m.group(0)) if m else None
        out.append(replace(p, key=f"{m.group(0)} ({tid}){p.key[m.end():]}") if tid else p)
    return out


def _close(label: str, arms: Sequence[str]) -> str | None:
    folded = [a for a in arms if a.casefold() == label.casefold()]
    return folded[0] if folded else None


def arm_label_problems(raw_targets: Mapping, arms: Sequence[str], file: str) -> list[Problem]:
    """An error for each ``arm`` / ``contrast`` label of targets.toml that matches an arm
    of cohort.toml only when letter case is ignored (labels are compared verbatim)."""
    out = []
    rows = raw_targets.get("targets")
    places = [(f"targets[{i}]", row) for i, row in enumerate(raw_items(rows))]
    for place, row in places + results_rows(raw_targets):
        if not isinstance(row, Mapping):
            continue
        labels = [("arm", row.get("arm"))]
        if isinstance(row.get("contrast"), list):
            labels += [(f"contrast[{k}]", v) for k, v in enumerate(row["contrast"])]
        for key, label in labels:
            if not isinstance(label, str) or label in arms:
                continue
            close = _close(label, arms)
            if close is not None:
                out.append(Problem(file, f"{place}.{key}", label,
                                   f"no arm is labelled {label!r}; did you mean {close!r}? "
                                   "Arm labels must match cohort.toml exactly, letter case "
                                   "included", "unknown-arm"))
    return out


@dataclass(frozen=True)
class Judged:
    """What a replicate run of the study will judge."""

    targets: tuple[tuple[str, str, str], ...]        # (id, analysis, quantity), simulated
    shifts: tuple[tuple[str, str, str], ...]         # (id, from, to)
    calibration: tuple[tuple[str, str, str], ...]    # (cohort key, target id, kind)


def judged(study, requests: Mapping) -> Judged:
    """The simulated targets bound to an analysis, the paired shifts between them and the
    calibration rows of cohort.toml."""
    targets = tuple((t.id, t.analysis, t.quantity) for t in study.targets.targets
                    if t.id in requests)
    shifts = tuple((s.id, s.from_, s.to) for s in study.targets.shifts
                   if s.from_ in requests and s.to in requests)
    rows = []
    for cname, c in raw_table(study.cohort_raw.get("cohorts")).items():
        for ep, out in raw_table(c.get("outcomes")).items():
            for k, cal in enumerate(raw_items(raw_table(out).get("calibrate"))):
                rows.append((f"cohorts.{cname}.outcomes.{ep}.calibrate[{k}]",
                             cal.get("target", ""), f"{ep} {cal.get('kind')}"))
        events = raw_table(c.get("censoring")).get("events")
        if isinstance(events, Mapping):
            rows.append((f"cohorts.{cname}.censoring.events", events.get("target", ""),
                         f"{events.get('endpoint')} events"))
    return Judged(targets, shifts, tuple(rows))
