"""Build a study's generator as ``tacebench replicate`` does, failures as problems.

``replicate`` compiles (calibrates) each cohort of ``cohort.toml`` once, draws a pilot
cohort for the levels the analyses bind to, then compiles the analysis plan
(:func:`replications.reproduce.prepare`). Each step can fail on a folder that parses: an
assumed category split no distribution matches, a calibration the solver cannot reach, a
cohort too large for memory. This module runs those steps and turns each failure into a
:class:`~replications.analysis.problems.StudyError` naming ``cohort.toml`` and the key path
of the cohort, so ``check`` lists it and ``replicate`` exits with it, never a traceback.

The memory estimate (:mod:`simulate.footprint`, shared with ``tacebench simulate``) is
``BATCH_SIZE * patients * (columns + WORK_COLUMNS) * 8`` bytes for a worker that draws
:data:`BATCH_SIZE` cohorts at once, refused above :data:`MEMORY_LIMIT`.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from tacebench.simulate.batch import generate_cohort_batch
from tacebench.simulate.cohort import compile_plan, generate_cohort
from tacebench.simulate.footprint import MEMORY_LIMIT, Footprint, draw_footprint, too_large
from tacebench.simulate.spec_base import SpecError

from .analysis.problems import MISSING, Problem, StudyError

__all__ = ["BATCH_SIZE", "MEMORY_LIMIT", "Footprint", "footprint", "size_problems",
           "compile_plans", "simulate_generator", "pilot_levels", "SimulateGenerator"]

#: Replicates whose cohorts a worker draws as one stack (``reproduce``'s default).
BATCH_SIZE = 25
#: Errors the numerical code raises on input it cannot fit (a bug raises anything else).
BUILD_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)

COHORT_FILE = "cohort.toml"


def footprint(cohort) -> Footprint:
    """The memory a stack of :data:`BATCH_SIZE` replicates of a cohort takes.

    Parameters
    ----------
    cohort : simulate.study.CohortSpec

    Returns
    -------
    Footprint
    """
    return draw_footprint(cohort, BATCH_SIZE)


def size_problems(spec, file: str = COHORT_FILE) -> list[Problem]:
    """An error for every cohort whose replicates will not fit in :data:`MEMORY_LIMIT`."""
    out = []
    for name in spec.cohorts:
        f = footprint(spec.cohort(name))
        msg = too_large(f)
        if msg is not None:
            out.append(Problem(file, f"cohorts.{name}.arms", f.patients, msg, "too-large"))
    return out


def _cohort_problems(exc: Exception, name: str, file: str) -> list[Problem]:
    """A failure of one cohort's build, keyed inside ``cohorts.<name>``."""
    if isinstance(exc, SpecError):
        return [Problem(file, f"cohorts.{name}.{key}" if key else f"cohorts.{name}",
                        MISSING, msg, "cannot-build") for key, msg in exc.problems]
    return [Problem(file, f"cohorts.{name}", MISSING, "the generator cannot be built "
                    f"from this cohort ({type(exc).__name__}: {exc})", "cannot-build")]


def compile_plans(study) -> dict:
    """Every cohort of ``study`` compiled and calibrated (simulate's plans), by name.

    Raises
    ------
    StudyError
        Listing, for every cohort, why it cannot be built (too large for memory, a split
        or calibration the solver cannot meet).
    """
    file = str(study.path / COHORT_FILE)
    problems = size_problems(study.spec, file)
    if problems:
        raise StudyError(problems)
    plans = {}
    for name in study.spec.cohorts:
        try:
            plans[name] = compile_plan(study.spec, name)
        except BUILD_ERRORS as exc:
            problems.extend(_cohort_problems(exc, name, file))
    if problems:
        raise StudyError(problems)
    return plans


class SimulateGenerator:
    """``generate(cohort, seed)`` for one replicate, ``generate.batch(cohort, seeds)`` for a
    stack (the same cohorts, bit for bit)."""

    def __init__(self, plans):
        self.plans = plans

    def __call__(self, cohort: str, seed: np.random.SeedSequence):
        c = generate_cohort(self.plans[cohort], seed=seed, with_ps=False)
        return c.columns, dict(c.levels)

    def batch(self, cohort: str, seeds: Sequence[np.random.SeedSequence]) -> list[Mapping]:
        b = generate_cohort_batch(self.plans[cohort], seeds, with_ps=False)
        return [{k: v[i] for k, v in b.columns.items()} for i in range(len(seeds))]


def simulate_generator(study) -> SimulateGenerator:
    """Generate the study's cohorts with simulate, compiling (calibrating) each cohort once.

    The compiled plans are plain picklable data, so workers receive them ready to draw.
    Raises :class:`StudyError` when a cohort cannot be built (:func:`compile_plans`).
    """
    return SimulateGenerator(compile_plans(study))


def pilot_levels(study, generate, seed: np.random.SeedSequence) -> dict[str, Mapping]:
    """The levels of each cohort, from one pilot draw; failures as one :class:`StudyError`."""
    file = str(study.path / COHORT_FILE)
    levels, problems = {}, []
    for name in study.cohort_raw.get("cohorts", {}):
        try:
            levels[name] = generate(name, seed)[1]
        except BUILD_ERRORS as exc:
            problems.extend(_cohort_problems(exc, name, file))
    if problems:
        raise StudyError(problems)
    return levels
