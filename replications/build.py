"""Build a study's generator as ``tacebench replicate`` does, failures as problems.

``replicate`` compiles (calibrates) each cohort of ``cohort.toml`` once, draws a pilot
cohort for the levels the analyses bind to, then compiles the analysis plan
(:func:`replications.reproduce.prepare`). Each step can fail on a folder that parses: an
assumed category split no distribution matches, a calibration the solver cannot reach, a
cohort too large for memory. This module runs those steps and turns each failure into a
:class:`~replications.analysis.problems.StudyError` naming ``cohort.toml`` and the key path
of the cohort, so ``check`` lists it and ``replicate`` exits with it, never a traceback.

The memory estimate is measured, not guessed: a stack of 25 cohorts of 40 000 patients
with 14 columns (the fictional study scaled up) peaked at 138 MB while drawn, 138 bytes
per patient row, which is 8 bytes per column plus about three work arrays. A worker draws
:data:`BATCH_SIZE` cohorts at once, so the estimate is
``BATCH_SIZE * patients * (columns + WORK_COLUMNS) * 8`` bytes, refused above
:data:`MEMORY_LIMIT`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from tacebench.simulate.batch import generate_cohort_batch
from tacebench.simulate.cohort import compile_plan, generate_cohort
from tacebench.simulate.spec_base import SpecError

from .analysis.problems import MISSING, Problem, StudyError

__all__ = ["BATCH_SIZE", "MEMORY_LIMIT", "Footprint", "footprint", "size_problems",
           "compile_plans", "simulate_generator", "pilot_levels", "SimulateGenerator"]

#: Replicates whose cohorts a worker draws as one stack (``reproduce``'s default).
BATCH_SIZE = 25
#: Work arrays alive beside the columns while a stack is drawn (measured, see above).
WORK_COLUMNS = 3
#: The largest stack of cohorts a study may ask a worker to hold, in bytes.
MEMORY_LIMIT = 2 * 1024 ** 3
#: Errors the numerical code raises on input it cannot fit (a bug raises anything else).
BUILD_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)

COHORT_FILE = "cohort.toml"


@dataclass(frozen=True)
class Footprint:
    """What one worker holds while it draws a stack of one cohort's replicates."""

    cohort: str
    patients: int
    columns: int
    bytes: int

    @property
    def gigabytes(self) -> float:
        return self.bytes / 1024 ** 3


def footprint(cohort) -> Footprint:
    """The memory a stack of :data:`BATCH_SIZE` replicates of a cohort takes.

    Parameters
    ----------
    cohort : simulate.study.CohortSpec

    Returns
    -------
    Footprint
    """
    endpoints = sum(e is not None for e in (cohort.os, cohort.pfs, cohort.ttp))
    columns = (3 + len(cohort.variables)      # arm, treated, true_ps + len(cohort.multiselect) + len(cohort.derived)
               + (cohort.unmeasured is not None) + 2 * endpoints
               + (cohort.response is not None) + len(cohort.response_columns)
               + 2 * (cohort.time_varying is not None))
    patients = int(sum(a.n for a in cohort.arms))
    size = BATCH_SIZE * patients * (columns + WORK_COLUMNS) * 8
    return Footprint(cohort.name, patients, columns, size)


def size_problems(spec, file: str = COHORT_FILE) -> list[Problem]:
    """An error for every cohort whose replicates will not fit in :data:`MEMORY_LIMIT`."""
    out = []
    for name in spec.cohorts:
        f = footprint(spec.cohort(name))
        if f.bytes > MEMORY_LIMIT:
            most = MEMORY_LIMIT // (BATCH_SIZE * (f.columns + WORK_COLUMNS) * 8)
            out.append(Problem(
                file, f"cohorts.{name}.arms", f.patients,
                f"{f.patients:,} patients with {f.columns} columns: a worker draws "
                f"{BATCH_SIZE} replicates at once, about {f.gigabytes:.1f} GB, above the "
                f"limit of {MEMORY_LIMIT / 1024 ** 3:.0f} GB; give the arms' `n` as the paper "
                f"reports them (at most about {most:,} patients in this cohort)",
                "too-large"))
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
