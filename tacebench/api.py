"""The Python entry points of ``tacebench``: the same objects the command line prints.

``tacebench replicate`` is :func:`replicate` plus rendering, ``tacebench simulate`` is
:func:`simulate_cohorts` plus writing; both call exactly these functions. Each takes a
study as an id, a folder or the :class:`Study` :func:`load_study` returns, and so does
:func:`compile_plan` (one cohort's simulation plan).
"""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from tacebench.engine import MAX_REPS, single_threaded_blas
from tacebench.estimators import InputTypeError
from tacebench.replications.audit import AuditReport, audit_study
from tacebench.replications.check import load_study as _load_study
from tacebench.replications.outcome_model import outcome_models
from tacebench.replications.report import StudyReport
from tacebench.replications.robustness import WORLD_CHOICES, with_worlds
from tacebench.replications.reproduce import (DEFAULT_DECOMPOSE_REPS, DEFAULT_REPS,
                                              DEFAULT_SEED, Prepared, calibration_of,
                                              decompose_for, prepare_run, reproduce)
from tacebench.replications.study import Study
from tacebench.simulate import (Cohort, PlanCache, SimulationPlan, StudySpec, generate_cohorts,
                                load_spec)
from tacebench.simulate import compile_plan as _compile_plan
from tacebench.simulate.cohort import DEFAULT_CACHE
from tacebench.simulate.footprint import check_memory

__all__ = ["StudySetup", "compile_plan", "load_study", "replicate", "set_up",
           "simulate_cohorts"]


