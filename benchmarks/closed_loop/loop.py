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

from .output import paper_id
from .paper import analyse
from .slips import independent_of, slips_of
from .world import KINDS, make_world
from .writer import write_study

__all__ = ["PaperTask", "design", "make_paper"]


def design(papers: int, seed: int, kinds=KINDS) -> Design:
    """``papers`` papers of each kind of world under root ``seed``."""
    return Design.of({k: ("closed_loop", k) for k in kinds}, papers, seed)


def make_paper(kind: str, seeds, control: bool = False):
    """(world, paper) drawn from ``seeds`` (world seed, cohort seed); with ``control``,
    (world, paper, paper of an independent cohort of the same world from ``seeds[3]``)."""
    world = make_world(seeds[0], kind)
    plan = compile_plan(spec_from_dict(world.spec), "main", cache=None)
    cens = world.spec["cohorts"]["main"]["censoring"]
    labels = tuple(a["label"] for a in world.spec["cohorts"]["main"]["arms"])
    papers = [analyse(generate_cohort(plan, seed=s, with_ps=False).columns, labels,
                      accrual=cens["accrual"], follow_up=cens["follow_up"])
              for s in ((seeds[1], seeds[3]) if control else (seeds[1],))]
    return (world, *papers)


@dataclass(frozen=True)
class PaperTask:
    """The engine task: write and judge each paper of a chunk.

    ``keep`` is a folder the papers are written to (kept); without it they go to a
    temporary folder removed after each paper. ``control`` also judges the numbers of an
    independent cohort of the same world against each paper's draws
    (:func:`~.slips.independent_of`).
    """

    seed: int
    reps: int
    judge: Callable
    keep: str | None = None
    control: bool = False

    def __call__(self, cell: Cell, chunk: Chunk, batch_size: int | None) -> ChunkResult:
        rows, notes = [], {}
        for r in chunk.reps:
            # children 0-2 are the same whether 3 or 4 are spawned: the control adds a
            # cohort without changing any other draw
            seeds = cell.seed(self.seed, r).spawn(4 if self.control else 3)
            world, paper, *other = make_paper(cell.name, seeds, self.control)
            base = {"kind": cell.name, "paper": r}
            if paper.skipped or (other and other[0].skipped):
                key = f"{cell.name}: skipped: {paper.skipped or other[0].skipped}"
                notes[key] = notes.get(key, 0) + 1
                why = paper.skipped or f"control: {other[0].skipped}"
                rows.append(base | {"id": "", "verdict": "skipped", "reason": why})
                continue
            sid = paper_id(cell.name, r)
            root = Path(self.keep) if self.keep else Path(tempfile.mkdtemp(prefix="closed_loop_"))
            folder = write_study(paper, root / sid, sid)
            try:
                got = self.judge(folder, self.reps, int(seeds[2].generate_state(1)[0]),
                                 slips_of(paper) + (independent_of(paper, other[0])
                                                    if other else ()))
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
