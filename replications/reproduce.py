"""The reproduction run: simulate a study R times, analyse each replicate the paper's way.

For each replicate the study's cohorts are generated once (simulate), every analysis of the
plan runs on them (compiled once, see :mod:`replications.analysis.compile`), and every
simulated target gets one draw, so that paired shifts (issue 8) are differences of two
draws *from the same cohort*. For each shift whose ``to`` analysis adjusts for covariates,
the analysis is rerun leaving each covariate out in turn (leave-one-covariate-out, LOCO) to
show which baseline variables produce the simulated shift.

Randomness: replicate ``r`` of a study uses ``SeedSequence(seed, spawn_key=(crc32(id),
r))``, so results are identical whatever ``n_jobs`` and whichever studies run together.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from .analysis.compile import CompiledAnalysis
from .check import bind_study
from .analysis.schema import schema_from_spec
from .study import Study
from .summaries import ReproductionResult, summarise

__all__ = ["DEFAULT_REPS", "DEFAULT_SEED", "reproduce", "Plan", "build_plan",
           "simulate_generator"]

DEFAULT_REPS = 200
DEFAULT_SEED = 20240917
#: Replicates on which the leave-one-covariate-out decomposition runs (it reruns an
#: analysis once per covariate, so it costs far more than the targets themselves; its
#: contributions are means of paired differences, reported with their MCSE).
DEFAULT_DECOMPOSE_REPS = 50

#: (cohort name, SeedSequence) -> (columns, levels); default: simulate.generate_cohort
Generator = Callable[[str, np.random.SeedSequence], tuple[Mapping, Mapping]]


def simulate_generator(study: Study) -> Generator:
    """Generate the study's cohorts with simulate, compiling (calibrating) each cohort once.

    The compiled plans are plain picklable data, so workers receive them ready to draw.
    """
    from tacebench.simulate.cohort import compile_plan

    plans = {name: compile_plan(study.spec, name) for name in study.spec.cohorts}
    return _SimulateGenerator(plans)


class _SimulateGenerator:
    def __init__(self, plans):
        self.plans = plans

    def __call__(self, cohort: str, seed: np.random.SeedSequence):
        from tacebench.simulate.cohort import generate_cohort
        # the true propensity is the generator's truth, never used by an analysis
        c = generate_cohort(self.plans[cohort], seed=seed, with_ps=False)
        return c.columns, dict(c.levels)


@dataclass
class Plan:
    """Everything a worker needs for one study, compiled once."""

    study_id: str
    cohorts: tuple[str, ...]
    target_ids: tuple[str, ...]
    runs: list[tuple[CompiledAnalysis, list[int]]]      # analysis, output slots
    loco: list[tuple[CompiledAnalysis, str, object, list, list[int]]] = field(
        default_factory=list)                              # analysis, term, adj, reqs, slots
    loco_keys: tuple[tuple[str, str, str], ...] = ()       # (analysis, term, target) per slot
    decompose_reps: int = 0                                 # LOCO on replicates r < this
    problems: list = field(default_factory=list)
    requests: dict = field(default_factory=dict)


def _study_key(study_id: str) -> int:
    return zlib.crc32(study_id.encode("utf-8"))


def replicate_seed(seed: int, study_id: str, r: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(_study_key(study_id), r))


def build_plan(study: Study, levels: Mapping[str, Mapping], decompose_reps: int = 0) -> Plan:
    """Compile the study's analyses against the generated levels and lay out the outputs."""
    schemas = {name: schema_from_spec(study.cohort_raw, name)
               for name in study.cohort_raw.get("cohorts", {})}
    compiled, requests, problems = bind_study(study.cohort_raw, study.targets, study.plan,
                                              schemas, levels)
    order = [t.id for t in study.targets.targets if t.id in requests]
    slot = {tid: i for i, tid in enumerate(order)}
    runs = []
    for name, ca in compiled.items():
        mine = [tid for tid in order if requests[tid][0] == name]
        if mine:
            ca.requests = [requests[tid][1] for tid in mine]
            runs.append((ca, [slot[tid] for tid in mine]))
    cohorts = tuple(dict.fromkeys(ca.analysis.cohort for ca, _ in runs))
    plan = Plan(study.id, cohorts, tuple(order), runs, problems=problems, requests=requests,
                decompose_reps=decompose_reps)
    if decompose_reps > 0:
        _plan_loco(plan, study, compiled, requests)
    return plan


def _plan_loco(plan: Plan, study: Study, compiled, requests) -> None:
    """One LOCO rerun per (analysis, covariate) for the ``to`` end of every shift."""
    wanted: dict[str, list[str]] = {}
    for s in study.targets.shifts:
        if s.from_ in requests and s.to in requests:
            wanted.setdefault(requests[s.to][0], [])
            if s.to not in wanted[requests[s.to][0]]:
                wanted[requests[s.to][0]].append(s.to)
    keys, n_out = [], len(plan.target_ids)
    for name, tids in wanted.items():
        ca = compiled[name]
        if not ca.schema.comparative:
            continue
        reqs = [requests[t][1] for t in tids]
        for term in ca.adjustment.loco_terms:
            slots = list(range(n_out, n_out + len(tids)))
            n_out += len(tids)
            plan.loco.append((ca, term, ca.adjustment.without(term), reqs, slots))
            keys.extend((name, term, t) for t in tids)
    plan.loco_keys = tuple(keys)


