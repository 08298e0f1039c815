"""``tacebench.study``: the ADEMP estimator-comparison studies from Python.

``run``, ``summarize`` and ``list_studies`` are what ``tacebench study run|summarize|list``
call.
"""
from __future__ import annotations

from pathlib import Path

from tacebench.benchmarks.report import summarize_run
from tacebench.benchmarks.runner import RunReport, run_study
from tacebench.benchmarks.dgm import load_checked_study
from tacebench.benchmarks.study import Study, builtin_studies

__all__ = ["RunReport", "Study", "list_studies", "load", "run", "summarize"]


def load(study: str | Path, **overrides) -> Study:
    """A benchmark study by shipped name (``"default"``) or TOML path, its file and what
    its scenarios' generators need checked together (see
    :func:`tacebench.benchmarks.dgm.load_checked_study`)."""
    return load_checked_study(study, **overrides)


def run(study: str | Path | Study, out: str | Path | None = None, *, reps: int | None = None,
        seed: int | None = None, n_jobs: int = 1, backend: str | None = None,
        scheduler: str | None = None, chunk_size: int | None = None, resume: bool = False,
        progress: bool = False) -> RunReport:
    """Run (or resume) a benchmark study; results go to ``out`` (default
    ``tacebench-out/<name>``). Same seed, same results for any ``n_jobs``/backend/chunking.

    Returns
    -------
    RunReport
    """
    st = study if isinstance(study, Study) else load_checked_study(study, seed=seed)
    out = Path(out) if out is not None else Path("tacebench-out") / st.name
    return run_study(st, out, reps=reps, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                     chunk_size=chunk_size, resume=resume, progress=progress)


def summarize(out: str | Path, *, plot: bool = False, reps: int | None = None) -> dict[str, Path]:
    """Performance tables and report of a run directory; returns the written paths."""
    return summarize_run(out, plot=plot, reps=reps)


def list_studies() -> dict[str, Path]:
    """Shipped benchmark studies by name."""
    return builtin_studies()
