"""Regenerate the screenshots of seed 000's HTML replication report in docs/report/.

One command, from the repository root (needs Debian's headless Chromium,
``apt-get install chromium-headless-shell``):

    python docs/report/regenerate.py

It runs ``tacebench replicate tace_sorafenib_ehs --html REPORT`` at the default settings
(200 replicates, the default seed, worlds on), renders REPORT in headless Chromium and
saves three views of it: the summary and the top of the forest plot
(``seed000_summary.png``), the paired shifts (``seed000_shifts.png``) and the audit
findings (``seed000_audit.png``). ``--keep DIR`` also keeps the HTML file.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from tacebench.cli import main as tacebench
from tacebench.replications.browser import screenshot

HERE = Path(__file__).resolve().parent
STUDY = "tace_sorafenib_ehs"
#: (file, id of the heading it starts at, window height in CSS pixels)
VIEWS = (("seed000_summary.png", "", 1500),
         ("seed000_shifts.png", f"{STUDY}-shifts", 1100),
         ("seed000_audit.png", f"{STUDY}-audit", 1100))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="also copy the HTML report there")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        status = tacebench(["replicate", STUDY, "--html", str(page), "--format", "json"])
        if status != 0 or not page.is_file():
            print(f"tacebench replicate exited {status}", file=sys.stderr)
            return 1
        html = page.read_text(encoding="utf-8")
        for name, part, height in VIEWS:
            # a view starts at its part: everything before that heading is hidden
            hide = (f"header,nav,#overview,section.study>:has(~#{part}){{display:none}}"
                    if part else "")
            view = Path(tmp) / f"view_{name}.html"
            view.write_text(html.replace("</style>", hide + "</style>", 1), encoding="utf-8")
            screenshot(view, HERE / name, (1280, height))
            print(f"wrote {HERE / name}", file=sys.stderr)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(page, args.keep / "report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
