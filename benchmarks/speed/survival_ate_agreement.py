"""Do two installs of the package give the same marginal survival contrasts? Before/after check
of a change to the survival_ate kernels on the default study's replicates.

    python -m tacebench.benchmarks.speed.survival_ate_agreement dump before.npz --reps 10
    # (switch to the other install or commit)
    python -m tacebench.benchmarks.speed.survival_ate_agreement dump after.npz --reps 10
    python -m tacebench.benchmarks.speed.survival_ate_agreement compare before.npz after.npz

``dump`` fits every survival_ate shared fit of the study (one per distinct fit key: quantity,
estimators, horizons, ...) on the first ``--reps`` replicates of each scenario and stores the
estimates, SEs and influence functions; a fit that fails is stored as failed. ``compare``
prints, per fit and quantity, the largest relative difference (the influence functions
relative to each column's largest term) and whether the same fits failed.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

FIELDS = ("risk", "rmst", "se", "difference", "se_difference", "ratio", "se_ratio", "iid")
SCENARIOS = (0, 5, 9, 10)


def fitted_arrays(study, scenario_indices, reps: int) -> dict[str, np.ndarray]:
    """``{"scenario:replicate|fit|field": array}`` for every survival_ate shared fit."""
    from tacebench.benchmarks.dgm import prepared
    from tacebench.benchmarks.methods import survival_ate, validate_method
    from tacebench.benchmarks.runner import replicate_seed

    fits = {}
    for m in study.methods:
        if m.family == "survival_ate":
            config = validate_method(m.family, m.config, where=m.name)
            key = repr((config["quantity"], config["estimators"], config["horizons"],
                        config["covariates"], config["censoring"], config["endpoint"]))
            fits.setdefault(key, (m.name, config))
    out = {}
    for s in scenario_indices:
        scenario = study.scenarios[s]
        dgm = prepared(study.fingerprint, scenario)
        for r in range(reps):
            data = dgm.generate(np.random.default_rng(replicate_seed(study.seed, scenario.name,
                                                                     r)))
            for name, config in fits.values():
                where = f"{s}:{r}|{name}"
                try:
                    res = survival_ate._fit_all(data, config)
                except ValueError:  # a working model is not estimable: compare that too
                    out[f"{where}|failed"] = np.ones(1)
                    continue
                for f in FIELDS:
                    if hasattr(res, f):
                        out[f"{where}|{f}"] = np.asarray(getattr(res, f), dtype=np.float64)
    return out


def largest_differences(a: dict, b: dict) -> dict[tuple[str, str], tuple[float, bool]]:
    """Per (fit, field): the largest relative difference and whether the same entries are
    NaN; a key present in only one of ``a`` and ``b`` is an error."""
    if set(a) != set(b):
        raise ValueError(f"the dumps hold different fits: {sorted(set(a) ^ set(b))[:5]}")
    worst: dict[tuple[str, str], tuple[float, bool]] = {}
    for key in sorted(a):
        x, y = a[key], b[key]
        _, fit, field = key.split("|")
        scale = np.abs(x)
        if field == "iid":  # an influence function: relative to its column's largest term
            scale = np.nanmax(scale, axis=-2, keepdims=True)
        ok = np.isfinite(x) & np.isfinite(y)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(scale > 0, np.abs(x - y) / scale, np.abs(x - y))[ok]
        prev = worst.get((fit, field), (0.0, True))
        worst[(fit, field)] = (max(prev[0], float(rel.max(initial=0.0))),
                               prev[1] and np.array_equal(np.isnan(x), np.isnan(y)))
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--study", default="default")
    d.add_argument("--reps", type=int, default=10)
    d.add_argument("--scenario", type=int, action="append")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = ap.parse_args(argv)
    if args.command == "dump":
        from tacebench.benchmarks.study import load_study

        arrays = fitted_arrays(load_study(args.study), args.scenario or SCENARIOS, args.reps)
        np.savez(args.out, **arrays)
        print(f"{len(arrays)} arrays written")
        return 0
    with np.load(args.before) as fa, np.load(args.after) as fb:
        worst = largest_differences(dict(fa), dict(fb))
    for (fit, field), (rel, same_nan) in worst.items():
        print(f"{fit:20s} {field:14s} max relative difference {rel:.1e}"
              f"{'' if same_nan else '  NaN in different places'}")
    print(f"largest: {max(v[0] for v in worst.values()):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