def _is_int(x) -> bool:
    """An integer: a Python int or a numpy integer, not a bool."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _is_flag(x) -> bool:
    return isinstance(x, (bool, np.bool_))


#: argument -> (is its type right, is its value right, what it must be), for the edge
#: checks of the front door; the value is checked only when the type is right
_RULES = {
    "reps": (_is_int, lambda v: 2 <= v <= MAX_REPS, f"an integer from 2 to {MAX_REPS}"),
    "seed": (_is_int, lambda v: v >= 0, "a non-negative integer"),
    "n_jobs": (_is_int, lambda v: v >= 1 or v == -1, "a positive integer or -1 (all cores)"),
    "decompose_reps": (_is_int, lambda v: 0 <= v <= MAX_REPS, f"an integer from 0 to {MAX_REPS}"),
    "max_reps": (lambda v: v is None or _is_int(v), lambda v: v is None or 2 <= v <= MAX_REPS,
                 f"None or an integer from 2 to {MAX_REPS}"),
    "worlds": (lambda v: isinstance(v, str), lambda v: v in WORLD_CHOICES,
               f"one of {', '.join(WORLD_CHOICES)}"),
    "audit_only": (_is_flag, lambda v: True, "True or False"),
    "world_uncertainty": (_is_flag, lambda v: True, "True or False"),
    # (a count too large for memory is refused by the cohort footprint check, with sizes)
    "n_cohorts": (_is_int, lambda v: v >= 1, "an integer >= 1"),
    "with_ps": (_is_flag, lambda v: True, "True or False"),
    "progress": (lambda v: v is None or callable(v), lambda v: True, "None or a callable"),
}


def _check_arguments(**values) -> dict:
    """The arguments checked against their rules (:data:`_RULES`), before any work (a bad
    ``worlds`` once surfaced only after the whole run), numpy integers and bools returned
    as Python ones (they reach JSON output).

    One error names every argument that breaks its rule: an
    :class:`~tacebench.estimators.InputTypeError` (a ``TypeError`` and a ``ValueError``)
    when one has the wrong type (``"3"`` for a number, ``"no"`` for a flag), else a
    ``ValueError``.
    """
    wrong_type = [name for name, v in values.items() if not _RULES[name][0](v)]
    bad = [name for name, v in values.items() if name in wrong_type or not _RULES[name][1](v)]
    messages = [f"{name}: must be {_RULES[name][2]}; got {values[name]!r}" for name in bad]
    reps, cap = values.get("reps"), values.get("max_reps")
    if not bad and cap is not None and reps is not None and cap < reps:
        # (a cap below reps was silently raised to reps: a run of 30 for max_reps=10)
        messages.append(f"max_reps: must be at least reps ({reps}): it is the number a study "
                        f"may grow to (equal adds no replicates); got {cap!r}")
    if messages:
        raise (InputTypeError if wrong_type else ValueError)("; ".join(messages))
    return {name: v.item() if isinstance(v, (np.integer, np.bool_)) else v
            for name, v in values.items()}


def _study_type(study, what: str, more: tuple = ()) -> None:
    """An ``InputTypeError`` unless ``study`` is a path, an id, a :class:`Study` or one of
    the types ``more``."""
    if not isinstance(study, (str, Path, Study, *more)):
        raise InputTypeError(f"study: must be {what}; got {study!r}")


def load_study(study: str | Path | Study) -> Study:
    """A study folder (or shipped id) parsed and checked; one error lists every problem.

    Parameters
    ----------
    study : str, Path or Study
        A shipped study id (``"tace_sorafenib_ehs"``), a study folder or a file inside it.
        A :class:`~tacebench.replications.study.Study` is returned as is.

    Returns
    -------
    Study
    """
    if isinstance(study, Study):
        return study
    _study_type(study, "a shipped study id, a study folder or a Study")
    return _load_study(study)


@dataclass(frozen=True)
class StudySetup:
    """A study loaded, audited and set up for its run (:func:`set_up`): what
    :func:`replicate` does before the first replicate. ``audit`` is the report, or a
    callable returning it when it is computed after the set-up (``set_up``'s ``later``)."""

    study: Study
    audit: AuditReport | Callable[[], AuditReport]
    prepared: Prepared | None          # None: set up for the audit only

    def audit_report(self) -> AuditReport:
        """The audit (waiting for it when it is computed after the set-up)."""
        return self.audit() if callable(self.audit) else self.audit


def set_up(study: str | Path | Study, *, reps: int = DEFAULT_REPS, seed: int = DEFAULT_SEED,
           decompose_reps: int = DEFAULT_DECOMPOSE_REPS, audit_only: bool = False,
           later: list[Callable[[], None]] | None = None) -> StudySetup:
    """The study's audit and its compiled generator and plan, for a later :func:`replicate`
    with the same ``reps``, ``seed`` and ``decompose_reps`` (``tacebench replicate`` sets up
    the next study while the workers run this one).

    Parameters
    ----------
    study : str, Path or Study
        As :func:`load_study`.
    reps, seed, decompose_reps, audit_only
        As :func:`replicate` will be called with.
    later : list, optional
        A list to which the audit and the calibration checks are appended as calls
        instead of being computed here: the run needs neither (its summary and report
        do, at the end), so a caller that makes the calls on a thread starts the run
        sooner (``tacebench replicate``, :class:`tacebench.engine.Ahead`). The set-up's
        audit and checks then wait for them; their errors are raised there.

    Returns
    -------
    StudySetup

    Raises
    ------
    StudyError
        When a cohort of the study cannot be built.
    """
    a = _check_arguments(reps=reps, seed=seed, decompose_reps=decompose_reps, audit_only=audit_only)
    reps, seed, decompose_reps, audit_only = a["reps"], a["seed"], a["decompose_reps"], a["audit_only"]
    st = load_study(study)
    decompose = decompose_for(decompose_reps, reps)
    if later is None:
        audit = audit_study(st.targets)  # the targets load_study parsed, not a second parse
        return StudySetup(st, audit, None if audit_only else prepare_run(st, seed, decompose))
    audit_f, checks_f = Future(), Future()
    try:
        prepared = None if audit_only else prepare_run(st, seed, decompose,
                                                       checks=checks_f.result)
    except BaseException:
        audit_study(st.targets)          # an error of the audit comes first, as above
        raise
    later.append(partial(_fill, audit_f, audit_study, st.targets))
    if prepared is not None:
        later.append(partial(_fill, checks_f, calibration_of, prepared.generate))
    return StudySetup(st, audit_f.result, prepared)


def _fill(future: Future, fn: Callable, *args) -> None:
    """``future`` given ``fn(*args)`` or its exception."""
    try:
        future.set_result(fn(*args))
    except BaseException as exc:
        future.set_exception(exc)


def replicate(study: str | Path | Study | StudySetup, *, reps: int = DEFAULT_REPS,
              seed: int = DEFAULT_SEED, n_jobs: int = 1,
              decompose_reps: int = DEFAULT_DECOMPOSE_REPS, audit_only: bool = False,
              progress: Callable[[int], None] | None = None,
              worlds: str = "all", world_uncertainty: bool = False,
              max_reps: int | None = None) -> StudyReport:
    """Audit a study's published numbers and reproduce them on calibrated simulations.

    Parameters
    ----------
    study : str, Path, Study or StudySetup
        As :func:`load_study`, or set up by :func:`set_up` with the same ``reps``, ``seed``
        and ``decompose_reps``.
    reps : int
        Simulated cohorts (replicates); at least 2.
    seed : int
        Root seed; same seed, same numbers, whatever ``n_jobs``.
    n_jobs : int
        Worker processes.
    decompose_reps : int
        Replicates that also run the leave-one-covariate-out decomposition of shifts.
    audit_only : bool
        Audit the published numbers only (no simulation).
    progress : callable, optional
        Called as replicates finish with how many more have finished since the last call
        (an increment, as ``tqdm.update`` takes it; not a running total).
    worlds : {"all", "declared", "none"}
        Also reproduce the study in its alternative worlds (``worlds.toml`` and, with
        "all", the built-in families: the unmeasured confounder and the unreported covariate
        effects aligned with and opposed to the arms' imbalance) with the same seeds, and label
        each verdict robust, assumption-dependent or unsettled with its tipping points.
    world_uncertainty : bool
        Draw the calibration inputs from their sampling distributions, one recalibrated
        world per block of replicates (:mod:`tacebench.replications.world_uncertainty`);
        off by default (why: :mod:`tacebench.replications.reproduce`).
    max_reps : int, optional
        Replicates the study may grow to where a verdict sits within its Monte Carlo error
        of the boundary (default 4 x ``reps``; ``reps`` adds none).

    Returns
    -------
    StudyReport
        ``.audit`` (findings), ``.result`` (verdicts; None with ``audit_only``),
        ``.to_dict()``; :func:`tacebench.replications.report.render` prints it.
    """
    a = _check_arguments(reps=reps, seed=seed, n_jobs=n_jobs, decompose_reps=decompose_reps,
                         audit_only=audit_only, worlds=worlds, world_uncertainty=world_uncertainty,
                         max_reps=max_reps, progress=progress)
    reps, seed, n_jobs, decompose_reps = a["reps"], a["seed"], a["n_jobs"], a["decompose_reps"]
    audit_only, world_uncertainty, max_reps = a["audit_only"], a["world_uncertainty"], a["max_reps"]
    setup = study if isinstance(study, StudySetup) else set_up(
        study, reps=reps, seed=seed, decompose_reps=decompose_reps, audit_only=audit_only)
    st = setup.study
    result = None
    if not audit_only:
        result = reproduce(st, reps=reps, seed=seed, n_jobs=n_jobs,
                           decompose_reps=decompose_reps, progress=progress,
                           world_uncertainty=world_uncertainty, max_reps=max_reps,
                           prepared=setup.prepared)
        # alternative worlds: the same drawn inputs, no added replicates
        result = with_worlds(st, result, reproduce, worlds, reps=reps, seed=seed,
                             n_jobs=n_jobs, progress=progress,
                             world_uncertainty=world_uncertainty, max_reps=reps)
    audit = setup.audit_report()
    return StudyReport(st.id, st.title, list(audit.findings), result, coverage=audit.coverage,
                       outcome_models=outcome_models(st.spec))


def simulate_cohorts(study: str | Path | Study, *, n_cohorts: int = 1, seed: int = DEFAULT_SEED,
                     cohort: str | None = None, with_ps: bool = True) -> list[Cohort]:
    """Synthetic cohorts of a study, matching its published Table 1.

    (Named ``simulate_cohorts`` because ``tacebench.simulate`` is the subpackage.)

    Parameters
    ----------
    study : str, Path or Study
        A shipped study id, a study folder or a ``cohort.toml`` path, or a study loaded
        by :func:`load_study`.
    n_cohorts : int
        How many cohorts; cohort ``i`` is drawn from the ``i``-th child of ``seed``.
    seed : int
        Root seed.
    cohort : str, optional
        The cohort of a study with several (seed 002: ``primary``, ``recurrent``).
    with_ps : bool
        Also compute each patient's exact true propensity score (NaN in a one-arm
        cohort, which has no treatment to assign, as seed 001's).

    Returns
    -------
    list of Cohort

    Raises
    ------
    SpecError
        When the cohorts together exceed the memory limit ``check`` and ``replicate``
        apply (:mod:`tacebench.simulate.footprint`), before anything is drawn.
    """
    a = _check_arguments(n_cohorts=n_cohorts, seed=seed, with_ps=with_ps)
    n_cohorts, seed, with_ps = a["n_cohorts"], a["seed"], a["with_ps"]
    _study_type(study, "a shipped study id, a study folder, a cohort.toml path or a Study")
    spec = study.spec if isinstance(study, Study) else load_spec(study)
    check_memory(spec.cohort(cohort), n_cohorts)
    with single_threaded_blas():  # the same plan and cohorts as replicate's workers draw
        plan = compile_plan(spec, cohort)
        return list(generate_cohorts(plan, n_cohorts, seed=seed, with_ps=with_ps))


def compile_plan(study: str | Path | Study | StudySpec | Mapping | SimulationPlan,
                 cohort: str | None = None, *,
                 cache: PlanCache | None = DEFAULT_CACHE) -> SimulationPlan:
    """One cohort's simulation plan (marginals, copula, assignment, calibrated outcomes):
    :func:`tacebench.simulate.compile_plan`, which also takes the study
    :func:`load_study` returns. Compiled with one BLAS thread, as every tacebench run
    compiles it (a calibration amplifies the last-bit differences of a multi-threaded
    BLAS).

    Parameters
    ----------
    study : str, Path, Study, StudySpec, Mapping or SimulationPlan
        As :func:`simulate_cohorts`, or what :func:`tacebench.simulate.load_spec` takes (a
        cohort specification, a parsed cohort.toml); a plan is returned as is.
    cohort : str, optional
        The cohort of a study with several.
    cache : PlanCache or None
        As :func:`tacebench.simulate.compile_plan` (default: the process-wide cache).

    Returns
    -------
    SimulationPlan
    """
    _study_type(study, "a shipped study id, a study folder, a cohort.toml path, a Study, a "
                "StudySpec, a parsed cohort.toml (a mapping) or a SimulationPlan",
                (StudySpec, Mapping, SimulationPlan))
    with single_threaded_blas():  # the plan replicate's set-up compiles (engine.blas)
        return _compile_plan(study.spec if isinstance(study, Study) else study, cohort,
                             cache=cache)
