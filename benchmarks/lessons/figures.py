"""Figures of the lessons: KM curves with numbers at risk, love plots, estimate plots.

matplotlib's object API on the Agg canvas (``Figure`` + ``savefig``, no pyplot state), in
the style every tacebench figure shares (:mod:`tacebench.engine.figure_style`: colours,
number-at-risk table, 300-dpi PNG). Time is in months everywhere; every axis is labelled;
KM curves mark censored patients with ticks.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tacebench.engine.figure_style import (ARM_COLORS, DPI, RiskRow, draw_risk_table,
                                           save_figure)
from tacebench.records import ArrayRecord

__all__ = ["ARM_COLORS", "DPI", "Curve", "Panel", "at_risk", "estimates_figure", "km_figure",
           "love_figure", "matching_figure", "save", "swimmer_figure"]


@dataclass(frozen=True, eq=False)
class Curve(ArrayRecord):
    """One KM curve: label, colour and the data (``weights`` for IPTW curves)."""

    label: str
    time: np.ndarray
    event: np.ndarray
    weights: np.ndarray | None = None
    color: str = ARM_COLORS[0]
    style: str = "-"


@dataclass(frozen=True)
class Panel:
    """One KM panel: curves, title, optional vertical reference lines ``(x, colour, text)``."""

    title: str
    curves: Sequence[Curve]
    references: Sequence[tuple[float, str, str]] = field(default_factory=tuple)
    note: str = ""


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as the PNG ``path`` (300 dpi, the shared style); returns the path."""
    return save_figure(fig, path, ("png",))[0]


