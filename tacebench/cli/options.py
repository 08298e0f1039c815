"""The options every ``tacebench`` sub-command shares: one name, one type, one default.

``--seed S``     root seed, a non-negative integer. Default: the seed the thing run
                 declares (a benchmark study's ``seed``, the lessons' documented seed),
                 else :data:`DEFAULT_SEED`.
``--reps N``     simulated replicates (cohorts) per study, scenario or world.
``--n-jobs J``   parallel worker processes; ``-1`` = one per core; default
                 :func:`default_n_jobs`. Results never depend on it.
``--out DIR``    the folder written to; checked writable before any work starts.
``--quiet``      no progress bar and no "wrote ..." lines (warnings and errors remain).

Help text is plain: module docstrings written for Sphinx (double back-quotes, roles) are
cleaned by :func:`plain` before argparse shows them.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from tacebench.engine import MAX_REPS

from .early import default_n_jobs
from .terminal import capped_n_jobs

__all__ = ["DEFAULT_SEED", "HelpFormatter", "add_n_jobs", "add_out", "add_quiet", "add_reps",
           "add_seed", "default_n_jobs", "folder_path", "int_at_least", "plain",
           "replicate_count", "resolve_n_jobs"]

#: The root seed of a run that names none and runs nothing that declares its own.
from tacebench.replications.reproduce import DEFAULT_SEED


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the paragraphs of a description as written (they are already wrapped) and
    shows an option's default value when its help does not already say it (a default of
    None or False is "not given" and is not shown)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if ("default" in text or default in (None, False, argparse.SUPPRESS)
                or not action.option_strings):
            return text
        return f"{text} (default: {default})" if text else f"default: {default}"


def plain(text: str | None) -> str:
    """``text`` without reStructuredText markup: ``x`` -> x, :func:`x` -> x."""
    text = text or ""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")


def int_at_least(minimum: int, what: str, maximum: int | None = None):
    """An argparse type: an integer >= ``minimum`` (and <= ``maximum`` if given); the
    message names the value."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}")
        return value
    return parse


def replicate_count(minimum: int, maximum: int = MAX_REPS):
    """An argparse type: a count of replicates (or papers), ``minimum`` to ``maximum``
    (default :data:`~tacebench.engine.MAX_REPS`)."""
    return int_at_least(minimum, f"an integer from {minimum} to {maximum}", maximum)


def folder_path(text: str) -> Path:
    """An argparse type: a path that names something (``--out ""`` would be the current
    folder, written into without a word)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a folder or file; got {text!r}")
    return Path(text)


def _n_jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be a positive integer or -1 (all cores); "
                                         f"got {text!r}")
    return value


def resolve_n_jobs(n_jobs: int | None, quiet: bool = False) -> int:
    """``None`` -> :func:`default_n_jobs`; ``-1`` stays (the engine reads it as all cores);
    a count above the machine's cores is capped at them, with a note on standard error
    unless ``quiet``."""
    if n_jobs is None:
        return default_n_jobs()
    capped = capped_n_jobs(n_jobs, os.cpu_count())
    if capped.note and not quiet:
        print(capped.note, file=sys.stderr)
    return capped.n_jobs


def add_seed(p: argparse.ArgumentParser, default_text: str) -> None:
    p.add_argument("--seed", type=int_at_least(0, "a non-negative integer"), default=None,
                   metavar="S", help=f"root seed (default: {default_text})")


def add_reps(p: argparse.ArgumentParser, default_text: str, minimum: int = 2,
             maximum: int = MAX_REPS) -> None:
    p.add_argument("--reps", type=replicate_count(minimum, maximum), default=None, metavar="N",
                   help=f"simulated replicates ({default_text})")


def add_n_jobs(p: argparse.ArgumentParser, default_text: str) -> None:
    p.add_argument("--n-jobs", type=_n_jobs, default=None, metavar="J",
                   help=f"parallel workers, -1 = all cores (default: {default_text}); "
                        "results do not depend on it")


def add_out(p: argparse.ArgumentParser, help_text: str, default: Path | None = None) -> None:
    p.add_argument("--out", type=folder_path, default=default, metavar="DIR", help=help_text)


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar and no 'wrote ...' lines; warnings and errors "
                        "still go to standard error")
