"""``tacebench check``: validate a study folder, listing every problem.

Checks, each problem naming the file, the key (with the target id in targets.toml) and the
value:

- each file is UTF-8 without a byte-order mark (:mod:`replications.plausibility`);
- each file parses (cohort.toml by simulate's loader, targets.toml by the targets loader,
  analysis.toml by the analysis-plan parser: unknown analysis kinds, options, estimates);
- every analysis uses covariates, endpoints and arms the cohort generates;
- every simulated target (role ``calibration`` / ``predicted``) names an analysis that
  exists and lists the estimate its quantity needs; targets the vocabulary cannot compute
  are warnings (their verdict will be ``not estimable``);
- every paired shift joins two simulated targets;
- every reported number an analysis computes says why it is not judged (``not_judged``),
  and a reported HR whose term its analysis's model lacks is a warning
  (:mod:`replications.unjudged`);
- every calibration target named in ``cohort.toml`` exists in ``targets.toml`` with the
  same value, arm, endpoint and time, and comes from a whole-cohort analysis (not a
  matched, weighted or partial population: :mod:`replications.calibration_inputs`);
- every audit ``finding`` a ``mislabel`` or an expected failure names is a rule of the audit;
- every declared ``misprint`` corrects something: the audit finds the print wrong, and the
  numbers meant do not fail the rules the print fails (:mod:`replications.audit.misprints`);
- no cohort is too large for memory (:mod:`replications.build`), no arm label of
  targets.toml differs from cohort.toml's in letter case only;
- warnings: follow-up shorter than a calibrated median, constant covariates, reversed
  intervals;
- with ``build=True`` (the command): the study built as ``replicate`` builds it, every
  cohort and world calibrated (:mod:`replications.check_build`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from .binding import bind_study
from .analysis.problems import (Problem, Problems, RoleFix, StudyError, raw_items,
                                raw_table)
from .check_build import (arm_label_problems, build_problems, label_problems,
                          target_index)
from .build import size_problems
from .plausibility import (constant_problems, encoding_problems, followup_problems,
                           interval_problems)
from .calibration_inputs import calibration_input_problems
from .effect_inputs import effect_input_problems
from .response_inputs import response_input_problems
from .audit import misprint_check
from .strict import finding_problems
from .targets import describe_misprint
from .targets.table import study_table_misprints
from .study import Study, read_parts, resolve_study
from .targets.calibrated import censoring_fitted
from .unjudged import classify_reported, table_cells, unjudged_problems
from .worlds import load_worlds, world_problems

__all__ = ["CheckReport", "bind_study", "check_folder", "check_study", "load_study"]


@dataclass
class CheckReport:
    folder: Path
    problems: list[Problem]
    study: Study | None = None
    compiled: dict = field(default_factory=dict)
    requests: dict = field(default_factory=dict)     # target id -> (analysis name, Request)
    plan: object | None = None                        # the run's plan (reproduce.Plan), built
    #: reported target id -> its kind (replications.unjudged.Reported)
    reported: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _calibration_problems(raw: Mapping, targets, file: str) -> list[Problem]:
    """Calibration targets named in cohort.toml must match targets.toml."""
    probs = Problems(file)
    by_id = {t.id: t for t in targets.targets} if targets is not None else {}
    for cname, cohort in raw_table(raw.get("cohorts")).items():
        if not isinstance(cohort, Mapping):
            continue
        entries = []
        for ep, out in raw_table(cohort.get("outcomes")).items():
            for k, c in enumerate(raw_items(raw_table(out).get("calibrate"))):
                if isinstance(c, Mapping):
                    entries.append((f"cohorts.{cname}.outcomes.{ep}.calibrate[{k}]", ep, c))
        censoring = raw_table(cohort.get("censoring"))
        solved = censoring_fitted(censoring)
        for name in ("events", "median_followup"):
            ev = censoring.get(name)
            if isinstance(ev, Mapping):
                entries.append((f"cohorts.{cname}.censoring.{name}", ev.get("endpoint", "os"), ev))
        for key, ep, c in entries:
            fitted = solved or ".censoring." not in key
            tid = c.get("target")
            if tid is None:
                continue
            if not isinstance(tid, str):
                probs.add(f"{key}.target", tid, "must be the id of a targets.toml target "
                          "(a string)", "calibration-mismatch")
                continue
            t = by_id.get(tid)
            if t is None:
                probs.add(f"{key}.target", tid, "names no target in targets.toml",
                          "calibration-mismatch")
                continue
            value = c.get("value")
            theirs = t.value
            if "kind" not in c and t.quantity == "rate":     # events: compare the count
                theirs = t.count
            if isinstance(value, (int, float)) and theirs is not None and not math.isclose(
                    float(value), theirs, rel_tol=1e-9, abs_tol=1e-9):
                probs.add(f"{key}.value", value, f"differs from targets.toml {tid!r} "
                          f"{'count' if theirs is t.count else 'value'} {theirs!r}",
                          "calibration-mismatch")
            contrast = getattr(t, "contrast", None)
            if c.get("kind") == "hr" and contrast and c.get("arm") != contrast[0]:
                probs.add(f"{key}.arm", c.get("arm"), f"an hr target is the HR of its arm vs the other; "
                          f"targets.toml {tid!r} is {contrast[0]!r} vs {contrast[1]!r}", "calibration-mismatch")
            for name, mine, theirs in (("arm", c.get("arm"), t.arm),
                                       ("time", c.get("time"), t.time),
                                       ("endpoint", ep, t.endpoint)):
                if mine is not None and theirs is not None and mine != theirs:
                    probs.add(f"{key}.{name}", mine, f"differs from targets.toml {tid!r} "
                              f"{name} {theirs!r}", "calibration-mismatch")
            kind = c.get("kind") if isinstance(c.get("kind"), str) else None
            want = {"median": ("km_median",), "rate": ("km_rate",), "hr": ("hr",)}.get(
                kind, ("median_followup",) if key.endswith("median_followup") else ("count", "rate"))
            if t.quantity not in want:
                probs.add(f"{key}.target", tid, f"a {c.get('kind', 'events')} calibration "
                          f"needs a {' or '.join(want)} target; {tid!r} is a {t.quantity}",
                          "calibration-mismatch")
            if fitted and t.role != "calibration":
                probs.add(f"{key}.target", tid, f"{tid!r} calibrates the generator but its "
                          f"role is {t.role!r}; mark it role = \"calibration\"",
                          "calibration-role", fix=RoleFix(tid, "calibration"))
            elif not fitted and t.role == "calibration":
                probs.add(f"{key}.target", tid, f"{tid!r} is recorded here, but neither "
                          "follow_up nor loss_rate is \"calibrate\": nothing is solved for "
                          "it, so the generator does not fit it; give it role = "
                          "\"predicted\" (or \"reported\")", "calibration-role",
                          fix=RoleFix(tid, "predicted"))
    return list(probs)


FILL_ME = "FILL ME"


def _misprint_problems(targets, folder: Path) -> list[Problem]:
    """A declared misprint whose correction fixes nothing the audit sees (an error), named
    where it is declared: a target's ``misprint``, or a Table 1 cell's in ``cohort.toml``."""
    if targets is None:
        return []
    found = misprint_check(targets)
    # a table cell's, unless a [[targets]] entry of its id replaced the cell (its place
    # then differs, and its misprint is the entry's own)
    cells = {tid: key for tid, (place, key) in (study_table_misprints(folder) if found else {}).items()
             if targets.places.get(tid) == place}
    return [Problem(str(folder / "cohort.toml"), cells[tid], describe_misprint(targets[tid]),
                    f"{tid}: {msg}", "misprint-not-fixed") if tid in cells else
            Problem(str(folder / "targets.toml"), f"{targets.places[tid]}.misprint",
                    describe_misprint(targets[tid]), msg, "misprint-not-fixed")
            for tid, msg in found]


def _placeholders(obj, key: str = ""):
    """Keys whose value (or key) still holds a FILL ME placeholder of the templates."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            sub = f"{key}.{k}" if key else str(k)
            if "FILL_ME" in str(k) or FILL_ME in str(k):
                yield sub, k
            yield from _placeholders(v, sub)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _placeholders(v, f"{key}[{i}]")
    elif isinstance(obj, str) and (FILL_ME in obj or "FILL_ME" in obj):
        yield key, obj


