"""The files a closed-loop run writes to its ``--out`` folder, and how.

A run's folder holds its own files only. Before a run writes anything it removes an
earlier run's (:func:`clear_outputs`): the tables, the running ``results.partial.jsonl``
and the study folders of ``papers/`` (``--keep-papers``). Without that, a run of two papers
after one of three left the third paper's folder in ``papers/`` beside this run's two,
read as this run's by anyone who opened the folder. Each file is written whole or not at
all (:func:`tacebench.engine.files.atomic_write`), ``summary.md`` last, so a run stopped
while writing leaves the folder incomplete, never mixed. The caller holds the folder
(:func:`tacebench.engine.files.folder_lock`) for the whole run: two runs writing one folder
at once each truncated the other's ``results.partial.jsonl`` and the later one's tables
replaced the earlier one's, whose own summary had just been printed.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd

from tacebench.engine.files import atomic_write

__all__ = ["OUTPUT_FILES", "PAPERS_DIR", "PARTIAL_FILE", "clear_outputs", "paper_id",
           "write_outputs"]

#: The tables and records of a finished run, in the order they are written.
OUTPUT_FILES = ("results.csv", "null.csv", "power.csv", "run.json", "summary.md")
#: One JSON line per judged number, appended as each paper finishes (a long run can be
#: watched; the tables are written at the end).
PARTIAL_FILE = "results.partial.jsonl"
#: Where ``--keep-papers`` writes each paper's study folder.
PAPERS_DIR = "papers"
_PAPER = re.compile(r"closed_loop_[a-z0-9_]+_\d{5}")


def paper_id(kind: str, paper: int) -> str:
    """The study id (and folder name) of paper number ``paper`` of a kind of world."""
    return f"closed_loop_{kind}_{paper:05d}"


def clear_outputs(out: str | Path) -> list[Path]:
    """Remove an earlier run's files from ``out``: :data:`OUTPUT_FILES`,
    :data:`PARTIAL_FILE` and the paper folders of :data:`PAPERS_DIR` (named by
    :func:`paper_id`); any other file is left alone. Returns the paths removed."""
    out = Path(out)
    stale = [out / name for name in (*OUTPUT_FILES, PARTIAL_FILE) if (out / name).is_file()]
    papers = out / PAPERS_DIR
    folders = sorted(p for p in papers.iterdir() if p.is_dir() and _PAPER.fullmatch(p.name)
                     ) if papers.is_dir() else []
    for p in stale:
        p.unlink()
    for p in folders:
        shutil.rmtree(p)
    return stale + folders


def write_outputs(out: str | Path, rows: pd.DataFrame, null: pd.DataFrame,
                  power: pd.DataFrame, meta: dict, summary: str) -> list[Path]:
    """Write a finished run's :data:`OUTPUT_FILES` to ``out``, each whole, ``summary.md``
    last; :class:`tacebench.engine.files.WriteFailed` names a file that could not be
    written. Returns the paths written."""
    out = Path(out)
    written = [atomic_write(out / name, lambda tmp, f=frame: f.to_csv(tmp, index=False))
               for name, frame in (("results.csv", rows), ("null.csv", null),
                                   ("power.csv", power))]
    text = json.dumps(meta, indent=2)
    written.append(atomic_write(out / "run.json", lambda tmp: tmp.write_text(
        text, encoding="utf-8")))
    written.append(atomic_write(out / "summary.md", lambda tmp: tmp.write_text(
        summary + "\n", encoding="utf-8")))
    return written
