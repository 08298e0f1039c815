"""Per-replicate cost of each method of a study, fitted one replicate at a time, against one.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        python -m tacebench.benchmarks.speed.method_cost default \\
        --scenario 0 --scenario 9 --reps 12 --repeat 2 --against iptw_ate_stabilized

Each replicate's cohort is generated once (not timed); then every method of the scenario
is fitted in the study's order on that replicate's columns, by its one-replicate ``fit``
(the study runner fits the families with a batched entry across a chunk's replicates
instead: :mod:`benchmarks.batch_chunk`). Each method pays for every fit
it needs (its own fresh :class:`~benchmarks.methods.SharedFits`), except that the rows of
one survival_ate shared fit share one store, as in a run, and are reported per row: the
group's total time over its rows, so the shared fit is charged once and split evenly. Each
(method, replicate) cell is the best of ``--repeat`` passes over the same replicates (the
least disturbed by other processes); a method's cost is their mean over the replicates.
Times are the process's CPU time (``time.process_time``; run with single-threaded BLAS),
not wall-clock: on a shared machine the wall-clock time of a millisecond call measures the
other processes as much as the call. ``--one-store``: all methods of a replicate share one
store, as in a run, so a fit that several methods share (the PS model of the matching
family, the working models of survival_ate) is charged to the first method that needs it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from tacebench.benchmarks.dgm import prepared
from tacebench.benchmarks.methods import SHARED_FITS, SharedFits, get_fit, validate_method
from tacebench.benchmarks.runner import method_seed, replicate_seed
from tacebench.benchmarks.study import load_study


def _share_group(method) -> str:
    """Methods whose shared fit is one: survival_ate rows with the same fit options."""
    c = method.config
    if method.family == "survival_ate":
        return "survival_ate:" + repr((c.get("quantity"), tuple(c.get("estimators", ()))))
    return method.name


def scenario_costs(study, scenario_index: int, reps: int, repeat: int,
                   extra: tuple[str, ...] = (), one_store: bool = False) -> dict[str, float]:
    """Seconds per replicate per method (shared fits split over their rows); ``extra``
    names study methods to run as well though the scenario does not declare them;
    ``one_store``: one store per replicate for all methods, as in a run."""
    if not 0 <= scenario_index < len(study.scenarios):
        raise ValueError(f"--scenario {scenario_index}: study {study.name!r} has scenarios "
                         f"0..{len(study.scenarios) - 1}")
    scenario = study.scenarios[scenario_index]
    dgm = prepared(study.fingerprint, scenario)
    methods = [m for m in study.methods if m.name in scenario.methods or m.name in extra]
    fits = [(m, get_fit(m.family), validate_method(m.family, m.config, where=m.name))
            for m in methods]
    datasets = [dgm.generate(np.random.default_rng(replicate_seed(study.seed, scenario.name, r)))
                for r in range(reps)]
    # the best of ``repeat`` passes per (method, replicate) cell, then summed: a load spike
    # on a shared machine inflates one cell of one pass, not a whole pass
    best = {m.name: np.full(reps, np.inf) for m in methods}
    for _ in range(repeat):
        for r, data in enumerate(datasets):
            stores: dict[str, SharedFits] = {}
            for m, fit, config in fits:
                group = "" if one_store else _share_group(m)
                own = {**data, SHARED_FITS: stores.setdefault(group, SharedFits())}
                rng = np.random.default_rng(method_seed(study.seed, scenario.name, r, m.name))
                t0 = time.process_time()
                try:
                    fit(own, config, rng)
                except Exception:  # a failure is part of the method's cost, as in a run
                    pass
                best[m.name][r] = min(best[m.name][r], time.process_time() - t0)
    groups: dict[str, list[str]] = {}
    for m in methods:
        groups.setdefault(_share_group(m), []).append(m.name)
    out = {}
    for names in groups.values():
        total = sum(best[n].sum() for n in names) / reps
        for n in names:
            out[n] = total / len(names)
    return out


def scenario_parser(doc: str, reps: int, repeat: int) -> argparse.ArgumentParser:
    """The options of a per-replicate timing over study scenarios: study, scenarios, reps,
    repeat."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("study")
    ap.add_argument("--scenario", type=int, action="append", required=True)
    ap.add_argument("--reps", type=int, default=reps)
    ap.add_argument("--repeat", type=int, default=repeat)
    return ap


def main(argv=None) -> int:
    ap = scenario_parser(__doc__, reps=12, repeat=2)
    ap.add_argument("--against", default="iptw_ate_stabilized")
    ap.add_argument("--with", dest="extra", action="append", default=[],
                    help="a study method to run on the scenarios though they do not declare it")
    ap.add_argument("--one-store", action="store_true",
                    help="one store of shared fits per replicate for all methods, as in a run")
    args = ap.parse_args(argv)
    study = load_study(args.study)
    print(f"# load average {os.getloadavg()[0]:.1f} at start; {args.reps} replicates, "
          f"best of {args.repeat} per cell, CPU time"
          + ("; one store per replicate, as in a run" if args.one_store else ""))
    for s in args.scenario:
        costs = scenario_costs(study, s, args.reps, args.repeat, tuple(args.extra),
                               args.one_store)
        base = costs.get(args.against, np.nan)
        print(f"## {study.scenarios[s].name}: {args.against} {1e3 * base:.1f} ms")
        for name, sec in costs.items():
            print(f"{name:28s} {1e3 * sec:9.1f} ms {sec / base:6.2f}x")
    print(f"# load average {os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
