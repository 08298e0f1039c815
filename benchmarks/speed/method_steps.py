"""CPU time per step of the matching methods, AIPTW RMST and IPTW, per replicate of a study scenario.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        python -m tacebench.benchmarks.speed.method_steps default --scenario 0 --reps 30

Where :mod:`benchmarks.speed.method_cost` times a method's whole ``fit``, this times its
steps: the pieces its ``fit`` calls, called in the same order on the same replicate (each
step's inputs are the previous steps' outputs), each the best of ``--repeat`` passes per
replicate, averaged over the replicates, in ms of process CPU time. The total of the steps
is close to, not equal to, the method's cost (``fit`` also validates and packs its output).
Every pass fits every step afresh: the replicate's store of shared fits is left out, so a
step that a run shares (the PS model) is charged in full to each method that needs it, as
:mod:`benchmarks.speed.method_cost` charges it without ``--one-store``.

``iptw_ate_stabilized`` is the yardstick of the menu's costs; the ``AIPTW RMST`` rows
include its ``g-formula arm`` steps (the outcome model's predictions at every event time
and their IF, what any outcome-model RMST must compute), so that the floor of the
AIPTW's necessary steps -- its three working models and that -- can be set against
IPTW's whole cost.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from tacebench.benchmarks.dgm import prepared
from tacebench.benchmarks.methods import SHARED_FITS
from tacebench.benchmarks.methods._common import (balance_columns, covariate_design, outcome,
                                                  propensity, treated, treatment_cox_fit)
from tacebench.benchmarks.methods.matching import matched_cox
from tacebench.benchmarks.runner import replicate_seed
from tacebench.benchmarks.speed.method_cost import scenario_parser
from tacebench.benchmarks.study import load_study

COVARIATES = ["*", "-ehs_sites"]


def _cox_on_match(data, m):
    return matched_cox(*outcome(data, "os"), m)


def _psm(data, step):
    from tacebench.estimators.matching_nearest import match_nearest_kernel

    ps, _ = step("PS model", propensity, data, COVARIATES)
    z = np.asarray(data["treated"], dtype=np.int8)
    m = step("greedy match", match_nearest_kernel, ps, z, 0.2, "logit_sd", "pooled", 1,
             False, "data", None)
    step("matched Cox (cluster SE)", _cox_on_match, data, m)
    # a run makes the columns once per replicate for all methods that record the same SMDs
    columns = step("balance columns (unmatched sample)", balance_columns, data, COVARIATES)
    step("SMDs of the matched sample", columns.absolute_smds, m.weights)


def _optimal(data, step):
    from tacebench.estimators.matching_optimal import match_optimal_kernel

    ps, _ = step("PS model", propensity, data, COVARIATES)
    z = np.asarray(data["treated"], dtype=np.int8)
    m = step("optimal pairs", match_optimal_kernel, ps, z, "logit")
    step("matched Cox (cluster SE)", _cox_on_match, data, m)


def _mahalanobis(data, step):
    from tacebench.estimators.matching_mahalanobis import match_mahalanobis_kernel

    z = np.asarray(data["treated"], dtype=np.int8)
    X = step("design", covariate_design, data, COVARIATES)
    m = step("Mahalanobis match", match_mahalanobis_kernel, X, z, None, "overall", 1, False)
    step("matched Cox (cluster SE)", _cox_on_match, data, m)


def _iptw(data, step):
    from tacebench.estimators.kernels import iptw_weights_kernel

    ps, _ = step("PS model", propensity, data, COVARIATES)
    z = treated(data)
    w = step("weights", iptw_weights_kernel, ps, z, "ATE", True, None)
    t, e = outcome(data, "os")
    step("weighted Cox (robust SE)", treatment_cox_fit, t, e, z, None, w, robust=True,
         keep_zero_weights=True)


def _aiptw_rmst(data, step):
    from tacebench.estimators.survival.aiptw import aiptw_arms, arm_free_terms
    from tacebench.estimators.survival.gformula import gformula_arm
    from tacebench.estimators.survival.ate_nuisance import fit_breslow_cox, fit_treatment_model

    t, e = outcome(data, "os")
    e = e.astype(np.float64)
    z = np.asarray(data["treated"], dtype=np.float64)
    X = step("design", covariate_design, data, COVARIATES)
    D, Xc = np.column_stack([z, X]), np.column_stack([z, X])
    out = step("outcome Cox", fit_breslow_cox, t, e, D)
    trt = step("treatment logistic", fit_treatment_model, z, X)
    cens = step("censoring Cox", fit_breslow_cox, t, 1.0 - e, Xc)
    horizons = np.array([6.0, 12.0, 24.0])
    grid = np.unique(t[(e == 1) & (t < horizons[-1])])
    u = np.concatenate(([0.0], grid))
    width = np.clip(np.minimum(np.concatenate((grid, [np.inf]))[:, None], horizons)
                    - u[:, None], 0.0, None)[1:]
    D_arms = []
    for arm in (0, 1):
        D_arms.append(D.copy())
        D_arms[arm][:, 0] = arm
    shared = step("AIPTW arm-free terms", arm_free_terms, t, e, out, cens, Xc, grid, width)
    step("AIPTW arms (every event time)", aiptw_arms, t, e, z, out, D_arms, trt, cens, Xc,
         grid, width, shared)
    for arm in (0, 1):  # not an AIPTW step: the floor of any outcome-model RMST arm
        step(f"(g-formula arm {arm}, for the floor)", gformula_arm, out, D_arms[arm], grid,
             width)


METHODS = {"iptw_ate_stabilized": _iptw, "psm": _psm, "optimal_match": _optimal,
           "mahalanobis_match": _mahalanobis, "aiptw_rmst (3 rows)": _aiptw_rmst}


def step_costs(study, scenario_index: int, reps: int, repeat: int) -> dict[str, dict]:
    """``{method: {step: ms per replicate}}`` (best of ``repeat`` per replicate, mean)."""
    scenario = study.scenarios[scenario_index]
    dgm = prepared(study.fingerprint, scenario)
    # without the replicate's store of shared fits: each pass pays for every step
    datasets = [{k: v for k, v in dgm.generate(np.random.default_rng(
        replicate_seed(study.seed, scenario.name, r))).items() if k != SHARED_FITS}
        for r in range(reps)]
    out = {}
    for name, method in METHODS.items():
        best: dict[str, np.ndarray] = {}
        for r, data in enumerate(datasets):
            for _ in range(repeat):
                def step(label, f, *args, **kwargs):
                    t0 = time.process_time()
                    res = f(*args, **kwargs)
                    cell = best.setdefault(label, np.full(reps, np.inf))
                    cell[r] = min(cell[r], time.process_time() - t0)
                    return res
                try:
                    method(data, step)
                except ValueError:  # a replicate the method cannot fit: its steps so far
                    pass
        out[name] = {label: 1e3 * float(np.mean(v[np.isfinite(v)])) for label, v in best.items()}
    return out


def _table(costs: dict[str, dict]) -> list[str]:
    """The steps of each method with their total (a step in parentheses is not the
    method's own and is left out of it) and, against IPTW's total, the AIPTW's floor: its
    design and working models plus the g-formula arms."""
    lines = []
    base = sum(costs.get("iptw_ate_stabilized", {}).values()) or np.nan
    for name, steps in costs.items():
        total = sum(ms for label, ms in steps.items() if not label.startswith("("))
        lines.append(f"{name:24s} total {total:6.2f}  {total / base:5.2f}x IPTW")
        lines += [f"    {label:34s} {ms:6.2f}" for label, ms in steps.items()]
        if name.startswith("aiptw_rmst"):
            floor = sum(ms for label, ms in steps.items() if "AIPTW" not in label)
            lines.append(f"    floor (models + g-formula arms)    {floor:6.2f}  "
                         f"{floor / base:5.2f}x IPTW, {floor / 3 / base:5.2f}x per row")
    return lines


def main(argv=None) -> int:
    args = scenario_parser(__doc__, reps=30, repeat=3).parse_args(argv)
    study = load_study(args.study)
    lines = [f"# load average {os.getloadavg()[0]:.1f} at start; {args.reps} replicates, "
             f"best of {args.repeat} per step, CPU ms per replicate"]
    for s in args.scenario:
        lines += [f"## {study.scenarios[s].name}",
                  *_table(step_costs(study, s, args.reps, args.repeat))]
    print("\n".join(lines + [f"# load average {os.getloadavg()[0]:.1f} at end"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
