"""The files a closed-loop run writes to its ``--out`` folder, and how.

**The record of judged papers** (:data:`PARTIAL_FILE`, JSON lines): a first line with the
run's :class:`RunKey`, then one line per paper as it is judged, holding every row of that
paper, written and flushed to disk at once. A paper's numbers depend on the key and on
nothing else (its seeds come from the root seed, its kind and its number), so a run stopped
at any point (Ctrl-C, ``kill -9``, a lost machine) continues with ``--resume`` from the
papers on record and ends with the tables an uninterrupted run writes, byte for byte. A
line cut short by a kill is not a paper on record (that paper is judged again); a record of
another key (seed, R, ``--control``, code version) is refused, naming what differs. A run
that ends writes its tables and removes the record: a record in the folder is an
unfinished run, which a new run without ``--resume`` will not overwrite.

**One run's files.** Before a run writes anything it removes an earlier finished run's
(:func:`clear_outputs`): the tables and the study folders of ``papers/``
(``--keep-papers``; a resumed run keeps its own). Without that, a run of two papers
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
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from tacebench.engine.files import WriteFailed, atomic_write

__all__ = ["OUTPUT_FILES", "PAPERS_DIR", "PARTIAL_FILE", "ResumeRefused", "RunKey",
           "clear_outputs", "paper_id", "plain_row", "read_record", "record_papers",
           "start_record", "write_outputs"]

#: The tables and records of a finished run, in the order they are written.
OUTPUT_FILES = ("results.csv", "null.csv", "power.csv", "run.json", "summary.md")
#: The record of the papers judged so far (see the module notes); gone when a run ends.
PARTIAL_FILE = "results.partial.jsonl"
#: Where ``--keep-papers`` writes each paper's study folder.
PAPERS_DIR = "papers"
_PAPER = re.compile(r"closed_loop_[a-z0-9_]+_\d{5}")


@dataclass(frozen=True)
class RunKey:
    """What a resumed run must share with the run it continues."""

    seed: int
    reps: int
    control: bool
    code_version: str


class ResumeRefused(ValueError):
    """There is no record to continue, or it belongs to another run."""


def plain_row(row: dict) -> dict:
    """``row`` with numpy scalars as Python ones (as JSON gives them back): a fresh and a
    resumed run build their tables from the same values."""
    def plain(v):
        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, np.integer):
            return int(v)
        if isinstance(v, np.floating):
            return float(v)
        return v
    return {k: plain(v) for k, v in row.items()}


def start_record(out: str | Path, key: RunKey) -> None:
    """Begin the record of a new run (its key line), replacing any."""
    text = json.dumps({"closed_loop": asdict(key)}) + "\n"
    atomic_write(Path(out) / PARTIAL_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def record_papers(out: str | Path, rows: Iterable[dict]) -> None:
    """Append the judged ``rows`` to the record, one line per paper, on disk before return."""
    by_paper: dict[tuple, list] = {}
    for r in rows:
        by_paper.setdefault((r["kind"], int(r["paper"])), []).append(plain_row(r))
    text = "".join(json.dumps({"kind": k, "paper": p, "rows": rs}) + "\n"
                   for (k, p), rs in by_paper.items())
    try:
        with open(Path(out) / PARTIAL_FILE, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:  # (a line cut short is not read back as a paper)
        raise WriteFailed(exc.errno, f"cannot write {PARTIAL_FILE} in {out}: "
                                     f"{exc.strerror or exc}") from exc


def read_record(out: str | Path, key: RunKey) -> dict[tuple[str, int], list[dict]]:
    """The papers on record, ``(kind, paper) -> rows``, for a run of ``key``.

    Raises
    ------
    ResumeRefused
        No record in ``out``, or one of another key (naming each field that differs).
    """
    path = Path(out) / PARTIAL_FILE
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise ResumeRefused(f"{out} holds no unfinished closed-loop run to resume (no "
                            f"{PARTIAL_FILE})") from None
    try:
        have = RunKey(**json.loads(lines[0])["closed_loop"])
    except (ValueError, KeyError, TypeError):
        raise ResumeRefused(f"{path}: its first line is not a closed-loop run's key; it "
                            "cannot be resumed (move it away, or give another --out)") from None
    differ = [f"{f} {getattr(have, f)!r} there, {getattr(key, f)!r} here"
              for f in asdict(key) if getattr(have, f) != getattr(key, f)]
    if differ:
        raise ResumeRefused(f"{path} is the record of another run ({'; '.join(differ)}): "
                            "its papers would not be this run's. Run with its settings, or "
                            "give another --out")
    papers = {}
    for line in lines[1:]:
        try:
            entry = json.loads(line)
            papers[(entry["kind"], int(entry["paper"]))] = entry["rows"]
        except (ValueError, KeyError, TypeError):
            continue       # a line cut short by a kill (or the empty last one)
    return papers


def paper_id(kind: str, paper: int) -> str:
    """The study id (and folder name) of paper number ``paper`` of a kind of world."""
    return f"closed_loop_{kind}_{paper:05d}"


def clear_outputs(out: str | Path, *, resume: bool = False) -> list[Path]:
    """Remove an earlier run's files from ``out``: :data:`OUTPUT_FILES`,
    :data:`PARTIAL_FILE` and the paper folders of :data:`PAPERS_DIR` (named by
    :func:`paper_id`); any other file is left alone. With ``resume`` the record and the
    paper folders (of the run being continued) stay. Returns the paths removed."""
    out = Path(out)
    names = OUTPUT_FILES if resume else (*OUTPUT_FILES, PARTIAL_FILE)
    stale = [out / name for name in names if (out / name).is_file()]
    papers = out / PAPERS_DIR
    folders = sorted(p for p in papers.iterdir() if p.is_dir() and _PAPER.fullmatch(p.name)
                     ) if papers.is_dir() and not resume else []
    for p in stale:
        p.unlink()
    for p in folders:
        shutil.rmtree(p)
    return stale + folders


def write_outputs(out: str | Path, rows: pd.DataFrame, null: pd.DataFrame,
                  power: pd.DataFrame, meta: dict, summary: str) -> list[Path]:
    """Write a finished run's :data:`OUTPUT_FILES` to ``out``, each whole, ``summary.md``
    last, then remove the record; :class:`tacebench.engine.files.WriteFailed` names a file
    that could not be written (the record then stays, and ``--resume`` writes them).
    Returns the paths written."""
    out = Path(out)
    written = [atomic_write(out / name, lambda tmp, f=frame: f.to_csv(tmp, index=False))
               for name, frame in (("results.csv", rows), ("null.csv", null),
                                   ("power.csv", power))]
    text = json.dumps(meta, indent=2)
    written.append(atomic_write(out / "run.json", lambda tmp: tmp.write_text(
        text, encoding="utf-8")))
    written.append(atomic_write(out / "summary.md", lambda tmp: tmp.write_text(
        summary + "\n", encoding="utf-8")))
    (out / PARTIAL_FILE).unlink(missing_ok=True)
    return written
