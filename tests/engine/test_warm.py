"""tacebench.engine.warm: workers started before the first run, which then reuses them."""
from __future__ import annotations

import sys

import numpy as np

from tacebench.engine import Design, finish_start, map_calls, run_design, start_workers
from tacebench.engine import warm


def _imported(name: str) -> bool:
    return name in sys.modules


def _draws(cell, chunk, batch_size):
    from tacebench.engine import ChunkResult
    return ChunkResult(chunk, np.array([np.random.default_rng(cell.seed(5, r)).random(2)
                                        for r in chunk.reps]))


def test_one_job_starts_no_worker():
    assert start_workers(1, ["colorsys"]) is False
    assert warm.POOL.pending == []


def test_started_workers_have_imported_and_serve_the_next_run():
    assert start_workers(2, ["colorsys"]) is True
    assert len(warm.POOL.pending) == 1
    # the run's first call waits for the imports, then the same workers answer
    seen = list(map_calls([(_imported, ("colorsys",))] * 6, n_jobs=2))
    assert warm.POOL.pending == []
    assert any(seen)
    design = Design.of({"a": ("a",), "b": ("b",)}, 9, 5)
    start_workers(2, ["colorsys"])
    out = run_design(design, _draws, n_jobs=2, chunk_size=2)
    inline = run_design(design, _draws, n_jobs=1)
    for c in design.cells:
        assert np.array_equal(np.vstack(out.payloads(c.index)),
                              np.vstack(inline.payloads(c.index)))


def test_finish_start_without_workers_returns():
    finish_start()
    assert warm.POOL.pending == []

