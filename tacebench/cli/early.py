"""``tacebench replicate``'s workers, started before the command's own imports.

The sub-commands import scipy, pandas and the replication machinery (about a second); a
loky worker, a fresh interpreter, then imports the same again before its first chunk. When
the command line is a simulating ``replicate`` the workers are started from a first look at
the arguments, before those imports, so that the imports of the three processes overlap.
Only the start is early: ``replicate`` starts its workers again with the parsed and
checked ``--n-jobs`` (the engine keeps a pool started for the same count), so a first look
that reads the arguments differently than the parser costs time, never a result.
"""
from __future__ import annotations

import os
import sys
from typing import Sequence

from tacebench.engine import start_workers
from tacebench.estimators.batch import tune_allocator

from .terminal import capped_n_jobs

__all__ = ["WORKER_MODULES", "default_n_jobs", "start_replicate_workers"]

#: What a replicate worker imports before its first chunk (the task's module).
WORKER_MODULES = ("tacebench.replications.reproduce",)


def default_n_jobs() -> int:
    """Two workers, or one on a one-core machine: the replicate default."""
    return min(2, os.cpu_count() or 1)


def _n_jobs(args: Sequence[str]) -> int | None:
    """``--n-jobs`` of a replicate command line as the parser will resolve it; None when
    the value is not a plain valid count (the parser will say why)."""
    n = None
    for i, a in enumerate(args):
        if a == "--n-jobs" and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith("--n-jobs="):
            value = a.partition("=")[2]
        else:
            continue
        try:
            n = int(value)
        except ValueError:
            return None
    if n is None:
        return default_n_jobs()
    if n == 0 or n < -1:
        return None
    return capped_n_jobs(n, os.cpu_count()).n_jobs


def start_replicate_workers(argv: Sequence[str] | None = None) -> bool:
    """Start the workers of a ``tacebench replicate`` command line that will simulate.

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
    if not args or args[0] != "replicate" or {"-h", "--help", "--audit-only"} & set(args):
        return False
    n_jobs = _n_jobs(args)
    if n_jobs is None:
        return False
    return start_workers(n_jobs, WORKER_MODULES, tune_allocator)
