"""``tacebench report RESULTS_DIR``: the HTML report (and JUnit XML) of a finished run.

RESULTS_DIR is a folder written by tacebench replicate --out DIR: its
``results.json`` alone renders the report, and the Kaplan-Meier figures of
``replicate --plot`` (``DIR/plots``) are embedded when present. The HTML file is
self-contained (no network, figures inline); ``tacebench replicate --html FILE`` writes
the same report straight from a run. ``--junit FILE`` writes the verdicts as JUnit XML,
one test case per distinct number and shift, failing where ``--strict`` fails.
Exit status 0; 2 when RESULTS_DIR holds no readable results.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from tacebench.replications.html_report import figures_on_disk, load_results, write_html
from tacebench.replications.junit import write_junit
from tacebench.replications.output_files import REPORT_FILE
from tacebench.replications.plots import plot_study

from .options import HelpFormatter, plain
from .terminal import check_out_file

__all__ = ["register", "run", "add_report_options", "write_reports", "km_figures"]


def add_report_options(p: argparse.ArgumentParser, html_default: str = "") -> None:
    """``--html FILE`` and ``--junit FILE``, shared by ``replicate`` and ``report``."""
    p.add_argument("--html", type=Path, default=None, metavar="FILE",
                   help="write a self-contained HTML report: per study the accounting, a "
                        "forest plot of every distinct number against its simulated 95%% "
                        "interval, shifts, worlds, audit findings with quotes, KM figures "
                        "and assumptions" + html_default)
    p.add_argument("--junit", type=Path, default=None, metavar="FILE",
                   help="write JUnit XML: one test case per distinct number and shift "
                        "(class = study), failures where --strict fails")


def km_figures(study, result) -> list[tuple[str, bytes]]:
    """The KM figures of ``replicate --plot`` for one run, as (name, PNG bytes), drawn
    in a temporary folder (for ``replicate --html``)."""
    with tempfile.TemporaryDirectory() as tmp:
        # plot_study writes each figure as PNG and SVG: the report embeds the PNG
        return [(p.stem, p.read_bytes()) for p in plot_study(study, result, tmp)
                if p.suffix == ".png"]


def write_reports(studies: Sequence[dict], html: Path | None, junit: Path | None,
                  figures: Mapping[str, Sequence] | None = None) -> list[Path]:
    """Write the requested HTML and JUnit files; returns the paths written."""
    written = []
    if html is not None:
        written.append(write_html(studies, html, figures))
    if junit is not None:
        written.append(write_junit(studies, junit))
    return written


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="render the HTML report (and JUnit XML) of a replicate --out folder",
        description=plain(__doc__), formatter_class=HelpFormatter)
    p.add_argument("results", type=Path, metavar="RESULTS_DIR",
                   help="a folder written by tacebench replicate --out DIR")
    add_report_options(p, " (default: RESULTS_DIR/report.html)")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        studies = load_results(args.results)
    except ValueError as exc:
        print(f"tacebench report: {exc}", file=sys.stderr)
        return 2
    folder = args.results.parent if args.results.suffix == ".json" else args.results
    html = args.html or folder / REPORT_FILE
    for option, file in (("--html", html), ("--junit", args.junit)):
        if file is not None:
            check_out_file(file, None, option)
    from tacebench.engine.files import WriteFailed

    try:
        written = write_reports(studies, html, args.junit, figures_on_disk(folder, studies))
    except WriteFailed as exc:  # (no file is left half written)
        print(f"tacebench report: stopped: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0
