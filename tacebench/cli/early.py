"""The workers of ``tacebench replicate`` and ``tacebench study run``, started before the
command's own imports.

The sub-commands import scipy, pandas and the replication or benchmark machinery (about a
second); a loky worker, a fresh interpreter, then imports the same again before its first
task. When the command line is a simulating ``replicate`` or a ``study run`` on local
worker processes, the workers are started from a first look at the arguments, before
those imports, so that the imports of the three processes overlap (and, for ``study
run``, the workers' imports overlap the study's checks before its first task). Only the
start is early: the run uses the pool the engine keeps for the parsed and checked
``--n-jobs`` (a pool of another count is replaced), so a first look that reads the
arguments differently than the parser costs time, never a result.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

from tacebench.engine import start_workers
from tacebench.estimators.batch import tune_allocator

from .terminal import capped_n_jobs

__all__ = ["STUDY_WORKER_MODULES", "WORKER_MODULES", "default_n_jobs", "start_early_workers"]

#: What a replicate worker imports before its first chunk (the task's module).
WORKER_MODULES = ("tacebench.replications.reproduce",)
#: What a ``study run`` worker imports before its first task (the runner, whose truths come
#: first, and the cohort generator that the shipped studies' scenarios name).
STUDY_WORKER_MODULES = ("tacebench.benchmarks.runner", "tacebench.benchmarks.cohort_dgm")


def default_n_jobs() -> int:
    """Two workers, or one on a one-core machine: the replicate default."""
    return min(2, os.cpu_count() or 1)


def _values(args: Sequence[str], option: str) -> list[str]:
    """Every value of ``option`` (``--opt V`` or ``--opt=V``) on a command line, in order."""
    out = []
    for i, a in enumerate(args):
        if a == option and i + 1 < len(args):
            out.append(args[i + 1])
        elif a.startswith(option + "="):
            out.append(a.partition("=")[2])
    return out


def _n_jobs(args: Sequence[str]) -> int | None:
    """``--n-jobs`` of a command line as the parser will resolve it; None when a value is
    not a plain valid count (the parser will say why)."""
    n = None
    for value in _values(args, "--n-jobs"):
        try:
            n = int(value)
        except ValueError:
            return None
    if n is None:
        return default_n_jobs()
    if n == 0 or n < -1:
        return None
    return capped_n_jobs(n, os.cpu_count()).n_jobs


def start_early_workers(argv: Sequence[str] | None = None) -> bool:
    """Start the workers of a command line that will run tasks on local worker processes:
    a ``tacebench replicate`` that simulates, a ``tacebench study run`` on the loky backend
    (not ``--backend`` dask, threading or multiprocessing, nor ``--cluster``).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    bool
        True if workers were started.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or {"-h", "--help"} & set(args):
        return False
    if args[0] == "replicate" and "--audit-only" not in args:
        modules = WORKER_MODULES
    elif (args[:2] == ["study", "run"] and set(_values(args, "--backend")) <= {"loky"}
          and not _values(args, "--cluster")):
        modules = STUDY_WORKER_MODULES
    else:
        return False
    n_jobs = _n_jobs(args)
    if n_jobs is None:
        return False
    return start_workers(n_jobs, modules, tune_allocator)
