"""Read one Table 1 cell as printed: ``"58.0 ± 10.0"``, ``"136 (85.0)"``, ``"12.0 (8.5-16.0)"``.

A cell's meaning comes from a declared format (the row's or the column's) or, when none is
declared, from its printed shape; a shape that two formats share (``"12 (8-16)"`` is a
median with its IQR or with its range) is read only when the row's printed label says which
(``IQR`` / ``range``), never guessed. Unreadable cells raise :class:`CellError`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CELL_FORMATS", "NOT_REPORTED", "CellError", "CellMisprint", "CellValue",
           "read_cell", "read_number"]

#: the formats a cell can be declared in, and the statistics each carries
CELL_FORMATS = {
    "n (%)": ("count", "percent"),
    "mean ± sd": ("mean", "sd"),
    "mean (sd)": ("mean", "sd"),
    "median (iqr)": ("median", "q1", "q3"),
    "median (range)": ("median", "min", "max"),
    "number": ("value",),
    "p": ("p",),
}
#: cells that print no number (not reported, not applicable)
NOT_REPORTED = frozenset({"", "NR", "N/A", "NA", "n/a", "-", "–", "—", "/"})

_NUM = r"[-+]?\d+(?:,\d{3})*(?:\.\d+)?"
_MIDDLE_DOT = re.compile(r"(?<=\d)\u00b7(?=\d)")
#: a footnote mark printed after a cell's last number or bracket: symbols (* † ‡ § ¶ #),
#: superscript digits or letters, or one letter a-f ("40 (80.0)a"); read past, kept in
#: ``text`` (a plain digit is never a mark: "20 (40.0)1" stays unreadable)
_FOOTNOTE = re.compile(r"(?<=[\d)\]%])\s*(?:[*\u2020\u2021\u00a7\u00b6#]+|"
                       r"[\u2070\u00b9\u00b2\u00b3\u2074-\u2079\u1d43\u1d47\u1d9c\u1d48\u1d49\u1da0]+|"
                       r"[a-f])$")
# ± as printed in papers and in transcriptions of them (LaTeX included)
_PM = r"(?:±|\+/-|\+-|\\pm)"
_DASH = r"(?:-|–|—|to)"
_SHAPES = {
    "pm": re.compile(rf"^({_NUM})\s*{_PM}\s*({_NUM})$"),
    "paren": re.compile(rf"^({_NUM})\s*\(\s*({_NUM})\s*%?\s*\)$"),
    "interval": re.compile(rf"^({_NUM})\s*[(\[]\s*({_NUM})\s*(?:{_DASH}|,)\s*({_NUM})\s*[)\]]$"),
    "number": re.compile(rf"^({_NUM})\s*%?$"),
    "p": re.compile(r"^([<>≤≥]=?)?\s*(\d*\.\d+|\d+)$"),
}


class CellError(ValueError):
    """A cell that cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class CellValue:
    """One printed cell read as numbers.

    Attributes
    ----------
    format : str
        One of :data:`CELL_FORMATS`.
    stats : dict
        The statistics of the format (``{"count": 136, "percent": 85.0}``).
    text : str
        The cell as printed (its verbatim source).
    p_text : str or None
        For a p printed as a bound (``"<0.001"``): the bound as printed.
    """

    format: str
    stats: dict
    text: str
    p_text: str | None = None
    #: a cell the paper prints wrongly: ``stats`` hold the numbers meant, this the print
    misprint: "CellMisprint | None" = None


@dataclass(frozen=True)
class CellMisprint:
    """The print of a cell declared misprinted (:mod:`simulate.table1_misprints`).

    ``printed``: ``(statistic, value as printed)`` of each statistic corrected; ``why``:
    what the correction rests on; ``key``: where it is declared
    (``cohorts.main.table1.misprints[0]``).
    """

    printed: tuple[tuple[str, float], ...]
    why: str
    key: str


def read_number(text: str) -> float:
    """A printed number (thousands separators allowed) as a float."""
    return float(text.replace(",", ""))


