"""Teaching lessons: confounding and immortal time on cohorts shaped like the seed papers.

Each lesson is one module with ``run_lesson(seed, out, *, n_reps=None, fast=False)`` that
simulates its worlds, fits the estimators on every cohort, checks its claims on the Monte
Carlo averages, writes its figures (``OUT/figures/<lesson>-*.png``) and a Markdown report
(``OUT/<lesson>-report.md``), and returns a :class:`LessonResult`. The walkthroughs in
``docs/teach/`` tell the stories; ``tacebench teach LESSON`` runs one from the shell.

=============================  ===========================================  ==========
lesson                         module                                       seed study
=============================  ===========================================  ==========
``crude-vs-adjusted``          :mod:`benchmarks.lessons.crude_adjusted`     000
``matching-discards``          :mod:`benchmarks.lessons.matching_discards`  004
``wrong-matching-variables``   :mod:`benchmarks.lessons.matching_variables` 002
``immortal-time``              :mod:`benchmarks.lessons.immortal_time`      002
=============================  ===========================================  ==========
"""
from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from ._core import DEFAULT_SEED, Claim, Estimate, LessonResult

#: Lesson name -> module, in teaching order.
LESSONS: dict[str, str] = {
    "crude-vs-adjusted": "tacebench.benchmarks.lessons.crude_adjusted",
    "matching-discards": "tacebench.benchmarks.lessons.matching_discards",
    "wrong-matching-variables": "tacebench.benchmarks.lessons.matching_variables",
    "immortal-time": "tacebench.benchmarks.lessons.immortal_time",
}


def lesson_module(name: str) -> ModuleType:
    if name not in LESSONS:
        raise ValueError(f"lesson must be one of {list(LESSONS)}; got {name!r}")
    return importlib.import_module(LESSONS[name])


def run_lesson(name: str, seed: int = DEFAULT_SEED, out: str | Path = "teach-out", *,
               n_reps: int | None = None, fast: bool = False) -> LessonResult:
    """Run the lesson ``name`` (see :data:`LESSONS`) end to end."""
    return lesson_module(name).run_lesson(seed, out, n_reps=n_reps, fast=fast)


__all__ = ["DEFAULT_SEED", "LESSONS", "Claim", "Estimate", "LessonResult", "lesson_module",
           "run_lesson"]
