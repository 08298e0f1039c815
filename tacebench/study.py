"""``tacebench.study``: the ADEMP estimator-comparison studies from Python.

``run``, ``summarize`` and ``list_studies`` are what ``tacebench study run|summarize|list``
call.
"""
from __future__ import annotations

from pathlib import Path

from tacebench.benchmarks.report import summarize_run
from tacebench.benchmarks.runner import RunReport, run_study
from tacebench.benchmarks.dgm import load_checked_study
from tacebench.benchmarks.study import Study, builtin_studies, study_from_raw

__all__ = ["RunReport", "Study", "list_studies", "load", "run", "summarize"]


def load(study: str | Path, **overrides) -> Study:
    """A benchmark study by shipped name (``"default"``) or TOML path, its file and what
    its scenarios' generators need checked together (see
    :func:`tacebench.benchmarks.dgm.load_checked_study`)."""
    return load_checked_study(study, **overrides)


def run(study: str | Path | Study, out: str | Path | None = None, *, reps: int | None = None,
        seed: int | None = None, n_jobs: int = 1, backend: str | None = None,
        scheduler: str | None = None, chunk_size: int | None = None, resume: bool = False,
        force: bool = False, progress: bool = False) -> RunReport:
    """Run (or resume) a benchmark study; results go to ``out`` (default
    ``tacebench-out/<name>``). Same seed, same results for any ``n_jobs``/backend/chunking.

    Parameters
    ----------
    study : str, Path or Study
        A shipped study name, a TOML file, or a study from :func:`load`.
    seed, reps : int, optional
        Override the study's own (also for a :class:`Study` passed in).
    resume : bool
        Continue the run in ``out`` (same study, seed and code version).
    force : bool
        With ``resume``: when ``out`` holds results of another code version, move them to
        ``out/superseded/`` and start again (they are never mixed with this version's).
    n_jobs, backend, scheduler, chunk_size, progress
        As ``tacebench study run`` (:func:`tacebench.benchmarks.run_study`).

    Returns
    -------
    RunReport
    """
    if isinstance(study, Study):
        # (a seed given with a loaded study was ignored: the run used the study's own)
        st = study if seed is None else study_from_raw(study.raw, source=repr(study.name),
                                                       seed=seed)
    elif isinstance(study, (str, Path)):
        st = load_checked_study(study, seed=seed)
    else:
        raise ValueError(f"study: must be a shipped study name, a TOML file or a Study; got "
                         f"{study!r}")
    out = Path(out) if out is not None else Path("tacebench-out") / st.name
    return run_study(st, out, reps=reps, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                     chunk_size=chunk_size, resume=resume, force=force, progress=progress)


def summarize(out: str | Path, *, plot: bool = False, reps: int | None = None) -> dict[str, Path]:
    """Performance tables and report of a run directory; returns the written paths."""
    return summarize_run(out, plot=plot, reps=reps)


def list_studies() -> dict[str, Path]:
    """Shipped benchmark studies by name."""
    return builtin_studies()
