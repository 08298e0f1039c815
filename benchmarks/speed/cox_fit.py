"""CPU time of one multivariable Cox fit at study sizes, and of the survival ATE working
models, for two installed versions back to back.

    python -m tacebench.benchmarks.speed.cox_fit --against /path/to/other/venv/bin/python

(or ``python path/to/cox_fit.py --worker`` with one version alone). Each round runs a worker
in this interpreter and one in the other, alternately, so both see the same machine load;
a cell is the least CPU time (``time.process_time``) of one call over ``--trials`` calls,
the minimum over rounds, in microseconds, with one BLAS thread. Cells:

- ``fit_cox`` at n = 200 / 400 / 1000 rows, 10 covariates (two 0/1), Efron and Breslow
  ties, with and without tied times (seeded data);
- ``fit_breslow_cox`` outcome and censoring models (the AIPTW working models) on the first
  replicates of the default study's scenario 0 (423 rows, 21 columns).

The workers call only the public kernels, so an older version runs the same file.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def _data(n: int, p: int, tied: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, :2] = rng.integers(0, 2, (n, 2))
    lp = X @ (0.2 * rng.normal(size=p))
    t, c = rng.exponential(np.exp(-lp)), rng.exponential(1.5, n)
    time_, event = np.minimum(t, c), (t <= c).astype(np.float64)
    if tied:
        time_ = np.ceil(time_ * 20) / 20
    return time_, event, X


def _aiptw_designs(reps: int):
    from tacebench.benchmarks.dgm import prepared
    from tacebench.benchmarks.methods import SHARED_FITS
    from tacebench.benchmarks.methods._common import covariate_design, outcome
    from tacebench.benchmarks.runner import replicate_seed
    from tacebench.benchmarks.study import load_study
    study = load_study("default")
    scenario = study.scenarios[0]
    dgm = prepared(study.fingerprint, scenario)
    out = []
    for r in range(reps):
        data = {k: v for k, v in dgm.generate(np.random.default_rng(
            replicate_seed(study.seed, scenario.name, r))).items() if k != SHARED_FITS}
        t, e = outcome(data, "os")
        z = np.asarray(data["treated"], dtype=np.float64)
        X = covariate_design(data, ["*", "-ehs_sites"])
        out.append((t, e.astype(np.float64), np.column_stack([z, X])))
    return out


def _least(f, trials: int) -> float:
    best = float("inf")
    for _ in range(trials):
        t0 = time.process_time()
        f()
        best = min(best, time.process_time() - t0)
    return best * 1e6


def worker(trials: int) -> dict:
    """``{cell: microseconds}`` for this interpreter's version."""
    from tacebench.estimators.kernels import fit_cox
    from tacebench.estimators.survival.ate_nuisance import fit_breslow_cox
    out = {}
    for n in (200, 400, 1000):
        for tied in (False, True):
            t, e, X = _data(n, 10, tied)
            w = np.ones(n)
            for ties in ("efron", "breslow"):
                out[f"fit_cox n={n} p=10 {ties}{' tied' if tied else ''}"] = _least(
                    lambda: fit_cox(t, e, X, w, ties=ties), trials)
    designs = _aiptw_designs(5)
    for label, flip in (("outcome", False), ("censoring", True)):
        out[f"fit_breslow_cox {label} n=423 p=21 (mean of 5)"] = float(np.mean([
            _least(lambda: fit_breslow_cox(t, 1.0 - e if flip else e, X), trials)
            for t, e, X in designs]))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", help="another version's python, run alternately")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.trials)))
        return 0
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    pythons = {"this": sys.executable}
    if args.against:
        pythons["other"] = args.against
    best: dict[str, dict] = {}
    loads = []
    for _ in range(args.rounds):
        for name, py in pythons.items():
            loads.append(os.getloadavg()[0])
            res = json.loads(subprocess.run(
                [py, os.path.abspath(__file__), "--worker", "--trials", str(args.trials)],
                env=env, cwd="/", capture_output=True, text=True, check=True).stdout)
            for cell, v in res.items():
                best.setdefault(cell, {})[name] = min(v, best.get(cell, {}).get(name, v))
    print(f"# least CPU us per call; load average {min(loads):.1f}-{max(loads):.1f}")
    for cell, v in best.items():
        row = f"{cell:48s} this {v['this']:8.0f}"
        if "other" in v:
            row += f"  other {v['other']:8.0f}  this/other {v['this'] / v['other']:.2f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
