"""Forest plots of a replication run: every reported number against its simulated interval.

Numbers of different kinds (hazard ratios, medians in months, rates, counts) share one
axis through **standardization on the analysis scale**: a value ``v`` is drawn at
``(g(v) - g(m)) / s``, with ``g`` the scale a quantity is judged on (log for ratios, 1/x
for NNT, natural otherwise; :func:`replications.verdicts.to_scale`), ``m`` the simulated
median and ``s`` the robust SD of the draws. The map is increasing (decreasing for 1/x,
whose ends are swapped back), so a reported value lies inside its drawn interval exactly
when it lies inside the simulated 95% interval; the interval keeps its skew, which a z
axis (always [-1.96, 1.96]) would hide. Rows without a usable spread (a constant draw)
are drawn at z with the interval [-1.96, 1.96]. Values beyond ``LIMIT`` are drawn at the
edge as arrows. Works on the JSON form of a run (``results.json``), so the report
renders from a results folder alone.
"""
from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .verdicts import Z_CRIT, to_scale

__all__ = ["ForestRow", "bounds", "own_ids", "standardize", "forest_svg", "overview_svg", "VERDICT_COLOURS",
           "LIMIT"]

#: colour per verdict (colour-blind safe: blue / vermillion / orange / grey)
VERDICT_COLOURS = {"reproduced": "#0072b2", "not reproduced": "#d55e00",
                   "undetermined": "#e69f00", "not estimable": "#8c8c8c",
                   "not simulated": "#8c8c8c",
                   "uninformative": "#8c8c8c"}
#: the axis ends (robust SDs); farther values are drawn as arrows at the edge
LIMIT = 6.0


@dataclass(frozen=True)
class ForestRow:
    """One row of a forest plot, on the standardized axis (NaN where missing)."""

    label: str
    group: str
    verdict: str
    calibration: bool
    lo: float
    point: float
    hi: float
    note: str


def _float(v) -> float:
    """A value of results.json as a float: None is NaN, 'inf' strings are infinities."""
    if v is None:
        return math.nan
    return float(v)


def bounds(row: dict) -> tuple[float, float, float]:
    """(simulated median, lo, hi) of a target or shift dict as floats.

    results.json writes an infinity as null; a Kaplan-Meier median's upper bound is the
    one that is infinite (the simulated median not reached in over 2.5% of the
    replicates, printed NR), so there a null ``hi`` with a median reads +inf: the
    interval runs to the axis edge, as the text table's "[6.3, NR]" says, instead of
    vanishing as NaN."""
    med, lo, hi = (_float(row.get(k)) for k in ("median", "lo", "hi"))
    if (row.get("hi") is None and row.get("quantity") == "km_median"
            and math.isfinite(med)):
        hi = math.inf
    return med, lo, hi


def standardize(row: dict) -> tuple[float, float, float]:
    """(lo, reported, hi) of one target or shift dict on the standardized axis.

    Parameters
    ----------
    row : dict
        A target or shift of ``results.json`` (``median``, ``lo``, ``hi``, ``reported``,
        ``scale``, ``robust_sd`` or ``sd``, ``z``).

    Returns
    -------
    tuple of float
        NaN throughout when the row has no simulated median or no reported value.
    """
    scale = row.get("scale") or "identity"
    # a shift's draws are already differences on its scale: judged on the identity scale
    if "from" in row:
        scale = "identity"
    (med, lo, hi), rep = bounds(row), _float(row.get("reported"))
    sd = _float(row.get("robust_sd", row.get("sd")))
    if not (math.isfinite(med) and math.isfinite(rep)):
        return (math.nan,) * 3
    if not (math.isfinite(sd) and sd > 0):
        z = _float(row.get("z"))
        return (-Z_CRIT, z, Z_CRIT) if math.isfinite(z) else (math.nan,) * 3
    g = to_scale(np.array([lo, rep, hi, med]), scale)
    x = (g - g[3]) / sd
    a, b = sorted((float(x[0]), float(x[2])), key=lambda v: (math.isnan(v), v))
    return a, float(x[1]), b


def _clip(v: float) -> float:
    return max(-LIMIT, min(LIMIT, v)) if not math.isnan(v) else v


def _figure(n_rows: int, width: float = 9.5):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # text stays text in the SVG: searchable, selectable, crisp when printed
    plt.rcParams["svg.fonttype"] = "none"
    return plt.subplots(figsize=(width, 0.9 + 0.19 * n_rows))


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    # no metadata block: no date (the same run gives the same file) and no URLs in it
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]        # drop the XML prolog and DOCTYPE: inline use


