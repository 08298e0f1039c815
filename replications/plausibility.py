"""Checks of a study folder that its parsers cannot make: encodings and plausibility.

- **Encoding.** Every study file must be UTF-8 without a byte-order mark (TOML's rule). A
  byte that is not UTF-8 is named by line, column and value; a byte-order mark is named
  as such (``tomllib`` would only say "Invalid statement (line 1, col 1)").
- **Plausibility** (warnings, each with its numbers): follow-up shorter than a calibrated
  median or landmark time (the simulated median is then censored: not observable), a
  covariate constant in every arm (no analysis can adjust for it), a target whose
  confidence interval is reversed or excludes its own estimate.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from tacebench.simulate.text_files import BOM, not_utf8

from .analysis.problems import MISSING, Problem, raw_items, raw_table

__all__ = ["encoding_problems", "followup_problems", "constant_problems",
           "interval_problems", "STUDY_TEXT_FILES"]

#: Every file of a study folder that a loader reads as text.
STUDY_TEXT_FILES = ("cohort.toml", "targets.toml", "analysis.toml", "worlds.toml")


def encoding_problems(folder: Path) -> list[Problem]:
    """An error for each study file that is not plain UTF-8 (file, line, column, byte).

    Parameters
    ----------
    folder : Path
        The study folder.

    Returns
    -------
    list of Problem
    """
    out = []
    for name in STUDY_TEXT_FILES:
        path = Path(folder) / name
        try:
            data = path.read_bytes()
        except OSError:
            continue             # absent files are the loaders' business
        if data.startswith(BOM):
            out.append(Problem(str(path), "line 1, column 1", MISSING, "the file starts "
                               "with a UTF-8 byte-order mark (bytes EF BB BF), which TOML "
                               "does not allow; save it as UTF-8 without BOM", "encoding"))
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.append(_decode_problem(path, data, exc))
    return out


def _decode_problem(path: Path, data: bytes, exc: UnicodeDecodeError) -> Problem:
    line, column, what = not_utf8(data, exc)
    return Problem(str(path), f"line {line}, column {column}", MISSING,
                   f"{what}; study files must be saved as UTF-8", "encoding")


def _cohorts(raw: Mapping):
    for name, c in raw_table(raw.get("cohorts")).items():
        if isinstance(c, Mapping):
            yield name, c


def followup_problems(raw: Mapping, file: str) -> list[Problem]:
    """A warning for each calibrated median or landmark time beyond the longest follow-up
    (``accrual + follow_up``) of its cohort."""
    out = []
    for name, c in _cohorts(raw):
        cens = c.get("censoring")
        if not isinstance(cens, Mapping):
            continue
        accrual, follow = cens.get("accrual", 0.0), cens.get("follow_up")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for v in (accrual, follow)):
            continue
        longest = float(accrual) + float(follow)
        for ep, e in raw_table(c.get("outcomes")).items():
            for k, cal in enumerate(raw_items(raw_table(e).get("calibrate"))):
                if not isinstance(cal, Mapping):
                    continue
                when = cal.get("value") if cal.get("kind") == "median" else cal.get("time")
                if isinstance(when, (int, float)) and not isinstance(when, bool) \
                        and when > longest:
                    what = ("median" if cal.get("kind") == "median"
                            else f"{cal.get('kind')} at")
                    out.append(Problem(
                        file, f"cohorts.{name}.censoring.follow_up", follow,
                        f"accrual {accrual:g} + follow-up {follow:g} = {longest:g} months is "
                        f"shorter than the calibrated {ep} {what} {when:g} months "
                        f"(outcomes.{ep}.calibrate[{k}], arm {cal.get('arm')!r}): no patient "
                        "is followed that long, so the simulated estimate is censored",
                        "short-follow-up", "warning"))
    return out


def _constant(summary: Mapping, n) -> str | None:
    """How an arm's summary makes the variable constant, or None."""
    if not isinstance(summary, Mapping):
        return None
    sd, count, p = summary.get("sd"), summary.get("count"), summary.get("p")
    shares = summary.get("counts") or summary.get("proportions")
    if sd == 0:
        return "sd = 0"
    if count is not None and count in (0, n):
        return f"count = {count} of {n}"
    if p in (0, 1):
        return f"p = {p}"
    if isinstance(shares, list) and sum(1 for s in shares if s) == 1:
        return f"every patient in one level ({shares})"
    return None


def constant_problems(raw: Mapping, file: str) -> list[Problem]:
    """A warning for each variable that is the same for every patient of every arm."""
    out = []
    for name, c in _cohorts(raw):
        # (a label that is not text is the cohort check's error, not a warning here)
        arms = {a["label"]: a.get("n") for a in raw_items(c.get("arms"))
                if isinstance(a, Mapping) and isinstance(a.get("label"), str)}
        for i, v in enumerate(raw_items(c.get("variables"))):
            if not isinstance(v, Mapping) or not isinstance(v.get("arms"), Mapping):
                continue
            why = {label: _constant(s, arms.get(label)) for label, s in v["arms"].items()}
            if why and all(why.values()) and len(why) == len(arms):
                out.append(Problem(
                    file, f"cohorts.{name}.variables[{i}] ({v.get('name')}).arms", MISSING,
                    "the variable is constant in every arm ("
                    + "; ".join(f"{a}: {w}" for a, w in why.items())
                    + "): it carries no information and no analysis can adjust for it",
                    "constant-covariate", "warning"))
    return out


def interval_problems(targets, file: str, index: Mapping[str, str]) -> list[Problem]:
    """A warning for each target whose confidence interval is reversed or excludes its own
    estimate (a transcription slip: the bounds swapped or a digit lost); ``index`` maps a
    target id to its key (``targets[3]``)."""
    out = []
    for t in getattr(targets, "targets", ()):
        if not t.ci:
            continue
        lo, hi = t.ci
        key = f"{index.get(t.id, 'targets')} ({t.id}).ci"
        if lo > hi:
            out.append(Problem(file, key, list(t.ci), f"the lower bound {lo:g} exceeds the "
                               f"upper bound {hi:g}: the interval is reversed",
                               "reversed-ci", "warning"))
        elif t.value is not None and not lo <= t.value <= hi:
            out.append(Problem(file, key, list(t.ci), f"the estimate {t.value:g} lies outside "
                               f"its interval [{lo:g}, {hi:g}]", "ci-excludes-estimate",
                               "warning"))
    return out

