"""From the tidy replicate table to the tidy performance table (one row per measure)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .measures import performance_measures, wald_interval, wald_p_value

#: Columns of :func:`performance_table`.
PERFORMANCE_COLUMNS = ("scenario_index", "scenario", "method", "estimand", "truth", "measure",
                       "value", "mcse", "n", "n_reps", "n_errors", "n_nonconverged")


def performance_table(results: pd.DataFrame, truths: pd.DataFrame, *, level: float = 0.95,
                      alpha: float = 0.05, measures=None) -> pd.DataFrame:
    """Performance of every (scenario, method) with Monte Carlo SEs, in long (tidy) form.

    Parameters
    ----------
    results : the replicate table of a run (:func:`benchmarks.runner.load_results`).
    truths : ``scenario_index, estimand, truth``.
    level, alpha : nominal CI level and test size (power / type I error at ``H0: theta = 0``:
        the Wald test at ``alpha``, or, for a replicate with its own CI, the null outside
        that CI).
    measures : subset of :data:`benchmarks.measures.MEASURES` to keep (default all).
    """
    need = {"scenario_index", "scenario", "method", "method_index", "estimand", "estimate",
            "se", "ci_lower", "ci_upper", "converged", "error"}
    missing = need - set(results.columns)
    if missing:
        raise ValueError(f"results is missing columns {sorted(missing)}")
    truth_of = {(int(r.scenario_index), r.estimand): float(r.truth)
                for r in truths.itertuples(index=False)}
    rows = []
    # the columns as arrays once, each (scenario, method) a set of row positions (in table
    # order, as its group's rows): per-group pandas indexing costs more than the measures
    col = {c: results[c].to_numpy() for c in ("scenario", "method", "estimand")}
    est_all, se_all = (results[c].to_numpy(float) for c in ("estimate", "se"))
    lo_all, hi_all = (results[c].to_numpy(float) for c in ("ci_lower", "ci_upper"))
    conv_all = results["converged"].to_numpy(bool)
    failed_all = (results["error"].astype(str) != "").to_numpy()
    groups = results.groupby(["scenario_index", "method_index"], sort=True).indices
    for s, m_index in sorted(groups):
        idx = groups[(s, m_index)]
        first = {c: v[idx[0]] for c, v in col.items()}
        key = (int(s), first["estimand"])
        if key not in truth_of:
            raise ValueError(f"no true value for estimand {key[1]!r} in scenario {first['scenario']!r}")
        truth = truth_of[key]
        est, se = est_all[idx], se_all[idx]
        lo, hi = wald_interval(est, se, level)
        own = np.isfinite(lo_all[idx])
        lo = np.where(own, lo_all[idx], lo)
        hi = np.where(own, hi_all[idx], hi)
        converged = conv_all[idx]
        # a method's own CI is its test too (null outside it); the Wald test otherwise
        rejected = np.where(own, (lo > 0.0) | (hi < 0.0), wald_p_value(est, se) <= alpha)
        perf = performance_measures(est, se, truth, converged=converged, ci_lower=lo,
                                    ci_upper=hi, rejected=rejected, level=level, alpha=alpha)
        errors = int(failed_all[idx].sum())
        nonconv = int((~converged & ~failed_all[idx]).sum())
        for m in perf.measures:
            if measures is not None and m.name not in measures:
                continue
            rows.append((int(s), first["scenario"], first["method"], first["estimand"], truth,
                         m.name, m.value, m.mcse, m.n, len(idx), errors, nonconv))
    return pd.DataFrame(rows, columns=list(PERFORMANCE_COLUMNS))


def wide(perf: pd.DataFrame, measures=("bias", "empse", "modse", "coverage", "rmse")) -> pd.DataFrame:
    """One row per (scenario, method): ``value`` and ``mcse`` of the chosen measures."""
    sub = perf[perf["measure"].isin(measures)]
    val = sub.pivot_table(index=["scenario_index", "scenario", "method", "estimand", "truth"],
                          columns="measure", values=["value", "mcse"], sort=False)
    val.columns = [m if kind == "value" else f"{m}_mcse" for kind, m in val.columns]
    order = [c for m in measures for c in (m, f"{m}_mcse") if c in val.columns]
    return val[order].reset_index()


def error_table(results: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """Most frequent error messages per method (the study went on past each of them)."""
    bad = results[results["error"].astype(str) != ""]
    if bad.empty:
        return pd.DataFrame(columns=["method", "error", "count"])
    # one line per kind of error: drop the offending values ("...; got [3]=...") and numbers
    msg = (bad["error"].str.replace(r";? got .*$", "", regex=True)
           .str.replace(r"\d+(\.\d+)?", "#", regex=True).str.slice(0, 120))
    counts = bad.assign(error=msg).groupby(["method", "error"]).size().rename("count")
    return counts.reset_index().sort_values("count", ascending=False).head(limit)
