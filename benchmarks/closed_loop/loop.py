"""The closed loop through the Monte Carlo engine: worlds -> papers -> replicate -> verdicts.

One cell per kind of world (:data:`~.world.KINDS`); replicate ``r`` of a cell is paper
``r`` of that kind, with everything random drawn from ``stream_seed(seed, kind, r)``:
child 0 draws the world, child 1 the paper's cohort, child 2 seeds the replication. So the
results do not depend on ``n_jobs`` or the chunking, and one root seed reproduces a run.

The replication itself (``tacebench.replications``) is not imported here (benchmarks and
replications never import each other): the front door passes a *judge*, a picklable
callable ``judge(folder, reps, seed, slips) -> list[dict]`` returning one row per judged
number (see :func:`tacebench.cli.closed_loop.judge_folder`).
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tacebench.engine import Cell, Chunk, ChunkResult, Design
from tacebench.simulate import compile_plan, generate_cohort, spec_from_dict

from .paper import analyse
from .slips import slips_of
from .world import KINDS, make_world
from .writer import write_study

__all__ = ["PaperTask", "design", "make_paper"]


def design(papers: int, seed: int, kinds=KINDS) -> Design:
    """``papers`` papers of each kind of world under root ``seed``."""
    return Design.of({k: ("closed_loop", k) for k in kinds}, papers, seed)


def make_paper(kind: str, seeds):
    """(world, paper) drawn from ``seeds`` (world seed, cohort seed)."""
    world = make_world(seeds[0], kind)
    plan = compile_plan(spec_from_dict(world.spec), "main", cache=None)
    cohort = generate_cohort(plan, seed=seeds[1], with_ps=False)
    cens = world.spec["cohorts"]["main"]["censoring"]
    labels = tuple(a["label"] for a in world.spec["cohorts"]["main"]["arms"])
    return world, analyse(cohort.columns, labels, accrual=cens["accrual"],
                          follow_up=cens["follow_up"])


@dataclass(frozen=True)
class PaperTask:
    """The engine task: write and judge each paper of a chunk.

    ``keep`` is a folder the papers are written to (kept); without it they go to a
    temporary folder removed after each paper.
    """

    seed: int
    reps: int
    judge: Callable
    keep: str | None = None

    def __call__(self, cell: Cell, chunk: Chunk, batch_size: int | None) -> ChunkResult:
        rows, notes = [], {}
        for r in chunk.reps:
            seeds = cell.seed(self.seed, r).spawn(3)
            world, paper = make_paper(cell.name, seeds)
            base = {"kind": cell.name, "paper": r}
            if paper.skipped:
                notes[f"{cell.name}: skipped: {paper.skipped}"] = notes.get(
                    f"{cell.name}: skipped: {paper.skipped}", 0) + 1
                rows.append(base | {"id": "", "verdict": "skipped", "reason": paper.skipped})
                continue
            sid = f"closed_loop_{cell.name}_{r:05d}"
            root = Path(self.keep) if self.keep else Path(tempfile.mkdtemp(prefix="closed_loop_"))
            folder = write_study(paper, root / sid, sid)
            try:
                got = self.judge(folder, self.reps, int(seeds[2].generate_state(1)[0]),
                                 slips_of(paper))
            finally:
                if not self.keep:
                    shutil.rmtree(root, ignore_errors=True)
            selected = set(paper.selected)
            for row in got:
                var = row["id"][len("os_hr_"):-len("_univariable")] if row.get(
                    "analysis") == "univariable" else None
                rows.append(base | row | {"transcribed": var in selected} if var else
                            base | row)
        return ChunkResult(chunk, rows, {}, notes)