def _shape_format(shape: str, label: str) -> str:
    """The format a printed shape means, from the row label where the shape is ambiguous."""
    low = label.lower()
    if shape == "pm":
        return "mean ± sd"
    if shape == "interval":
        has_iqr = "iqr" in low or "interquartile" in low or "q1" in low
        has_range = "range" in low or "min" in low
        if has_iqr != has_range:
            return "median (iqr)" if has_iqr else "median (range)"
        raise CellError("a median with two bounds is IQR or range: the row label does not "
                        "say which; declare format = \"median (iqr)\" or \"median (range)\"")
    if shape == "paren":
        has_mean = "mean" in low or re.search(r"\bsd\b", low) is not None
        return "mean (sd)" if has_mean else "n (%)"
    return "number"


def read_cell(text: str, fmt: str | None = None, label: str = "",
              weighted: bool = False) -> CellValue | None:
    """Read a printed cell.

    Parameters
    ----------
    text : str
        The cell as printed; a footnote mark after its last number (``*``, ``†``, ``ᵃ``,
        one letter a-f) is read past.
    fmt : str, optional
        A declared format (a key of :data:`CELL_FORMATS`); without it the printed shape
        decides (``x (y)`` is ``n (%)`` unless the label says mean/SD).
    label : str
        The row's printed label, which settles shapes two formats share.
    weighted : bool
        A weighted table's cell: an ``n (%)`` count may be fractional (a sum of weights).

    Returns
    -------
    CellValue or None
        None for a cell that prints no number (:data:`NOT_REPORTED`).

    Raises
    ------
    CellError
        When the cell does not have the declared format's shape, or no readable shape.
    """
    # a middle dot between digits is a decimal point (The Lancet's journals: 58·0 ± 10·0)
    printed = _MIDDLE_DOT.sub(".", text.strip())
    text = _FOOTNOTE.sub("", printed)
    if text in NOT_REPORTED:
        return None
    if fmt is not None and fmt not in CELL_FORMATS:
        raise CellError(f"unknown format {fmt!r}; allowed: {sorted(CELL_FORMATS)}")
    if fmt == "p":
        m = _SHAPES["p"].match(text.replace(" ", ""))
        if not m:
            raise CellError("expected a p-value such as 0.014 or <0.001")
        value = float(m.group(2))
        if not 0 <= value <= 1:
            raise CellError(f"a p-value must lie in [0, 1], got {value}")
        return CellValue("p", {"p": value}, printed,
                         p_text=text.replace(" ", "") if m.group(1) else None)
    found = [s for s in ("pm", "interval", "paren", "number") if _SHAPES[s].match(text)]
    if not found:
        raise CellError("expected one of n (%), mean ± SD, median (IQR), median (range) or a "
                        "number")
    shape = found[0]
    if shape == "interval" and "paren" in found:
        # "38,568.7 (74,259.5)": a thousands separator in the parenthesis, not two bounds;
        # read so only where two bounds cannot be (the first number is not between them)
        # or the declared format has one number in its parenthesis
        mid, lo, hi = (read_number(g) for g in _SHAPES["interval"].match(text).groups())
        if not lo <= mid <= hi or fmt in ("n (%)", "mean (sd)"):
            shape = "paren"
    groups = [read_number(g) for g in _SHAPES[shape].match(text).groups()]
    expected = {"pm": ("mean ± sd",), "interval": ("median (iqr)", "median (range)"),
                "paren": ("n (%)", "mean (sd)"), "number": ("number",)}[shape]
    if fmt is None:
        fmt = _shape_format(shape, label)
    elif fmt not in expected:
        raise CellError(f"declared {fmt!r} but printed as {' or '.join(expected)}")
    stats = dict(zip(CELL_FORMATS[fmt], groups))
    if fmt == "n (%)":
        if not weighted and stats["count"] != int(stats["count"]):
            raise CellError("n (%) needs a whole count before the parenthesis (a weighted "
                            "column: declare weighted = true)")
        if stats["count"] == int(stats["count"]) and "." not in text.split("(")[0]:
            stats["count"] = int(stats["count"])
        if not 0 <= stats["percent"] <= 100:
            raise CellError(f"a percentage must lie in [0, 100], got {stats['percent']}")
    if fmt.startswith("median") and not (groups[1] <= groups[0] <= groups[2]):
        raise CellError(f"the median {groups[0]:g} does not lie between {groups[1]:g} and "
                        f"{groups[2]:g}")
    return CellValue(fmt, stats, printed)
