"""A study: a folder of three TOML files, loaded whole.

:func:`replications.check.load_study` (``load_study("<shipped id>")`` or
``load_study("path/to/my_study/")``) reads

- ``cohort.toml`` with simulate's loader (:func:`simulate.io.load_spec`),
- ``targets.toml`` with :func:`replications.targets.load_targets`,
- ``analysis.toml`` with :func:`replications.analysis.plan.load_plan`,

and raises one :class:`~replications.analysis.problems.StudyError` listing the problems of
all three files. A bare name is looked up among the studies shipped inside the package
(``tacebench/studies/<id>/``, found by :mod:`tacebench.simulate.studies`), so a fresh install replicates the seeds by id.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from tacebench.simulate.io import spec_from_dict
from tacebench.simulate.table1 import read_cohort_toml
from tacebench.simulate.studies import STUDY_FILES, resolve_study, shipped_studies

from .analysis.plan import AnalysisPlan, parse_plan
from .analysis.problems import MISSING, Problem, StudyError, raw_table, toml_problem
from .analysis.schema import Schema, schema_from_spec
from .targets import load_targets
from .targets.parse import TableUnreadable

__all__ = ["Study", "resolve_study", "shipped_studies", "STUDY_FILES", "read_parts",
           "shared_ids"]


def shared_ids(refs) -> dict[str, list]:
    """Study ids that more than one of ``refs`` declare (``[study] id`` of cohort.toml),
    each with the refs that declare it; a ref whose id cannot be read is left to its load,
    which reports why.

    Two studies of one id in a run write one ``draws/<id>.csv`` (the later replaced the
    earlier) and one id's rows twice in every table, counted twice in the distinct
    numbers: a copy of a study kept under its id and run beside it gave 8 rows of id
    'np2' for 4 numbers.
    """
    by_id: dict[str, list] = {}
    for ref in refs:
        try:
            raw = tomllib.loads((resolve_study(ref) / "cohort.toml").read_text("utf-8"))
            sid = raw["study"]["id"]
        except (ValueError, OSError, KeyError, TypeError):
            continue
        if isinstance(sid, str):
            by_id.setdefault(sid, []).append(ref)
    return {sid: found for sid, found in by_id.items() if len(found) > 1}


@dataclass(frozen=True)
class Study:
    """The three files of a study, parsed."""

    id: str
    path: Path
    spec: object                      # simulate.study.StudySpec
    cohort_raw: Mapping               # cohort.toml as parsed TOML (for schemas and checks)
    targets: object                   # replications.targets.StudyTargets
    plan: AnalysisPlan
    worlds: tuple = ()                # replications.worlds.World, from worlds.toml

    @property
    def title(self) -> str:
        return getattr(self.spec, "title", "") or ""

    def schemas(self) -> dict[str, Schema]:
        return {name: schema_from_spec(self.cohort_raw, name)
                for name in raw_table(self.cohort_raw.get("cohorts"))}

    @property
    def comparative(self) -> bool:
        return any(s.comparative for s in self.schemas().values())


def _spec_problems(exc, file: str) -> list[Problem]:
    items = getattr(exc, "problems", None) or [("", str(exc))]
    out = []
    for item in items:
        key, msg = item if isinstance(item, tuple) and len(item) == 2 else ("", str(item))
        key = key.split(": ", 1)[1] if ": " in key and key.startswith(file) else key
        out.append(Problem(file, key, MISSING, msg, "cohort-spec"))
    return out


def read_parts(folder: Path) -> tuple[dict, object, object, AnalysisPlan, list[Problem]]:
    """Parse the three files, collecting (not raising) every problem."""
    problems: list[Problem] = []
    cohort_file = folder / "cohort.toml"
    raw: dict = {}
    spec = None
    try:
        raw = read_cohort_toml(cohort_file)
        spec = spec_from_dict(raw, source=str(cohort_file), path=str(cohort_file))
    except FileNotFoundError:
        problems.append(Problem(str(cohort_file), "", MISSING, "file not found", "missing-file"))
    except tomllib.TOMLDecodeError as exc:
        problems.append(toml_problem(str(cohort_file), exc))
    except ValueError as exc:
        problems.extend(_spec_problems(exc, str(cohort_file)))
    targets = None
    targets_file = folder / "targets.toml"
    if not targets_file.is_file():
        problems.append(Problem(str(targets_file), "", MISSING, "file not found",
                                "missing-file"))
    else:
        try:
            targets = load_targets(targets_file)
        except StudyError as exc:
            problems.extend(exc.problems)
        except TableUnreadable as exc:
            # the cohort loader read the same table first and named each problem
            if not any(p.file == str(cohort_file) for p in problems):
                problems.append(Problem(str(targets_file), "", MISSING, str(exc), "malformed"))
        except ValueError as exc:
            problems.append(Problem(str(targets_file), "", MISSING, str(exc), "malformed"))
    plan, plan_problems = parse_plan(folder / "analysis.toml")
    problems.extend(plan_problems)
    return raw, spec, targets, plan, problems
