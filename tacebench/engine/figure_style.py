"""One style for every figure tacebench draws: replicate's KM curves, a study's performance,
zip and love plots, and the teaching lessons.

The engine is the leaf that both replications and benchmarks may import, so the style
lives here; it knows matplotlib's object API only (``Figure`` on the Agg canvas, no pyplot
state) and nothing about studies. Print sizes are in inches at a page's scale: a figure is
readable when printed at its own size. PNG is written at 300 dpi; vector copies (SVG, PDF)
next to it on request.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tacebench.records import ArrayRecord

from .files import atomic_write

__all__ = ["ARM_COLORS", "DPI", "FAMILY_MARKERS", "MARKERS", "PAGE_WIDTH", "RiskRow",
           "draw_risk_table", "marker_of", "save_figure", "tidy_axes"]

#: Raster resolution of every PNG (a journal's minimum for line art with text).
DPI = 300
#: Text width of a printed page in inches (A4 / letter with margins).
PAGE_WIDTH = 7.2
#: Arm colours: Okabe & Ito's palette, distinguishable with the common colour-vision
#: deficiencies and in greyscale by lightness; the first two are the usual two arms.
ARM_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
              "#F0E442")
#: Marker shapes, in an order where neighbours differ in outline.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p")
#: The same marker for the same kind of method in every figure.
FAMILY_MARKERS = {"cox": "o", "iptw": "s", "weighting": "s", "matching": "^", "psm": "^",
                  "landmark": "D", "time_varying": "v", "km": "P", "gformula": "X"}


def marker_of(family: str, index: int) -> str:
    """The marker of a method family (:data:`FAMILY_MARKERS`), else one by position."""
    for key, marker in FAMILY_MARKERS.items():
        if key in family.lower():
            return marker
    return MARKERS[index % len(MARKERS)]


def tidy_axes(ax, grid: str = "both") -> None:
    """No top and right frame, a light grid behind the data (``grid``: both, x, y, none)."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid != "none":
        ax.grid(axis=grid, alpha=0.25, lw=0.6)
        ax.set_axisbelow(True)


@dataclass(frozen=True, eq=False)
class RiskRow(ArrayRecord):
    """One row of a number-at-risk table: the arm's label, colour and counts at the ticks
    (an array or a sequence; rows compare by value)."""

    label: str
    color: str
    counts: Sequence[float]


def draw_risk_table(ax, ticks: np.ndarray, rows: Sequence[RiskRow], *,
                    title: str = "Number at risk", fontsize: float = 7.5) -> None:
    """Write the numbers at risk under a KM plot into ``ax`` (an axes sharing its x axis):
    one row per arm in the arm's colour, labelled on the left, no frame."""
    for k, row in enumerate(rows):
        y = len(rows) - 1 - k
        for t, n in zip(ticks, row.counts):
            ax.text(t, y, f"{n:.0f}", ha="center", va="center", fontsize=fontsize,
                    color=row.color)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(range(len(rows)), [r.label for r in reversed(rows)], fontsize=fontsize)
    for lab, row in zip(ax.get_yticklabels(), reversed(rows)):
        lab.set_color(row.color)
    ax.set_title(title, fontsize=fontsize + 0.5, loc="left")
    ax.tick_params(axis="x", labelbottom=False, length=0)
    ax.tick_params(axis="y", length=0, pad=16)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)


def save_figure(fig, path, formats: Sequence[str] = ("png",)) -> list[Path]:
    """Save ``fig`` as ``path`` with each suffix of ``formats`` (png at :data:`DPI`, svg,
    pdf); returns the paths written, the PNG first. Each file is written whole or not at
    all (:func:`.files.atomic_write`: a failing write raises ``WriteFailed``).

    The suffix is appended to the name (``true_hr_0.6`` -> ``true_hr_0.6.png``); only a
    figure suffix already there (``fig.png``) is replaced. Replacing whatever followed
    the last dot cut ``true_hr_0.6`` to ``true_hr_0.png``, one file for two figures."""
    path = Path(path)
    if path.suffix.lower() in (".png", ".svg", ".pdf"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    unknown = set(formats) - {"png", "svg", "pdf"}
    if unknown:
        raise ValueError(f"figure formats must be png, svg or pdf; got {sorted(unknown)}")
    import matplotlib

    written = []
    # metadata without a date and a fixed salt for the SVG's element ids keep a committed
    # figure byte-identical when it is regenerated from the same numbers
    with matplotlib.rc_context({"svg.hashsalt": "tacebench"}):
        for fmt in formats:
            p = path.with_name(f"{path.name}.{fmt}")
            meta = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt)
            # whole or absent (a full disk raises WriteFailed, no cut-off image is left)
            written.append(atomic_write(p, lambda tmp, f=fmt, m=meta: fig.savefig(
                tmp, format=f, dpi=DPI, metadata=m, bbox_inches="tight", pad_inches=0.05)))
    return written