def _raw_files(folder: Path) -> dict[str, dict]:
    """Each study file parsed as plain TOML (a file that does not parse is left out: its
    loader reports why)."""
    import tomllib
    out = {}
    for name in ("cohort.toml", "targets.toml", "analysis.toml"):
        try:
            out[name] = tomllib.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return out


def _fill_me(folder: Path, raws: Mapping[str, dict]) -> list[Problem]:
    return [Problem(str(folder / name), key, value,
                    "fill me: replace the template's placeholder", "fill-me")
            for name, raw in raws.items() for key, value in _placeholders(raw)]


def check_folder(folder: Path, *, build: bool = False, seed: int | None = None,
                 worlds: str = "all", progress=None) -> CheckReport:
    """Every problem of a study folder, at once.

    Parameters
    ----------
    folder : Path
        The study folder.
    build : bool
        Also build the study as ``replicate`` does (calibrate every cohort, draw a pilot
        cohort, compile the analyses on its levels): what ``tacebench check`` runs.
    seed : int, optional
        Root seed of that build (default: replicate's).
    worlds : {"all", "declared", "none"}
        The alternative worlds the build also compiles (as ``replicate --worlds``).
    progress : callable, optional
        ``progress(done, total)`` as the build's worlds are built (a progress bar).

    Returns
    -------
    CheckReport
    """
    folder = Path(folder)
    encoding = encoding_problems(folder)
    if encoding:         # nothing parses until the file is re-saved
        return CheckReport(folder, encoding)
    raws = _raw_files(folder)
    todo = _fill_me(folder, raws)
    if todo:
        # an unfinished skeleton: list what to fill, not the loaders' echoes of placeholders
        return CheckReport(folder, todo)
    raw, spec, targets, plan, problems = read_parts(folder)
    declared, wprobs = load_worlds(folder)
    problems.extend(wprobs)
    if raw and spec is not None and declared:
        problems.extend(world_problems(raw, declared, folder))
    report = CheckReport(folder, problems)
    cohort_file, targets_file = str(folder / "cohort.toml"), str(folder / "targets.toml")
    raw_targets = raws.get("targets.toml", {})
    problems.extend(finding_problems(targets, targets_file))
    problems.extend(_misprint_problems(targets, folder))
    if raw and targets is not None:
        problems.extend(_calibration_problems(raw, targets, cohort_file))
        problems.extend(calibration_input_problems(raw, targets, plan, cohort_file))
        sid = raw_table(raw.get("study")).get("id")
        if sid and targets.study_id and sid != targets.study_id:
            problems.append(Problem(targets_file, "study.id", targets.study_id,
                                    f"differs from cohort.toml study.id {sid!r}", "mismatch"))
    if spec is not None:
        problems.extend(size_problems(spec, cohort_file))
        arms = [a for name in spec.cohorts for a in spec.cohort(name).arm_labels]
        problems.extend(arm_label_problems(raw_targets, arms, targets_file))
    if raw and isinstance(raw.get("cohorts"), Mapping):
        from .analysis.schema import schema_from_spec
        schemas = {}
        for name in raw["cohorts"]:
            try:
                schemas[name] = schema_from_spec(raw, name)
            except (KeyError, TypeError, AttributeError, ValueError):
                continue
        compiled, requests, more = bind_study(raw, targets, plan, schemas,
                                              plan_file=str(folder / "analysis.toml"),
                                              targets_file=targets_file)
        problems.extend(more)
        problems.extend(response_input_problems(raw, targets, plan, requests, targets_file))
        problems.extend(effect_input_problems(raw, targets, compiled, requests, targets_file))
        report.compiled, report.requests = compiled, requests
        if targets is not None:
            report.reported = classify_reported(raw, targets, plan, compiled,
                                                table_cells(folder))
            problems.extend(unjudged_problems(report.reported, targets.places, targets_file,
                                              cohort_file))
        problems.extend(followup_problems(raw, cohort_file))
        problems.extend(constant_problems(raw, cohort_file))
    problems.extend(interval_problems(targets, targets_file, target_index(raw_targets)))
    if spec is not None and targets is not None and not report.errors:
        report.study = Study(spec.id, folder, spec, raw, targets, plan, declared)
        if build:
            report.plan, built = build_problems(report.study, seed, worlds, progress)
            seen = {(p.file, p.key, p.message) for p in problems}
            problems.extend(p for p in _in_folder(built, folder)
                            if (p.file, p.key, p.message) not in seen)
    report.problems = label_problems(_one_per_arm_label(problems), raw_targets)
    return report


def _in_folder(problems: list[Problem], folder: Path) -> list[Problem]:
    """The build's problems with each bare file name (``targets.toml``: a run's plan binds
    without knowing its folder) joined to ``folder``, as check names every file: a binding
    problem both passes report is then seen once."""
    return [replace(p, file=str(folder / p.file)) if p.file and Path(p.file).name == p.file
            else p for p in problems]


def _one_per_arm_label(problems: list[Problem]) -> list[Problem]:
    """A mistyped arm label once, with its hint: the binder's own message on the same
    target's arm or contrast is dropped."""
    hinted = [p.key.split(".")[0] for p in problems
              if p.kind == "unknown-arm" and "did you mean" in p.message]
    return [p for p in problems if not (p.kind == "unknown-arm" and "did you mean"
                                        not in p.message and p.key.split(".")[0] in hinted)]


def check_study(ref) -> CheckReport:
    """Check a study folder or shipped id (see :func:`replications.study.resolve_study`)."""
    return check_folder(resolve_study(ref))


def load_study(ref: str | Path) -> Study:
    """Load a study folder or shipped id; raise one error listing every problem."""
    report = check_folder(resolve_study(ref))
    if report.errors:
        raise StudyError(report.errors)
    return report.study
