"""CPU time of the study runner's replicate loop, per method family and entry point.

    python -m tacebench.benchmarks.speed.loop_cost STUDY --reps 100 --chunk 63

(or ``python path/to/loop_cost.py ...`` with another installed version, to compare).

Runs :func:`benchmarks.runner.run_chunk` over every scenario of a study in chunks of
``--chunk`` replicates (63: the chunk of a 500-replicate run on 2 workers), in this process
with one BLAS thread (as a worker runs), after one untimed replicate per scenario so that
the cold start (plan compilation, which another measurement covers) is left out. Reports
the loop's CPU time (``time.process_time``) and how much of it each family's one-replicate
``fit`` and batched ``fit_batch`` took, and the cohort generation. The attribution wraps
the functions the runner looks up, so it adds a few microseconds per call; the numbers
fitted are the runner's.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections import defaultdict

import numpy as np

from tacebench.benchmarks import batch_chunk, runner
from tacebench.benchmarks.study import load_study
from tacebench.engine import single_threaded_blas


@dataclasses.dataclass(frozen=True)
class LoopCost:
    """``total`` seconds of CPU for the loop; ``parts``: (family, entry point) or
    ("cohorts", "generate") -> (seconds, calls)."""

    total: float
    parts: dict[tuple[str, str], tuple[float, int]]


def _timed(fn, key, seconds, calls):
    def wrapped(*args, **kwargs):
        t0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[key] += time.process_time() - t0
            calls[key] += 1
    return wrapped


def loop_cost(study, reps: int, chunk: int) -> LoopCost:
    """The replicate loop of ``study`` (``reps`` per scenario), attributed (module docstring)."""
    seconds: dict = defaultdict(float)
    calls: dict = defaultdict(int)
    get_fit, get_fit_batch, prepared = runner.get_fit, batch_chunk.get_fit_batch, runner.prepared

    def timed_batch(family):
        fn = get_fit_batch(family)
        return None if fn is None else _timed(fn, (family, "fit_batch"), seconds, calls)

    def timed_dgm(fingerprint, scenario):
        dgm = prepared(fingerprint, scenario)
        key = ("cohorts", "generate")
        timed = {"generate": _timed(dgm.generate, key, seconds, calls)}
        # (a code version before stacked generation has no generate_batch: this file also
        # measures it, run as a script with that version installed)
        if getattr(dgm, "generate_batch", None) is not None:
            timed["generate_batch"] = _timed(dgm.generate_batch, key, seconds, calls)
        return dataclasses.replace(dgm, **timed)

    with single_threaded_blas():
        for s in study.scenarios:  # the cold start, untimed
            runner.run_chunk(study, s.index, 0, 1)
        runner.get_fit = lambda family: _timed(get_fit(family), (family, "fit"), seconds, calls)
        batch_chunk.get_fit_batch, runner.prepared = timed_batch, timed_dgm
        try:
            t0 = time.process_time()
            for s in study.scenarios:
                for start in range(0, reps, chunk):
                    runner.run_chunk(study, s.index, start, min(reps, start + chunk))
            total = time.process_time() - t0
        finally:
            runner.get_fit, batch_chunk.get_fit_batch, runner.prepared = (
                get_fit, get_fit_batch, prepared)
    return LoopCost(total, {k: (seconds[k], calls[k]) for k in seconds})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--chunk", type=int, default=63)
    args = ap.parse_args(argv)
    if args.reps < 1 or args.chunk < 1:
        raise SystemExit(f"--reps and --chunk must be positive; got {args.reps}, {args.chunk}")
    study = load_study(args.study)
    load0 = os.getloadavg()[0]
    cost = loop_cost(study, args.reps, args.chunk)
    print(f"loop CPU {cost.total:.2f} s: {args.reps} reps x {len(study.scenarios)} scenarios, "
          f"chunks of {args.chunk}; load average {load0:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end")
    for (family, entry), (sec, n) in sorted(cost.parts.items(), key=lambda kv: -kv[1][0]):
        print(f"  {family:14s} {entry:10s} {sec:7.2f} s {100 * sec / cost.total:5.1f}%  "
              f"{n:6d} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
