"""``tacebench replicate --plot``: Kaplan-Meier figures of the simulated studies with the
published numbers on them.

One figure per analysis and endpoint with KM targets. Each arm (the paper's label) shows
one simulated cohort as a paper would (its KM curve with censoring ticks and its numbers at
risk below), the band holding 95% of the curves of all the run's replicates (the same
cohorts, analysed the same way: weighted, matched, landmark), and the published medians
(circles, at S = 0.5) and x-month rates (squares) with their printed 95% CIs. A reader sees
where the published numbers sit among the simulated studies. The style is
:mod:`tacebench.engine.figure_style` (300-dpi PNG and SVG).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tacebench.engine.figure_style import (ARM_COLORS, PAGE_WIDTH, RiskRow, draw_risk_table,
                                           save_figure, tidy_axes)

from .analysis.adjustments import run_adjustment
from .analysis.estimates import Context
from .reproduce import prepare, replicate_seed

__all__ = ["ArmCurves", "KMSet", "km_curves", "km_figure", "plot_study"]

ENDPOINTS = {"os": "Overall survival", "pfs": "Progression-free survival",
             "ttp": "Time to progression", "rfs": "Recurrence-free survival"}


@dataclass(frozen=True)
class ArmCurves:
    """One arm of one analysis: its KM curve in every replicate (``(times, survival)``)
    and the analysed follow-up of the first replicate (time, event, weights or None)."""

    label: str
    curves: tuple
    first: tuple


@dataclass(frozen=True)
class KMSet:
    """The arms of one (analysis, endpoint); ``landmark`` in months or None."""

    analysis: str
    endpoint: str
    description: str
    landmark: float | None
    arms: tuple[ArmCurves, ...]


def _step(times: np.ndarray, surv: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """S(grid) of a right-continuous KM step function; NaN after its last observed time."""
    idx = np.searchsorted(times, grid, side="right") - 1
    out = np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)
    return np.where(grid <= (times[-1] if times.size else 0.0), out, np.nan)


def _band(curves, grid: np.ndarray) -> np.ndarray:
    """Pointwise 2.5% and 97.5% quantiles of the curves on ``grid``; NaN (no band) where
    fewer than half of the replicates are still followed up."""
    s = np.array([_step(t, sv, grid) for t, sv in curves])
    ok = np.isfinite(s).sum(axis=0) >= max(2, len(curves) / 2)
    band = np.full((2, grid.size), np.nan)
    if ok.any():
        band[:, ok] = np.nanpercentile(s[:, ok], [2.5, 97.5], axis=0)
    return band


def km_curves(study, result, n_curves: int | None = None, generator=None) -> list[KMSet]:
    """The KM curves of the first ``n_curves`` replicates of ``result`` (default all: the
    same seeds, the same cohorts, the same analysis) for every analysis with KM targets."""
    generate, plan = prepare(study, result.seed, 0, generator)
    wanted = {}
    for ca, _ in plan.runs:
        eps = {r.endpoint for r in ca.requests if r.estimate in ("km_median", "km_rate")}
        if eps:
            wanted[ca.analysis.name] = (ca, sorted(eps))
    curves: dict = {}
    first: dict = {}
    landmarks: dict = {}
    n = result.reps if n_curves is None else min(n_curves, result.reps)
    for r in range(n):
        children = replicate_seed(result.seed, study.id, r).spawn(len(plan.cohorts) + 1)
        cohorts = {c: generate(c, children[j])[0] for j, c in enumerate(plan.cohorts)}
        rng = np.random.default_rng(children[-1])
        cache: dict = {c: {} for c in plan.cohorts}
        for name, (ca, eps) in wanted.items():
            cols = cohorts[ca.analysis.cohort]
            try:
                subset = ca.population(cols)
                adj = run_adjustment(ca.adjustment, cols, subset, rng,
                                     cache[ca.analysis.cohort])
            except (ArithmeticError, ValueError, np.linalg.LinAlgError):
                continue
            ctx = Context(cols, adj, subset, ca.adjustment, ca.responders)
            landmarks[name] = None if ctx.landmark is None else float(ctx.landmark[1])
            for ep in eps:
                t, d, keep = ctx.survival(ep)
                for code, label in enumerate(ca.schema.arms):
                    try:
                        km = ctx.km(ep, code)
                    except (ArithmeticError, ValueError):
                        continue
                    curves.setdefault((name, ep), {}).setdefault(label, []).append(
                        (km.times, km.surv))
                    m = keep & (ctx.arm == code)
                    first.setdefault((name, ep, label), (t[m], d[m], ctx.weights(m)))
    return [KMSet(name, ep, wanted[name][0].analysis.description, landmarks.get(name),
                  tuple(ArmCurves(label, tuple(cs), first[(name, ep, label)])
                        for label, cs in arms.items()))
            for (name, ep), arms in curves.items()]


def _reported(study, result, analysis: str, ep: str, arm: str):
    """[(quantity, time, value, (lo, hi) or None)] of the published KM numbers of an arm."""
    targets = {t.id: t for t in study.targets.targets}
    out = []
    for res in result.targets:
        tg = targets.get(res.id)
        if (tg is None or tg.analysis != analysis or tg.endpoint != ep or tg.arm != arm
                or res.reported is None or res.quantity not in ("km_median", "km_rate")):
            continue
        ci = tg.ci if tg.ci and tg.interval == "ci" else None
        out.append((res.quantity, tg.time, float(res.reported), ci))
    return out


def km_figure(study, result, kms: KMSet):
    """The publication figure of one :class:`KMSet` (a matplotlib ``Figure``)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ends = [c[0][-1] for a in kms.arms for c in a.curves if c[0].size]
    xmax = float(np.quantile(ends, 0.5)) if ends else 12.0
    step = 6.0 if xmax > 24 else 3.0
    xmax = step * np.ceil(xmax / step)
    ticks = np.arange(0.0, xmax + 1e-9, step)
    grid = np.linspace(0.0, xmax, 241)
    fig = Figure(figsize=(PAGE_WIDTH * 0.8, 4.6 + 0.22 * len(kms.arms)))
    gs = fig.add_gridspec(2, 1, height_ratios=[5.0, 0.55 + 0.3 * len(kms.arms)], hspace=0.32)
    ax = fig.add_subplot(gs[0])
    tab = fig.add_subplot(gs[1], sharex=ax)
    handles, rows, shown = [], [], set()
    for k, arm in enumerate(kms.arms):
        color = ARM_COLORS[k % len(ARM_COLORS)]
        band = _band(arm.curves, grid)
        ax.fill_between(grid, band[0], band[1], step="post", color=color, alpha=0.18, lw=0)
        t, d, w = arm.first
        order = np.argsort(t, kind="stable")
        t0, s0 = arm.curves[0]
        x = np.r_[0.0, t0]
        ax.step(x[x <= xmax], np.r_[1.0, s0][x <= xmax], where="post", color=color, lw=1.6)
        cens = np.unique(t[order][d[order] == 0])
        cens = cens[cens <= xmax]
        ax.plot(cens, _step(t0, s0, cens), ls="", marker="|", ms=6, mew=1.0, color=color)
        handles.append(Line2D([], [], color=color, lw=1.6, marker="|", ms=6,
                              label=f"{arm.label}: one simulated cohort (| censored)"))
        handles.append(Patch(color=color, alpha=0.3,
                             label=f"{arm.label}: 95% of {len(arm.curves)} simulated cohorts"))
        ww = np.ones(t.size) if w is None else np.asarray(w, float)
        rows.append(RiskRow(arm.label, color, [ww[t >= tick].sum() for tick in ticks]))
        for quantity, time, value, ci in _reported(study, result, kms.analysis, kms.endpoint,
                                                    arm.label):
            shown.add(quantity)
            if quantity == "km_median":
                xerr = None if ci is None else [[value - ci[0]], [ci[1] - value]]
                ax.errorbar([value], [0.5], xerr=xerr, fmt="o", ms=7, color=color, mec="k",
                            mew=0.8, ecolor=color, elinewidth=1.4, capsize=3, zorder=5)
            else:
                yerr = None if ci is None else [[value - ci[0]], [ci[1] - value]]
                ax.errorbar([time], [value], yerr=yerr, fmt="s", ms=6, color=color, mec="k",
                            mew=0.8, ecolor=color, elinewidth=1.4, capsize=3, zorder=5)
    handles += [Line2D([], [], ls="", marker=marker, ms=6.5, color="0.6", mec="k", label=text)
                for quantity, marker, text in (
                    ("km_median", "o", "published median (95% CI where printed)"),
                    ("km_rate", "s", "published x-month rate (95% CI where printed)"))
                if quantity in shown]
    ax.axhline(0.5, color="0.7", lw=0.6, ls=":")
    ax.set(xlim=(0, xmax), ylim=(0, 1.02), xticks=ticks,
           ylabel=f"{ENDPOINTS.get(kms.endpoint, kms.endpoint.upper())} (probability)")
    ax.set_xlabel("Months" if kms.landmark is None
                  else f"Months since the {kms.landmark:g}-month landmark")
    tidy_axes(ax)
    ax.legend(handles=handles, fontsize=7, loc="upper right", frameon=False)
    head = kms.description.split(":")[0].strip() or kms.analysis.replace("_", " ")
    ax.set_title(f"{study.title}\n{head}", fontsize=9.5, loc="left")
    weighted = any(a.first[2] is not None for a in kms.arms)
    draw_risk_table(tab, ticks, rows, title="Weighted number at risk (the cohort drawn)"
                    if weighted else "Number at risk (the cohort drawn)")
    fig.subplots_adjust(left=0.16, right=0.97, top=0.9, bottom=0.05)
    return fig


def plot_study(study, result, out_dir, n_curves: int | None = None, generator=None,
               formats=("png", "svg")) -> list[Path]:
    """Write one figure per (analysis, endpoint) into ``out_dir/plots`` in each of
    ``formats``; returns the paths."""
    folder = Path(out_dir) / "plots"
    paths = []
    for kms in km_curves(study, result, n_curves, generator):
        fig = km_figure(study, result, kms)
        paths += save_figure(fig, folder / f"{study.id}_{kms.analysis}_{kms.endpoint}",
                             formats)
    return paths
