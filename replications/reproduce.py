"""The reproduction run: simulate a study R times, analyse each replicate the paper's way.

For each replicate the study's cohorts are generated once (simulate), every analysis of the
plan runs on them (compiled once, see :mod:`replications.analysis.compile`), and every
simulated target gets one draw, so that paired shifts are differences of two
draws *from the same cohort*. For each shift whose ``to`` analysis adjusts for covariates,
the analysis is rerun leaving each covariate out in turn (leave-one-covariate-out, LOCO) to
show which baseline variables produce the simulated shift.

The run goes through the Monte Carlo engine (:mod:`tacebench.engine`): one cell per study,
whose replicate ``r`` uses ``stream_seed(seed, study id, r)`` (``SeedSequence(seed,
spawn_key=(crc32(id), r))``), so results are identical whatever ``n_jobs``, chunk or batch
size and whichever studies run together. A chunk's cohorts are drawn as one stack
(:func:`tacebench.simulate.generate_cohort_batch`, each replicate bit for bit its own
``generate_cohort``); the analyses then run replicate by replicate (within one analysed
sample the univariable Cox models of 0/1 terms and the SMDs are computed together, and
the outcome Cox models of all the batch's samples, see ``docs/batch.md``).

With ``world_uncertainty`` replicate ``r`` is drawn from the world of its block
``r // BLOCK_SIZE``: the study recalibrated to calibration inputs drawn from their sampling
distributions (:mod:`replications.world_uncertainty`), so the simulated distributions hold
the inputs' sampling error. It is off by default: on a known world (53 synthetic papers,
100 per arm) exact calibration already covered the paper's crude HR and 12-month rates
(coverage 0.98-1.00), because they share the sample of the calibrated medians, and drawing
the inputs only widened the intervals (log-HR width 0.70 -> 0.98) at 2-4 times the run
time. Verdicts within two Monte Carlo SEs of the
boundary get more replicates (R doubled, up to ``max_reps``, default 4 R; replicates
``R..2R-1`` use the same seeds whatever R was asked), then are ``undetermined``.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence

import numpy as np

from tacebench.engine import (MAX_REPS, Cell, Chunk, ChunkResult, Design, batches, run_design,
                              single_threaded_blas, stream_seed, workers_for)
from tacebench.estimators.batch import WorkerAllocator
from tacebench.simulate.calibration_quality import calibration_checks
from tacebench.simulate.response_quality import response_checks
from tacebench.simulate.cohort import compile_plan
from tacebench.simulate.io import spec_from_dict

from .analysis.kernels import NOTE_KEY
from .analysis.cox_prefit import prefit_cox
from .analysis.km_prefit import prefit_km_medians
from .analysis.prefit import batch_entries, prefit_propensity
from .plan import Plan, ReadingColumn, build_plan
from .prepare import prepare_replicate
from .shown import fill_shown
from .build import BATCH_SIZE, SimulateGenerator, pilot_levels, simulate_generator
from .study import Study
from .summaries import ReproductionResult, summarise
from .verdicts import UNDETERMINED
from .world_uncertainty import (MAX_ATTEMPTS, DrawnWorld, block_of, describe,
                                draw_inputs, n_blocks, world_seed)

__all__ = ["DEFAULT_REPS", "DEFAULT_SEED", "reproduce", "Plan", "build_plan", "prepare",
           "Prepared", "prepare_run", "calibration_of", "decompose_for", "ReadingColumn",
           "simulate_generator", "drawn_world", "MAX_REPS_FACTOR"]

DEFAULT_REPS = 200
DEFAULT_SEED = 20240917
#: Replicates on which the leave-one-covariate-out decomposition runs (it reruns an
#: analysis once per covariate, so it costs far more than the targets themselves; its
#: contributions are means of paired differences, reported with their MCSE).
DEFAULT_DECOMPOSE_REPS = 50
#: Replicates added to a study with undetermined verdicts: R doubled up to this times R.
MAX_REPS_FACTOR = 4

#: (cohort name, SeedSequence) -> (columns, levels); default: simulate.generate_cohort
Generator = Callable[[str, np.random.SeedSequence], tuple[Mapping, Mapping]]


def replicate_seed(seed: int, study_id: str, r: int) -> np.random.SeedSequence:
    """The seed of replicate ``r`` of a study (the engine's scheme, path ``(study id, r)``)."""
    return stream_seed(seed, study_id, r)


def prepare(study: Study, seed: int, decompose_reps: int = 0,
            generator: Generator | None = None) -> tuple[Generator, Plan]:
    """What a run of ``study`` draws with and analyses by: the generator (each cohort
    compiled and calibrated once), then the plan compiled against the levels of a pilot
    draw. Raises :class:`~replications.analysis.problems.StudyError` naming the cohort
    key when a cohort cannot be built (:mod:`replications.build`)."""
    generate = generator or simulate_generator(study)
    levels = pilot_levels(study, generate, replicate_seed(seed, study.id, 0).spawn(1)[0])
    return generate, build_plan(study, levels, decompose_reps)


def run_replicates(plan: Plan, generate: Generator, seed: int, indices: Sequence[int]
                   ) -> tuple[np.ndarray, dict[str, int], dict[tuple[str, str], int]]:
    """Draws for replicates ``indices``: (len(indices), targets + LOCO slots), note counts
    and failure counts.

    ``notes`` counts replicates per ``"<analysis>: <reason>"`` (the adjustment was not
    estimable: every target of the analysis is NaN), ``"<analysis>/<target>: <reason>"``
    (one estimate), ``"<analysis>: <reason>: <detail>"`` (diagnostics of a reason, such
    as a covariate level with no patient in one arm) and ``"<analysis>: note: <reason>"``
    (and its details) for a diagnostic that is not a failure (a :class:`Note`: R would
    warn and go on, e.g. a separated propensity model; the values are computed);
    ``failures`` counts replicates per (target or reading column id, reason) of a NaN
    draw (a reading's columns are not diagnosed: their notes are the declared run's). The
    leave-one-covariate-out reruns of an analysis are skipped on a replicate where the analysis itself is not estimable (the paired contribution needs
    both ends).
    """
    out = np.full((len(indices), plan.width), np.nan)
    notes: dict[str, int] = {}
    failures: dict[tuple[str, str], int] = {}

    def count(d, key):
        d[key] = d.get(key, 0) + 1

    kids = [replicate_seed(seed, plan.study_id, r).spawn(len(plan.cohorts) + 1)
            for r in indices]
    stacked = {c: (generate.batch(c, [ch[j] for ch in kids]) if hasattr(generate, "batch")
                   else [generate(c, ch[j])[0] for ch in kids])
               for j, c in enumerate(plan.cohorts)}
    # per replicate and cohort: fits shared by analyses, the batch's propensity fits first
    batch_cohorts = [{c: stacked[c][k] for c in plan.cohorts} for k in range(len(indices))]
    batch_caches = [{c: {} for c in plan.cohorts} for _ in indices]
    prefit_propensity(batch_entries(plan, indices), batch_cohorts, batch_caches)
    # every replicate's adjustments first, in the order of its runs (they draw from its
    # stream and share its matched samples), then the batch's outcome Cox models
    # together, then the estimates (which draw nothing), counted in that order
    prepared = [prepare_replicate(plan, kids[k], batch_cohorts[k], batch_caches[k],
                                  r < plan.decompose_reps) for k, r in enumerate(indices)]
    prefit_cox(p.ctx for rep in prepared for part in rep for p in part
               if p is not None and p.ctx is not None)
    prefit_km_medians(p.ctx for rep in prepared for part in rep for p in part
                      if p is not None and p.ctx is not None)
    for k, (runs, variants, shown, loco) in enumerate(prepared):
        for (ca, slots), p in zip(plan.runs, runs):
            name = ca.analysis.name
            vals, fails, diagnostics = ca.evaluate(p)
            out[k, slots] = vals
            for f in fails:
                tids = ([plan.target_ids[s] for s in slots] if f.index is None
                        else [plan.target_ids[slots[f.index]]])
                for tid in tids:
                    count(failures, (tid, f.reason))
                if f.index is None:
                    count(notes, f"{name}: {f.reason}")
                else:
                    count(notes, f"{name}/{tids[0]}: {f.reason}")
                for d in f.details:       # diagnostics, filed under the reason they explain
                    count(notes, f"{name}: {f.reason}: {d}")
            for n in diagnostics:
                count(notes, f"{name}: {NOTE_KEY}{n.reason}")
                for d in dict.fromkeys(n.details):
                    count(notes, f"{name}: {NOTE_KEY}{n.reason}: {d}")
        for (ca, slots, ids), p in zip(plan.variants, variants):
            vals, fails, _ = ca.evaluate(p, diagnose=False)
            out[k, slots] = vals
            for f in fails:       # a number judged under this reading gives its reasons
                for i in (ids if f.index is None else (ids[f.index],)):
                    count(failures, (i, f.reason))
        fill_shown(plan.shown, shown, out[k], lambda i, reason: count(failures, (i, reason)))
        for (ca, _, _, _, slots), p in zip(plan.loco, loco):
            if p is not None:
                out[k, slots] = ca.evaluate(p, diagnose=False)[0]
    return out, notes, failures


def drawn_world(study: Study, checks: Mapping, seed: int, block: int) -> tuple[DrawnWorld, Generator]:
    """Block ``block``'s world: inputs drawn (the first attempt simulate accepts) and the
    study recalibrated to them."""
    err = None
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng(world_seed(seed, study.id, block, attempt))
        raw, drawn = draw_inputs(study.cohort_raw, checks, rng)
        try:
            spec = spec_from_dict(raw, source=f"{study.path} drawn world {block}")
            plans = {name: compile_plan(spec, name) for name in spec.cohorts}
        except ValueError as exc:     # an infeasible draw (e.g. a mean a bound forbids)
            err = exc
            continue
        return DrawnWorld(block, attempt, raw, drawn), SimulateGenerator(plans)
    raise ValueError(f"{study.id}: world uncertainty: no drawn world of block {block} is "
                     f"valid in {MAX_ATTEMPTS} attempts; last: {err}")


@dataclass(frozen=True)
class _ReplicateTask:
    """The engine's task for one study: draws of a chunk's replicates, in batches; with
    ``worlds`` (block -> generator) each replicate from its block's world."""

    plan: Plan
    generate: Generator
    seed: int
    worlds: Mapping[int, Generator] | None = None

    def __call__(self, cell: Cell, chunk: Chunk, batch_size: int | None) -> ChunkResult:
        parts, notes, failures = [], Counter(), Counter()
        for reps in batches(chunk.reps, batch_size):
            groups = ([[r for r in reps if block_of(r) == b]
                       for b in dict.fromkeys(block_of(r) for r in reps)]
                      if self.worlds is not None else [reps])
            for group in groups:
                gen = self.worlds[block_of(group[0])] if self.worlds is not None \
                    else self.generate
                draws, ns, fs = run_replicates(self.plan, gen, self.seed, group)
                parts.append(draws)
                notes.update(ns)
                failures.update(fs)
        return ChunkResult(chunk, np.vstack(parts), dict(failures), dict(notes))


@dataclass(frozen=True)
class Prepared:
    """A study's set-up for :func:`reproduce`, computed before (and apart from) the run:
    the generator, the plan and the calibration checks, with the seed and LOCO replicates
    they were built for and the seconds they took."""

    study_id: str
    seed: int
    decompose_reps: int
    generate: Generator
    plan: Plan
    checks: Mapping | Callable[[], Mapping]
    seconds: float

    def calibration(self) -> dict:
        """The calibration checks: ``checks``, or what it returns when it is a callable
        (checks computed after the set-up, while the run goes; the summary waits here)."""
        return dict(self.checks() if callable(self.checks) else self.checks)


def decompose_for(decompose_reps: int, reps: int) -> int:
    """The LOCO replicates a run of ``reps`` replicates uses (0 to ``reps``)."""
    return min(max(int(decompose_reps), 0), reps)


@single_threaded_blas()  # as when prepare_run computed them (engine.blas)
def calibration_of(generate: Generator) -> dict:
    """The calibration checks of each cohort a generator simulates (none for a custom
    generator): its survival endpoints', then its response model's."""
    return {name: calibration_checks(p) + response_checks(p.report)
            for name, p in getattr(generate, "plans", {}).items()}


@single_threaded_blas()  # the plans compiled here as in the workers (engine.blas)
def prepare_run(study: Study, seed: int = DEFAULT_SEED, decompose_reps: int = 0,
                generator: Generator | None = None,
                checks: Callable[[], Mapping] | None = None) -> Prepared:
    """Everything :func:`reproduce` computes before its first replicate: :func:`prepare`
    and the calibration checks of each simulated cohort. A command that runs several
    studies prepares the next one while the workers run this one.

    Parameters
    ----------
    study : Study
    seed : int
        The run's root seed (the pilot draw uses replicate 0's stream).
    decompose_reps : int
        LOCO replicates of the run (:func:`decompose_for`).
    generator : callable, optional
        A custom generator, as :func:`reproduce` takes.
    checks : callable, optional
        Returns the calibration checks (:func:`calibration_of` of the generator) when the
        run's summary asks for them: the caller computes them after this returns, while
        the run goes, since no replicate needs them. Default: computed here.

    Returns
    -------
    Prepared
    """
    t0 = time.perf_counter()
    generate, plan = prepare(study, seed, decompose_reps, generator)
    return Prepared(study.id, seed, decompose_reps, generate, plan,
                    calibration_of(generate) if checks is None else checks,
                    time.perf_counter() - t0)


@single_threaded_blas()  # the plans compiled here as in the workers (engine.blas)
def reproduce(study: Study, *, reps: int = DEFAULT_REPS, seed: int = DEFAULT_SEED,
              n_jobs: int = 1, generator: Generator | None = None,
              decompose_reps: int = DEFAULT_DECOMPOSE_REPS,
              progress: Callable[[int], None] | None = None,
              batch_size: int | None = BATCH_SIZE, world_uncertainty: bool = False,
              max_reps: int | None = None, prepared: Prepared | None = None
              ) -> ReproductionResult:
    """Simulate ``study`` ``reps`` times and judge every simulated target and shift.

    ``decompose_reps`` replicates (the first ones) also run the leave-one-covariate-out
    decomposition of each shift (0 turns it off). ``batch_size`` replicates' cohorts are
    drawn as one stack; results do not depend on it, nor on ``n_jobs``.
    ``world_uncertainty``: each block of replicates from its own drawn world (ignored with
    a custom ``generator``, which has no calibration inputs). ``max_reps`` (default
    ``MAX_REPS_FACTOR * reps``; ``reps`` turns it off): while a verdict is undetermined,
    R is doubled up to it. ``prepared``: the set-up :func:`prepare_run` computed for this
    study, seed, generator and ``decompose_reps`` (its seconds count in the elapsed time).
    """
    if isinstance(reps, bool) or not isinstance(reps, int) or not 2 <= reps <= MAX_REPS:
        raise ValueError(f"reps must be an integer from 2 to {MAX_REPS}; got {reps!r}")
    decompose = decompose_for(decompose_reps, reps)
    if prepared is None:
        prepared = prepare_run(study, seed, decompose, generator)
    elif (prepared.study_id, prepared.seed, prepared.decompose_reps) != (study.id, seed,
                                                                        decompose):
        raise ValueError(f"prepared: set up for study {prepared.study_id!r}, seed "
                         f"{prepared.seed}, decompose_reps {prepared.decompose_reps}; the run "
                         f"is study {study.id!r}, seed {seed}, decompose_reps {decompose}")
    t0 = time.perf_counter() - prepared.seconds
    generate, plan = prepared.generate, prepared.plan
    wu = world_uncertainty and generator is None
    # drawn worlds need the checks before the run; otherwise only the summary does
    checks = prepared.calibration() if wu else None
    cap = min(MAX_REPS_FACTOR * reps if max_reps is None else max(int(max_reps), reps), MAX_REPS)
    worlds: dict[int, Generator] = {}
    drawn: set[str] = set()
    done, payloads, notes, failures = 0, [], Counter(), Counter()
    total, grown_for = reps, ()
    alloc = WorkerAllocator(os.getpid())
    while True:
        if wu:
            for b in range(n_blocks(total)):
                if b not in worlds:
                    w, worlds[b] = drawn_world(study, checks, seed, b)
                    drawn.update(w.drawn)
        design = Design.of({study.id: (study.id,)}, total, seed)
        mask = {0: np.arange(total) < done}
        chunk_size = (max(1, -(-(total - done) // (4 * workers_for(n_jobs)))) if n_jobs != 1
                      else max(1, reps // 10))
        outcome = run_design(design, _ReplicateTask(plan, generate, seed,
                                                    worlds if wu else None),
                             n_jobs=n_jobs, chunk_size=chunk_size, batch_size=batch_size,
                             progress=progress, initializer=alloc.setup,
                             upkeep=alloc.upkeep, done=mask)
        payloads += outcome.payloads()
        notes.update(outcome.notes)
        failures.update(outcome.failures)
        done = total
        draws = np.vstack(payloads)
        blocks = np.array([block_of(r) for r in range(total)]) if wu else None
        if checks is None:
            checks = prepared.calibration()
        result = summarise(study, plan, draws, dict(notes), reps=total, seed=seed,
                           elapsed=time.perf_counter() - t0, failures=dict(failures),
                           calibration=checks, blocks=blocks,
                           response_dependence=_response_dependence(generate),
                           world_uncertainty=describe(sorted(drawn), len(worlds))
                           if wu else "")
        if total > reps:  # (said, with what made it grow: see ReproductionResult.growth_note)
            result = replace(result, grown_from=reps, grown_for=grown_for)
        pending = tuple(x.id for x in (*result.targets, *result.shifts)
                        if x.verdict == UNDETERMINED)
        if not pending or 2 * total > cap:
            return result
        grown_for = grown_for or pending
        total *= 2


def _response_dependence(generate) -> dict | None:
    """Per cohort, which response columns depend on covariates (simulate's plans), or None
    for a custom generator."""
    plans = getattr(generate, "plans", None)
    if plans is None:
        return None
    return {name: p.outcomes.response_dependence for name, p in plans.items()}