def run_replicates(plan: Plan, generate: Generator, seed: int, indices: Sequence[int]
                   ) -> tuple[np.ndarray, dict[str, int], dict[tuple[str, str], int]]:
    """Draws for replicates ``indices``: (len(indices), targets + LOCO slots), note counts
    and failure counts.

    ``notes`` counts replicates per ``"<analysis>: <reason>"`` (the adjustment was not
    estimable: every target of the analysis is NaN), ``"<analysis>/<target>: <reason>"``
    (one estimate) and ``"<analysis>: <reason>: <detail>"`` (diagnostics of a reason, such
    as a covariate level with no patient in one arm); ``failures`` counts replicates per (target id, reason) of
    a NaN draw. The leave-one-covariate-out reruns of an analysis are skipped on a
    replicate where the analysis itself is not estimable (the paired contribution needs
    both ends).
    """
    width = len(plan.target_ids) + len(plan.loco_keys)
    out = np.full((len(indices), width), np.nan)
    notes: dict[str, int] = {}
    failures: dict[tuple[str, str], int] = {}

    def count(d, key):
        d[key] = d.get(key, 0) + 1

    for k, r in enumerate(indices):
        ss = replicate_seed(seed, plan.study_id, r)
        children = ss.spawn(len(plan.cohorts) + 1)
        cohorts = {c: generate(c, children[j])[0] for j, c in enumerate(plan.cohorts)}
        rng = np.random.default_rng(children[-1])
        caches: dict = {c: {} for c in plan.cohorts}   # per cohort: fits shared by analyses
        failed: set[str] = set()
        for ca, slots in plan.runs:
            name = ca.analysis.name
            vals, fails = ca.run(cohorts[ca.analysis.cohort], rng,
                                 cache=caches[ca.analysis.cohort])
            out[k, slots] = vals
            for f in fails:
                tids = ([plan.target_ids[s] for s in slots] if f.index is None
                        else [plan.target_ids[slots[f.index]]])
                for tid in tids:
                    count(failures, (tid, f.reason))
                if f.index is None:
                    failed.add(name)
                    count(notes, f"{name}: {f.reason}")
                else:
                    count(notes, f"{name}/{tids[0]}: {f.reason}")
                for d in f.details:       # diagnostics, filed under the reason they explain
                    count(notes, f"{name}: {f.reason}: {d}")
        for ca, _, adj, reqs, slots in (plan.loco if r < plan.decompose_reps else ()):
            if ca.analysis.name in failed:
                continue
            vals, _ = ca.run(cohorts[ca.analysis.cohort], rng, adjustment=adj, requests=reqs,
                             cache=caches[ca.analysis.cohort])
            out[k, slots] = vals
    return out, notes, failures


def _chunks(reps: int, n_chunks: int) -> list[list[int]]:
    size = max(1, -(-reps // n_chunks))
    return [list(range(a, min(a + size, reps))) for a in range(0, reps, size)]


def reproduce(study: Study, *, reps: int = DEFAULT_REPS, seed: int = DEFAULT_SEED,
              n_jobs: int = 1, generator: Generator | None = None,
              decompose_reps: int = DEFAULT_DECOMPOSE_REPS,
              progress: Callable[[int], None] | None = None) -> ReproductionResult:
    """Simulate ``study`` ``reps`` times and judge every simulated target and shift.

    ``decompose_reps`` replicates (the first ones) also run the leave-one-covariate-out
    decomposition of each shift (0 turns it off).
    """
    if not isinstance(reps, int) or reps < 2:
        raise ValueError(f"reps must be an integer >= 2; got {reps!r}")
    t0 = time.perf_counter()
    generate = generator or simulate_generator(study)
    pilot = replicate_seed(seed, study.id, 0).spawn(1)[0]
    levels = {name: generate(name, pilot)[1] for name in study.cohort_raw.get("cohorts", {})}
    plan = build_plan(study, levels, min(max(int(decompose_reps), 0), reps))
    chunks = _chunks(reps, max(1, 4 * n_jobs) if n_jobs != 1 else max(1, reps // 10))
    parts: dict[int, np.ndarray] = {}
    notes: dict[str, int] = {}
    failures: dict[tuple[str, str], int] = {}
    if n_jobs == 1:
        results = (run_replicates(plan, generate, seed, c) for c in chunks)
    else:
        from joblib import Parallel, delayed
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(run_replicates)(plan, generate, seed, c) for c in chunks)
    for c, (draws, ns, fs) in zip(chunks, results):
        parts[c[0]] = draws
        for n, k in ns.items():
            notes[n] = notes.get(n, 0) + k
        for f, k in fs.items():
            failures[f] = failures.get(f, 0) + k
        if progress is not None:
            progress(len(c))
    draws = np.vstack([parts[c[0]] for c in chunks])
    return summarise(study, plan, draws, notes, reps=reps, seed=seed,
                     elapsed=time.perf_counter() - t0, failures=failures)
