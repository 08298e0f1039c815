"""How the ``tacebench`` command behaves at a terminal, in a pipe and in a log.

Progress bars are drawn only when standard error is a terminal (a log file or a CI console
gets no carriage-return frames) and never with ``--quiet``. Every argument that can be
checked is checked before any work starts: output folders and files must be writable,
Parquet needs its library, more workers than cores are capped with a note, and too few
replicates for a verdict draw a warning. Ctrl-C ends with one line (and, for a resumable
run, the command that resumes it), a closed pipe ends silently: no traceback in either case.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["UsageError", "MIN_VERDICT_REPS", "NJobs", "capped_n_jobs", "check_out_dir",
           "check_out_file", "few_reps_warning", "note", "parquet_missing",
           "run_guarded", "show_progress"]

#: Below this many replicates a verdict's Monte Carlo error is large enough that the
#: command warns (verdicts are still printed: the user asked for them).
MIN_VERDICT_REPS = 100

#: Exit status of a command ended by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Exit status when the reader of standard output went away (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


class UsageError(ValueError):
    """A command-line argument that cannot work; the message names the option and value."""


def show_progress(quiet: bool = False, stream=None) -> bool:
    """Whether to draw a progress bar: not ``quiet`` and ``stream`` (default standard
    error) is a terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not quiet and bool(isatty and isatty())


def note(args, message: str) -> None:
    """Print an informational line to standard error unless ``--quiet`` was given."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


@dataclass(frozen=True)
class NJobs:
    """Workers to start and, when the request was reduced, why."""

    n_jobs: int
    note: str = ""


def capped_n_jobs(requested: int, cores: int | None) -> NJobs:
    """Cap a worker count at the machine's cores.

    Parameters
    ----------
    requested : int
        ``--n-jobs``: a positive count, or -1 for one worker per core.
    cores : int or None
        ``os.cpu_count()``; None (unknown) leaves the request as it is.

    Returns
    -------
    NJobs
        The count to use (results never depend on it) and a note when it was capped:
        more processes than cores only add start-up and switching costs.
    """
    if requested == -1 or cores is None or requested <= cores:
        return NJobs(requested)
    return NJobs(cores, f"note: --n-jobs {requested} capped at the {cores} core(s) of this "
                        "machine (more workers than cores only slow the run down)")


def few_reps_warning(reps: int, minimum: int = MIN_VERDICT_REPS, option: str = "--reps",
                     what: str = "the simulated intervals and the verdicts carry") -> str:
    """A warning when ``reps`` replicates (given as ``option``) are too few for stable
    intervals, else ''; ``what`` says which results carry the Monte Carlo error."""
    if reps >= minimum:
        return ""
    return (f"warning: {option} {reps} is below {minimum}: {what} a large Monte Carlo error; "
            f"use {option} {minimum} or more for results")


def _probe_writable(folder: Path) -> str:
    """'' if a file can be created in ``folder``, else why not. A folder that does not
    exist yet is not made here (a command refused later for another reason left it behind,
    empty): its nearest existing parent must be a folder where one can be made."""
    folder = Path(folder).absolute()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".tacebench-probe-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return ""


def check_out_dir(path, option: str = "--out") -> None:
    """Raise :class:`UsageError` unless ``path`` is (or can be made) a writable folder."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {str(path)!r}: exists and is not a folder")
    why = _probe_writable(folder)
    if why:
        raise UsageError(f"{option} {str(path)!r}: cannot write there ({why})")


def parquet_missing() -> str:
    """The one-line message when no Parquet engine is installed, else ''."""
    if importlib.util.find_spec("pyarrow") or importlib.util.find_spec("fastparquet"):
        return ""
    return ("writing Parquet needs pyarrow, which the base install does not include: "
            "pip install 'tacebench[parquet]' (or write CSV)")


def check_out_file(path, suffixes=(".csv", ".parquet"), option: str = "--out") -> None:
    """Raise :class:`UsageError` unless ``path`` has a known suffix (any, for ``suffixes``
    None), is not a folder, its folder is writable and, for Parquet, a Parquet engine is
    installed."""
    p = Path(path)
    # (case-blind: a Windows user's COHORTS.CSV was refused as not ending in .csv)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise UsageError(f"{option} {str(path)!r}: must end in {' or '.join(suffixes)}")
    if p.is_dir():
        raise UsageError(f"{option} {str(path)!r}: is a folder, not a file")
    why = _probe_writable(p.parent if str(p.parent) else Path("."))
    if why:
        raise UsageError(f"{option} {str(path)!r}: cannot write there ({why})")
    if p.suffix.lower() == ".parquet" and parquet_missing():
        raise UsageError(f"{option} {str(path)!r}: {parquet_missing()}")


def _silence_stdout() -> None:
    """Point standard output at the null device so the interpreter's final flush of the
    closed pipe does not raise again (the recipe of Python's signal documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass        # no real file descriptor (an in-memory stream under a test): nothing to do


def run_guarded(func, args, prog: str) -> int:
    """Run a sub-command's ``func(args)`` and turn the ways a command is ended from outside
    into an exit status with at most two lines, no traceback.

    Parameters
    ----------
    func : callable
        The sub-command; returns an exit code.
    args : argparse.Namespace
        Its arguments. A command that can be resumed sets ``args.resume_hint`` (the
        command line that continues it) before it starts working.
    prog : str
        The command's name in messages, e.g. ``tacebench study run``.

    Returns
    -------
    int
        ``func``'s status; 2 for a :class:`UsageError`; 130 after Ctrl-C; 141 when the
        reader of standard output closed the pipe.
    """
    try:
        return int(func(args) or 0)
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = getattr(args, "resume_hint", "")
        print(f"\n{prog}: interrupted" + (f"; resume with: {hint}" if hint else ""),
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