def at_risk(time: np.ndarray, ticks: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(Weighted) number still under follow-up just before each tick: ``sum w [T >= t]``."""
    w = np.ones(time.size) if weights is None else weights
    return np.array([w[time >= t].sum() for t in ticks])


def km_figure(panels: Sequence[Panel], *, xmax: float, step: float = 6.0,
              xlabel: str = "Months since TACE", ylabel: str = "Overall survival",
              suptitle: str = "") -> Figure:
    """KM curves, one column per panel, numbers at risk in a table under each."""
    from tacebench.estimators.survival import kaplan_meier

    ncol = len(panels)
    n_rows = max(len(p.curves) for p in panels)
    label_len = max(len(c.label) for p in panels for c in p.curves)
    width = 5.4 * ncol + 0.06 * label_len
    fig = Figure(figsize=(width, 4.4 + 0.22 * n_rows))
    gs = fig.add_gridspec(2, ncol, height_ratios=[5.2, 0.5 + 0.32 * n_rows], hspace=0.42,
                          left=(0.9 + 0.065 * label_len) / width, right=0.965,
                          wspace=0.12 + 0.012 * label_len, top=0.88 if suptitle else 0.93,
                          bottom=0.07)
    ticks = np.arange(0.0, xmax + 1e-9, step)
    for j, p in enumerate(panels):
        ax = fig.add_subplot(gs[0, j])
        tab = fig.add_subplot(gs[1, j], sharex=ax)
        for k, c in enumerate(p.curves):
            km = kaplan_meier(c.time, c.event, c.weights)
            x = np.r_[0.0, km.times]
            y = np.r_[1.0, km.survival]
            keep = x <= xmax
            ax.step(x[keep], y[keep], where="post", color=c.color, ls=c.style, lw=1.8,
                    label=f"{c.label} (median {_median_text(km)})")
            cens = np.unique(c.time[(c.event == 0) & (c.time <= xmax)])
            idx = np.searchsorted(km.times, cens, side="right") - 1
            ax.plot(cens, np.where(idx >= 0, km.survival[np.clip(idx, 0, None)], 1.0), ls="",
                    marker="|", ms=5, mew=0.8, color=c.color,
                    label="censored" if k == len(p.curves) - 1 else None)
        for x, color, text in p.references:
            if np.isfinite(x) and x <= xmax:
                ax.axvline(x, color=color, ls=":", lw=1.3, label=f"{text} ({x:.1f} mo)")
        ax.axhline(0.5, color="0.75", lw=0.6)
        ax.set_xlim(0, xmax)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(ticks)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel + " (probability)")
        ax.set_title(p.title, fontsize=10)
        ax.legend(fontsize=7.5, loc="best", frameon=False)
        if p.note:
            ax.text(0.02, 0.03, p.note, transform=ax.transAxes, fontsize=7.5, va="bottom")
        ax.grid(alpha=0.25)
        weighted = any(c.weights is not None for c in p.curves)
        draw_risk_table(tab, ticks, [RiskRow(c.label, c.color, at_risk(c.time, ticks, c.weights))
                                     for c in p.curves],
                        title="Weighted number at risk" if weighted else "Number at risk")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig


def _median_text(km) -> str:
    est = km.median().estimate
    return "not reached" if not np.isfinite(est) else f"{est:.1f} mo"


def love_figure(smd: pd.DataFrame, *, title: str, before: str = "before", after: str = "after",
                highlight: Sequence[str] = (), highlight_note: str = "",
                threshold: float = 0.1) -> Figure:
    """Love plot: |SMD| per covariate (rows of ``smd``) in columns ``before`` / ``after``;
    ``highlight`` rows are labelled in red (explained by ``highlight_note``)."""
    rows = list(smd.index)
    fig = Figure(figsize=(7.6, 1.9 + 0.27 * len(rows)))
    ax = fig.subplots()
    y = np.arange(len(rows))[::-1]
    b = smd[before].abs().to_numpy(float)
    a = smd[after].abs().to_numpy(float)
    for yi, bi, ai in zip(y, b, a):
        ax.plot([bi, ai], [yi, yi], color="0.8", lw=1, zorder=1)
    ax.scatter(b, y, facecolors="white", edgecolors="0.35", s=34, label=before, zorder=2)
    ax.scatter(a, y, color=ARM_COLORS[0], s=34, label=after, zorder=3)
    ax.axvline(threshold, color="k", ls="--", lw=0.8, label=f"|SMD| = {threshold:g}")
    ax.set_yticks(y, rows, fontsize=8)
    for lab in ax.get_yticklabels():
        if lab.get_text() in highlight:
            lab.set_color("#b22222")
            lab.set_fontweight("bold")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(0, max(0.25, float(np.nanmax(np.r_[a, b])) * 1.1))
    ax.set_xlabel("Absolute standardized mean difference (treated vs control)")
    ax.set_title(title + (f"\n{highlight_note}" if highlight_note else ""), fontsize=9.5)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.06 - 0.25 / fig.get_figheight()),
              ncol=3, frameon=False)
    ax.grid(axis="x", alpha=0.25)
    fig.tight_layout()
    return fig


def estimates_figure(rows: pd.DataFrame, replicates: dict[tuple[str, str], np.ndarray], *,
                     title: str, xlabel: str, groups: dict[str, str] | None = None,
                     reference: float = 1.0) -> Figure:
    """Per (world, method) row of ``rows`` (columns world, method, label, truth, hr,
    n_analysed, emp_sd): the central 95% of the replicate HRs (bar), their geometric mean
    (dot) and the truth (black diamond), on a log axis; worlds are grouped with a header."""
    worlds = list(dict.fromkeys(rows["world"]))
    layout, y = [], 0.0
    for w in worlds:
        layout.append(("header", w, y))
        y += 0.9
        for r in rows[rows["world"] == w].itertuples(index=False):
            layout.append(("row", r, y))
            y += 1.0
        y += 0.35
    fig = Figure(figsize=(9.6, 1.6 + 0.36 * y))
    ax = fig.subplots()
    colors = {}
    lo_all, hi_all = [reference], [reference]
    for kind, item, yy in layout:
        if kind == "header":
            label = (groups or {}).get(item, item)
            ax.text(0.0, yy, label, transform=ax.get_yaxis_transform(), fontsize=9,
                    fontweight="bold", va="center", ha="left")
            continue
        r = item
        color = colors.setdefault(r.method, ARM_COLORS[len(colors) % len(ARM_COLORS)])
        reps = np.exp(replicates[(r.world, r.method)])
        reps = reps[np.isfinite(reps)]
        lo, hi = np.quantile(reps, [0.025, 0.975])
        lo_all.append(lo)
        hi_all.append(hi)
        ax.plot([lo, hi], [yy, yy], color=color, lw=4, alpha=0.35, solid_capstyle="butt")
        ax.plot(r.hr, yy, "o", color=color, ms=6)
        ax.plot(r.truth, yy, "D", color="k", ms=5, mfc="none", mew=1.3)
        extra = f"n={r.n_analysed:.0f}  " if np.isfinite(r.n_analysed) else ""
        ax.text(1.01, yy, f"{r.hr:.2f} (truth {r.truth:.2f})  {extra}SD {r.emp_sd:.2f}",
                transform=ax.get_yaxis_transform(), fontsize=7.5, va="center")
    ys = [yy for kind, _, yy in layout if kind == "row"]
    labels = [item.label for kind, item, _ in layout if kind == "row"]
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_ylim(y - 0.2, -0.6)
    ax.set_xscale("log")
    lo, hi = min(lo_all), max(hi_all)
    ax.set_xlim(lo / 1.08, hi * 1.08)
    ticks = [t for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)
             if lo / 1.08 <= t <= hi * 1.08]
    if len(ticks) < 4:  # a narrow range (e.g. HRs per month): finer ticks
        ticks = [round(t, 2) for t in np.arange(0.5, 1.5, 0.02) if lo / 1.08 <= t <= hi * 1.08]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.axvline(reference, color="0.5", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.plot([], [], "o", color="0.3", label="mean over cohorts (geometric)")
    ax.plot([], [], color="0.3", lw=4, alpha=0.35, label="central 95% of cohorts")
    ax.plot([], [], "D", color="k", mfc="none", label="truth")
    h = fig.get_figheight()
    ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.55 / (h - 1.6) - 0.02),
              ncol=3, frameon=False)
    ax.grid(axis="x", alpha=0.25)
    width = fig.get_figwidth()
    longest = max(len(str(lab)) for lab in labels)
    fig.subplots_adjust(left=min(0.45, (0.3 + 0.062 * longest) / width), right=0.72,
                        top=1 - 0.5 / h, bottom=1.1 / h)
    return fig


def matching_figure(ps: np.ndarray, treated: np.ndarray, kept: np.ndarray, *, control: str,
                    treated_label: str) -> Figure:
    """Who matching keeps: mirrored histograms of the propensity score (treated up, controls
    down; matched solid, discarded pale) and the counts kept / discarded per arm."""
    fig = Figure(figsize=(11, 4.4))
    ax, bar = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    bins = np.linspace(0, 1, 26)
    z = np.asarray(treated) == 1
    colors = {True: ARM_COLORS[1], False: ARM_COLORS[0]}
    for arm, sign, label in ((True, 1, treated_label), (False, -1, control)):
        sel = z == arm
        h_kept, _ = np.histogram(ps[sel & kept], bins)
        h_drop, _ = np.histogram(ps[sel & ~kept], bins)
        x, w = bins[:-1], np.diff(bins)
        ax.bar(x, sign * h_kept, w, align="edge", color=colors[arm], label=f"{label}, matched")
        ax.bar(x, sign * h_drop, w, align="edge", bottom=sign * h_kept, color=colors[arm],
               alpha=0.3, hatch="//", edgecolor="white", label=f"{label}, discarded")
    ax.axhline(0, color="k", lw=0.8)
    ticks = ax.get_yticks()
    ax.set_yticks(ticks, [f"{abs(t):.0f}" for t in ticks])
    ax.set_xlabel("Estimated propensity score (probability of receiving the treated arm)")
    ax.set_ylabel(f"Patients ({treated_label} above, {control} below)")
    ax.set_xlim(0, 1)
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    ax.set_title("Who finds a partner within the caliper", fontsize=10)
    labels = [control, treated_label]
    k = [int((~z & kept).sum()), int((z & kept).sum())]
    d = [int((~z & ~kept).sum()), int((z & ~kept).sum())]
    bar.bar(labels, k, color=[ARM_COLORS[0], ARM_COLORS[1]], label="matched")
    bar.bar(labels, d, bottom=k, color=[ARM_COLORS[0], ARM_COLORS[1]], alpha=0.3, hatch="//",
            edgecolor="white", label="discarded")
    for i in range(2):
        bar.text(i, k[i] / 2, f"{k[i]}\nkept", ha="center", va="center", color="white", fontsize=9)
        bar.text(i, k[i] + d[i] / 2, f"{d[i]}\ndiscarded", ha="center", va="center", fontsize=9)
    bar.set_ylabel("Patients")
    bar.set_title(f"{sum(k)} of {sum(k) + sum(d)} patients analysed", fontsize=10)
    fig.tight_layout()
    return fig


def swimmer_figure(time: np.ndarray, event: np.ndarray, start: np.ndarray, duration: np.ndarray,
                   *, title: str, xmax: float) -> Figure:
    """Follow-up of individual patients: before systemic therapy (grey: the time a patient
    must survive to be counted as treated), on therapy (blue), after stopping (pale), then
    death (x) or censoring (|)."""
    n = time.size
    fig = Figure(figsize=(9.5, 1.6 + 0.2 * n))
    ax = fig.subplots()
    for i in range(n):
        y = n - 1 - i
        s = start[i] if np.isfinite(start[i]) else time[i]
        stop = min(s + duration[i], time[i]) if np.isfinite(start[i]) else time[i]
        ax.barh(y, s, left=0, height=0.6, color="0.6")
        if np.isfinite(start[i]):
            ax.barh(y, stop - s, left=s, height=0.6, color=ARM_COLORS[0])
            ax.barh(y, time[i] - stop, left=stop, height=0.6, color=ARM_COLORS[0], alpha=0.25)
        ax.plot(min(time[i], xmax), y, "x" if event[i] else "|", color="k", ms=6 if event[i] else 9)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Patch(color="0.6", label="before sorafenib (must be survived to count as exposed)"),
               Patch(color=ARM_COLORS[0], label="on sorafenib"),
               Patch(color=ARM_COLORS[0], alpha=0.25, label="after stopping"),
               Line2D([], [], ls="", marker="x", color="k", label="death"),
               Line2D([], [], ls="", marker="|", ms=9, color="k", label="censored")]
    ax.set_xlim(0, xmax)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_yticks([])
    ax.set_ylabel("Patients (one row each)")
    ax.set_xlabel("Months since TACE")
    ax.set_title(title, fontsize=10)
    ax.legend(handles=handles, fontsize=7.5, loc="upper center",
              bbox_to_anchor=(0.5, -0.05 - 0.35 / fig.get_figheight()), ncol=3, frameon=False)
    ax.grid(axis="x", alpha=0.25)
    fig.tight_layout()
    return fig