_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def own_ids(html: str, prefix: str = "svg") -> str:
    """``html`` with the element ids of each inline ``<svg>`` made its own.

    Matplotlib numbers the ids of every figure alike (``figure_1``, ``axes_1``, ...), so
    a page with ten inlined figures held each id ten times, and a ``url(#...)`` or
    ``href="#..."`` may resolve in the wrong figure. The k-th ``<svg>`` of the page gets
    ``<prefix><k>-`` before its ids and the references to them; text outside the
    figures is left alone."""
    def one(k: int, svg: str) -> str:
        ids = set(re.findall(r'\bid="([^"]+)"', svg))
        tag = f"{prefix}{k}-"

        def ref(m: re.Match) -> str:
            return m.group(1) + (tag if m.group(2) in ids else "") + m.group(2) + m.group(3)
        svg = re.sub(r'(\bid=")([^"]+)(")', ref, svg)
        svg = re.sub(r"(url\(#)([^)]+)(\))", ref, svg)
        return re.sub(r'(href="#)([^"]+)(")', ref, svg)
    count = iter(range(1 << 30))
    return _SVG.sub(lambda m: one(next(count), m.group(0)), html)


def forest_svg(rows: Sequence[ForestRow], xlabel: str) -> str:
    """An inline SVG forest plot: rows grouped under their group's heading, each with its
    interval (line), reported value (dot: filled for predicted numbers, hollow for
    calibration inputs), coloured by verdict, and its numbers in words on the right.

    Parameters
    ----------
    rows : sequence of ForestRow
        In display order; a heading is drawn where ``group`` changes.
    xlabel : str
        The axis label.

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    lines: list[tuple[str, ForestRow | None]] = []
    for r in rows:
        if not lines or lines[-1][0] != r.group:
            lines.append((r.group, None))          # the group's heading
        lines.append((r.group, r))
    fig, ax = _figure(len(lines))
    ax.axvspan(-Z_CRIT, Z_CRIT, color="#f2f2f2", zorder=0)
    ax.axvline(0, color="#999999", lw=0.6, zorder=1)
    labels = []
    for i, (group, r) in enumerate(lines):
        y = -i
        if r is None:
            labels.append((group, y))
            continue
        labels.append((r.label + (" (cal.)" if r.calibration else ""), y))
        colour = VERDICT_COLOURS.get(r.verdict, "#8c8c8c")
        if not (math.isnan(r.lo) or math.isnan(r.hi)):     # an infinite end: to the edge
            ax.plot([_clip(r.lo), _clip(r.hi)], [y, y], color=colour, lw=1.6, zorder=2,
                    solid_capstyle="butt")
        if not math.isnan(r.point):
            x = _clip(r.point)
            marker = "o" if abs(r.point) < LIMIT else (">" if r.point > 0 else "<")
            ax.plot([x], [y], marker=marker, ms=5.5, color=colour, zorder=3,
                    mfc="white" if r.calibration else colour, mew=1.4)
        ax.text(1.01, y, r.note, transform=ax.get_yaxis_transform(), va="center",
                fontsize=7.5, color="#333333")
    ax.set_yticks([y for _, y in labels], [t for t, _ in labels], fontsize=7.5)
    for tick, (_, r) in zip(ax.get_yticklabels(), lines):
        if r is None:
            tick.set_fontweight("bold")
    ax.set_ylim(-len(lines) + 0.4, 0.6)
    ax.set_xlim(-LIMIT - 0.3, LIMIT + 0.3)
    ax.set_xlabel(xlabel, fontsize=8)
    # a long plot is read from the top: the scale at both ends
    ax.tick_params(axis="x", labelsize=7.5, top=len(lines) > 25, labeltop=len(lines) > 25)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return _svg(fig)


def overview_svg(studies: Sequence[tuple[str, Sequence[tuple[float, str, bool]]]]) -> str:
    """The cross-study picture: per study, every distinct number's z (dot, coloured by
    verdict; hollow for calibration inputs) against the 95% band |z| <= 1.96.

    Parameters
    ----------
    studies : sequence of (study id, [(z, verdict, calibration), ...])

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    fig, ax = _figure(max(2 * len(studies), 3), width=9.5)
    ax.axvspan(-Z_CRIT, Z_CRIT, color="#f2f2f2", zorder=0)
    ax.axvline(0, color="#999999", lw=0.6)
    rng = np.random.default_rng(0)           # fixed jitter: the same run draws the same
    for i, (_, points) in enumerate(studies):
        for z, verdict, cal in points:
            if not math.isfinite(z):
                continue
            colour = VERDICT_COLOURS.get(verdict, "#8c8c8c")
            ax.plot([_clip(z)], [-i + rng.uniform(-0.25, 0.25)], "o", ms=4.5,
                    color=colour, mfc="white" if cal else colour, alpha=0.85, mew=1.1)
    ax.set_yticks([-i for i in range(len(studies))], [s for s, _ in studies], fontsize=8)
    ax.set_ylim(-len(studies) + 0.5, 0.5)
    ax.set_xlim(-LIMIT - 0.3, LIMIT + 0.3)
    ax.set_xlabel("z of each distinct reported number in its simulated distribution "
                  "(shaded: the simulated 95%, |z| <= 1.96; hollow: calibration inputs)",
                  fontsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return _svg(fig)
