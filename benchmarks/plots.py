"""Figures of a study run (matplotlib, object API on the Agg canvas: no pyplot state).

* ``performance_<measure>.png``: one panel per scenario, a measure per method (rows) with
  +/- 1.96 MCSE bars, colour and marker by method family, and the target (0 bias, 95%
  coverage);
* ``zip_<scenario>.png``: zip plots (Morris, White & Crowther 2019, Fig. 4): each
  replicate's CI, ranked by the fractional centile of ``|z| = |estimate - truth| / se``,
  non-covering intervals in red, per method;
* ``love_<scenario>.png``: love plot, mean absolute SMD per covariate after each method's
  weighting or matching (Cox models without weights = as generated), with the 0.1
  threshold.

Every figure is a 300-dpi PNG with an SVG copy, in the style of
:mod:`tacebench.engine.figure_style`.
"""
from __future__ import annotations

import hashlib
import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats

from tacebench.engine.figure_style import (ARM_COLORS, MARKERS, PAGE_WIDTH, marker_of,
                                           save_figure, tidy_axes)

TARGETS = {"bias": 0.0, "coverage": 0.95, "becoverage": 0.95, "relerr_modse": 0.0}
MEASURE_LABELS = {"bias": "Bias", "coverage": "Coverage of the nominal CI",
                  "empse": "Empirical SE", "rmse": "Root mean squared error"}


_SLUG_MAX = 80


def _slug(text: str) -> str:
    """A file name stem for a figure name: letters, digits, ``_`` and ``-`` only.

    No dot (a decimal point reads ``p``: ``hr=0.6`` -> ``hr_0p6``), since a stem with a
    dot lost its tail to a suffix change and two scenarios shared a file; a name longer
    than the limit keeps a hash of the whole name, so cutting it joins no two names."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", re.sub(r"(?<=\d)\.(?=\d)", "p", text)).strip("_")
    if len(slug) <= _SLUG_MAX:
        return slug
    return slug[:_SLUG_MAX - 9] + "_" + _digest(text)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _scenario_title(name: str) -> str:
    """``dgm[a=1,b=2]`` -> two lines, ``dgm`` over ``a=1, b=2``: facet titles that fit."""
    head, _, rest = name.partition("[")
    params = textwrap.fill(rest.rstrip("]").replace(",", ", "), 26)
    return head + ("\n" + params if rest else "")


def performance_figure(perf: pd.DataFrame, measure: str, scenarios: list[str],
                       families: dict[str, str] | None = None) -> Figure:
    """One panel per scenario (small multiples, a shared method axis): each method's value
    with +/- 1.96 MCSE bars, colour and marker by method family (legend), the target
    (0 bias, nominal coverage) as a dashed line. Sized for a printed page."""
    sub = perf[perf["measure"] == measure]
    methods = list(dict.fromkeys(sub["method"]))
    families = families or {}
    kinds = list(dict.fromkeys(families.get(m, "other") for m in methods))
    style = {k: (ARM_COLORS[i % len(ARM_COLORS)], marker_of(k, i)) for i, k in enumerate(kinds)}
    shown = [s for s in scenarios if s in set(sub["scenario"])]
    ncol = min(len(shown), 6) or 1
    nrow = int(np.ceil(len(shown) / ncol)) or 1
    label_in = 0.065 * max((len(m) for m in methods), default=8)
    panel_h = 0.6 + 0.13 * max(len(methods), 1)
    width = min(PAGE_WIDTH * 1.5, label_in + 1.55 * ncol + 0.3)
    fig = Figure(figsize=(width, 1.0 + nrow * panel_h))
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharey=True, squeeze=False)).ravel()
    y_of = {m: i for i, m in enumerate(methods)}
    for ax, scen in zip(axes, shown):
        g = sub[sub["scenario"] == scen]
        for m, v, e in zip(g["method"], g["value"], g["mcse"].fillna(0)):
            color, marker = style[families.get(m, "other")]
            ax.errorbar([v], [y_of[m]], xerr=[1.96 * e], fmt=marker, ms=3.5, color=color,
                        lw=0.8, capsize=0)
        if measure in TARGETS:
            ax.axvline(TARGETS[measure], color="k", lw=0.7, ls="--")
        ax.set_title(_scenario_title(scen), fontsize=6.5)
        ax.tick_params(labelsize=6)
        ax.locator_params(axis="x", nbins=4)
        tidy_axes(ax, "x")
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    axes[0].set_yticks(range(len(methods)), methods, fontsize=6)
    axes[0].set_ylim(len(methods) - 0.5, -0.5)
    label = f"{MEASURE_LABELS.get(measure, measure)} (bars: ±1.96 Monte Carlo SE)"
    fig.supxlabel(label, fontsize=8)
    handles = [Line2D([], [], ls="", marker=mk, color=c, ms=4.5, label=k)
               for k, (c, mk) in style.items()]
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=7,
               frameon=False, title="method family", title_fontsize=7)
    fig.subplots_adjust(left=label_in / width + 0.01, right=0.98, wspace=0.12,
                        hspace=0.55 if nrow > 1 else 0.2, top=1 - 0.75 / fig.get_figheight(),
                        bottom=0.45 / fig.get_figheight())
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
        ax.set_xlabel("estimate and its CI (black: the truth)", fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in axes[len(methods):]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel("fractional centile of |z|", fontsize=7)
    fig.suptitle(f"Zip plot: {scenario}", fontsize=9)
    fig.tight_layout()
    return fig


#: Method families that fit a model without weighting or matching: the balance they see
#: is the cohort's as generated.
UNBALANCED_FAMILIES = frozenset({"cox"})


def love_figure(results: pd.DataFrame, scenario: str,
                families: dict[str, str] | None = None) -> Figure | None:
    """Mean |SMD| per covariate and method over the replicates of one scenario; methods
    of the families in :data:`UNBALANCED_FAMILIES` are one series, "unadjusted (as
    generated)"."""
    smd_cols = [c for c in results.columns if c.startswith("x_smd_")]
    sub = results[results["scenario"] == scenario]
    table = sub.groupby("method", sort=False)[smd_cols].mean().dropna(how="all", axis=0)
    table = table.dropna(how="all", axis=1)
    if table.empty:
        return None
    families = families or {}
    raw = [m for m in table.index if families.get(m) in UNBALANCED_FAMILIES]
    series = ([("unadjusted (as generated)", table.loc[raw].mean())] if raw else [])
    series += [(m, row) for m, row in table.iterrows() if m not in raw]
    covs = [c[len("x_smd_"):] for c in table.columns]
    fig = Figure(figsize=(PAGE_WIDTH * 0.75, 1.4 + 0.24 * len(covs) + 0.12 * len(series)))
    ax = fig.subplots()
    for k, (label, row) in enumerate(series):
        raw_series = k == 0 and bool(raw)
        ax.plot(row.to_numpy(float), range(len(covs)), MARKERS[k % len(MARKERS)], ms=4.5,
                label=label, mfc="white" if raw_series else None,
                color="0.3" if raw_series else ARM_COLORS[(k - bool(raw)) % len(ARM_COLORS)])
    ax.axvline(0.1, color="k", lw=0.6, ls="--")
    ax.set_yticks(range(len(covs)), covs, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Mean absolute standardized mean difference over the replicates")
    ax.set_title(f"Balance: {_scenario_title(scenario)}", fontsize=9)
    tidy_axes(ax, "x")
    ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.1 - 0.3 / fig.get_figheight()),
              ncol=3, frameon=False)
    fig.tight_layout()
    return fig


