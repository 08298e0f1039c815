"""Figures of a study run (matplotlib, object API on the Agg canvas: no pyplot state).

* ``performance_<measure>.png``: forest-style plot of a measure per method (points) and
  scenario (rows) with +/- 1.96 MCSE bars and the target (0 bias, 95% coverage);
* ``zip_<scenario>.png``: zip plots (Morris, White & Crowther 2019, Fig. 4): each
  replicate's CI, ranked by the fractional centile of ``|z| = |estimate - truth| / se``,
  non-covering intervals in red, per method;
* ``love_<scenario>.png``: love plot, mean absolute SMD per covariate after each method's
  weighting or matching (crude = as generated), with the 0.1 threshold.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

_COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
           "#666666", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#ff7f00", "#6a3d9a"]
TARGETS = {"bias": 0.0, "coverage": 0.95, "becoverage": 0.95, "relerr_modse": 0.0}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80]


def performance_figure(perf: pd.DataFrame, measure: str, scenarios: list[str]) -> Figure:
    """Forest-style plot: scenarios down the page, one marker per method, MCSE bars."""
    sub = perf[perf["measure"] == measure]
    methods = list(dict.fromkeys(sub["method"]))
    fig = Figure(figsize=(8, 1.2 + 0.32 * len(scenarios) * max(1, len(methods)) ** 0.5))
    ax = fig.subplots()
    y_of = {s: i for i, s in enumerate(scenarios)}
    offsets = np.linspace(-0.35, 0.35, len(methods)) if len(methods) > 1 else [0.0]
    for k, (m, off) in enumerate(zip(methods, offsets)):
        g = sub[sub["method"] == m]
        y = np.array([y_of[s] for s in g["scenario"]]) + off
        ax.errorbar(g["value"], y, xerr=1.96 * g["mcse"].fillna(0), fmt="o", ms=3,
                    color=_COLORS[k % len(_COLORS)], label=m, lw=0.8)
    if measure in TARGETS:
        ax.axvline(TARGETS[measure], color="k", lw=0.7, ls="--")
    ax.set_yticks(range(len(scenarios)), scenarios, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"{measure} (bars: ±1.96 Monte Carlo SE)")
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return fig


def zip_figure(results: pd.DataFrame, truth_of: dict, scenario: str, level: float) -> Figure:
    """Zip plot per method of one scenario (Morris et al. 2019)."""
    sub = results[(results["scenario"] == scenario) & results["converged"]]
    methods = list(dict.fromkeys(sub["method"]))
    cols = min(4, max(1, len(methods)))
    rows = int(np.ceil(len(methods) / cols))
    fig = Figure(figsize=(3 * cols, 3 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    z = stats.norm.ppf(0.5 + level / 2)
    for ax, m in zip(axes, methods):
        g = sub[sub["method"] == m]
        truth = truth_of[(scenario, g["estimand"].iloc[0])]
        est, se = g["estimate"].to_numpy(float), g["se"].to_numpy(float)
        lo = np.where(np.isfinite(g["ci_lower"]), g["ci_lower"], est - z * se)
        hi = np.where(np.isfinite(g["ci_upper"]), g["ci_upper"], est + z * se)
        ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi) & (se > 0)
        est, se, lo, hi = est[ok], se[ok], lo[ok], hi[ok]
        if est.size == 0:
            ax.set_title(f"{m}: no usable replicate", fontsize=7)
            continue
        order = np.argsort(np.abs(est - truth) / se, kind="stable")
        centile = 100 * (np.arange(est.size) + 0.5) / est.size
        cover = (lo <= truth) & (truth <= hi)
        for c, color in ((True, "#4a7ab5"), (False, "#c0392b")):
            sel = cover[order] == c
            ax.hlines(centile[sel], lo[order][sel], hi[order][sel], color=color, lw=0.6)
        ax.axvline(truth, color="k", lw=0.8)
        ax.axhline(100 * level, color="k", lw=0.5, ls=":")
        ax.set_title(f"{m}: coverage {cover.mean():.1%}", fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes[len(methods):]:
        ax.set_visible(False)
    axes[0].set_ylabel("centile of |z|", fontsize=7)
    fig.suptitle(f"Zip plot: {scenario}", fontsize=9)
    fig.tight_layout()
    return fig


def love_figure(results: pd.DataFrame, scenario: str) -> Figure | None:
    """Mean |SMD| per covariate and method over the replicates of one scenario."""
    smd_cols = [c for c in results.columns if c.startswith("x_smd_")]
    sub = results[results["scenario"] == scenario]
    table = sub.groupby("method", sort=False)[smd_cols].mean().dropna(how="all", axis=0)
    table = table.dropna(how="all", axis=1)
    if table.empty:
        return None
    covs = [c[len("x_smd_"):] for c in table.columns]
    fig = Figure(figsize=(6, 1 + 0.3 * len(covs)))
    ax = fig.subplots()
    for k, (m, row) in enumerate(table.iterrows()):
        ax.plot(row.to_numpy(float), range(len(covs)), "o", ms=4, label=m,
                color=_COLORS[k % len(_COLORS)])
    ax.axvline(0.1, color="k", lw=0.6, ls="--")
    ax.set_yticks(range(len(covs)), covs, fontsize=7)
    ax.set_xlabel("mean absolute standardized mean difference")
    ax.set_title(f"Balance: {scenario}", fontsize=9)
    ax.legend(fontsize=6, loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def write_figures(study, perf: pd.DataFrame, results: pd.DataFrame, truths: pd.DataFrame,
                  folder: Path, *, max_scenarios: int = 24) -> dict[str, Path]:
    """Write every figure as PNG into ``folder``; returns ``{name: path}``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scenarios = [s.name for s in study.scenarios]
    out: dict[str, Path] = {}

    def save(name: str, fig: Figure | None):
        if fig is not None:
            path = folder / f"{_slug(name)}.png"
            fig.savefig(path, dpi=110)
            out[name] = path

    for measure in ("bias", "coverage", "empse", "rmse"):
        if measure in set(perf["measure"]):
            save(f"performance_{measure}", performance_figure(perf, measure, scenarios))
    truth_of = {(r.scenario, r.estimand): r.truth for r in truths.itertuples(index=False)}
    for s in scenarios[:max_scenarios]:
        save(f"zip_{s}", zip_figure(results, truth_of, s, study.level))
        save(f"love_{s}", love_figure(results, s))
    return out