def write_figures(study, perf: pd.DataFrame, results: pd.DataFrame, truths: pd.DataFrame,
                  folder: Path, *, max_scenarios: int = 24,
                  formats=("png", "svg")) -> dict[str, Path]:
    """Write every figure as a 300-dpi PNG and an SVG into ``folder``; returns
    ``{name: path of the PNG}``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scenarios = [s.name for s in study.scenarios]
    out: dict[str, Path] = {}
    families = {m.name: m.family for m in study.methods}

    taken: dict[str, str] = {}          # stem -> the figure name written there

    def save(name: str, fig: Figure | None):
        if fig is not None:
            stem = _slug(name)
            if taken.setdefault(stem, name) != name:   # two names, one slug: keep both
                stem = f"{stem[:_SLUG_MAX - 9]}_{_digest(name)}"
            taken[stem] = name
            out[name] = save_figure(fig, folder / stem, formats)[0]

    for measure in ("bias", "coverage", "empse", "rmse"):
        if measure in set(perf["measure"]):
            save(f"performance_{measure}",
                 performance_figure(perf, measure, scenarios, families))
    truth_of = {(r.scenario, r.estimand): r.truth for r in truths.itertuples(index=False)}
    for s in scenarios[:max_scenarios]:
        save(f"zip_{s}", zip_figure(results, truth_of, s, study.level))
        save(f"love_{s}", love_figure(results, s, families))
    return out
