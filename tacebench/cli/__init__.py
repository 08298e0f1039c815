"""The ``tacebench`` command: one parser, one sub-command module each, one set of options.

Each module of this package defines ``register(subparsers)``, adds its parser with the
shared options of :mod:`tacebench.cli.options` and sets ``func`` (a callable taking the
parsed namespace and returning an exit code). :func:`build_parser` imports every one of
them (``tacebench --help`` lists them all; a command that fails to import is an error at
start-up, never silently missing), except when the command line names one: then only that
command's module is imported, since the others (the benchmark studies and lessons, the
HTML report: pandas and pyarrow) would cost ``tacebench replicate`` half a second of its
start for parsers it never uses. They are imported there rather than with this package so
that ``tacebench replicate`` and ``tacebench study run`` start their workers first
(:mod:`tacebench.cli.early`).
"""
from __future__ import annotations

import argparse
import sys
from importlib import import_module
from typing import Sequence

from .terminal import EXIT_INTERRUPTED, run_guarded

__all__ = ["build_parser", "main"]

#: Sub-command modules, in the order ``--help`` lists them.
COMMAND_MODULES = ("replicate", "report", "check", "new_study", "migrate", "simulate",
                   "study", "teach", "closed_loop")


def commands(names: Sequence[str] = COMMAND_MODULES) -> tuple:
    """The sub-command modules ``names`` (default: all), imported, in that order."""
    return tuple(import_module(f".{name}", __name__) for name in names)


def chosen_module(argv: Sequence[str] | None) -> str | None:
    """The module of the sub-command a command line names first (``replicate`` for
    ``tacebench replicate ...``, ``new_study`` for ``new-study``); None when the line names
    none (no arguments, ``--help``, ``--version``) or a word that is no module's command
    (a typo, or ``targets``, registered by :mod:`~tacebench.cli.check`): every module is
    then imported, as before."""
    if not argv or argv[0].startswith("-"):
        return None
    name = argv[0].replace("-", "_")
    return name if name in COMMAND_MODULES and "_" not in argv[0] else None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``tacebench`` parser: every sub-command, or only the one ``argv`` names
    (:func:`chosen_module`); parsing ``argv`` with either gives the same namespace."""
    from tacebench.engine import release

    from .options import HelpFormatter

    parser = argparse.ArgumentParser(
        prog="tacebench", formatter_class=HelpFormatter,
        description=(
            "Replicate and benchmark observational studies of TACE plus systemic therapy "
            "in hepatocellular carcinoma."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tacebench {release()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = chosen_module(argv)
    for module in commands(COMMAND_MODULES if chosen is None else (chosen,)):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The ``tacebench`` command; returns its exit status. Ctrl-C while it starts (its
    imports take about a second, before a sub-command's own guard is in place) ends it
    quietly with status 130, as Ctrl-C later does."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # (was a traceback through the imports)
        print(file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    # imported here, not with the package, so that Ctrl-C during them is caught by main
    from tacebench.engine import set_blas_threads
    from tacebench.estimators.batch import tune_allocator

    from .early import start_early_workers

    # Process-wide allocator tuning belongs to the program, not to a library import: the
    # command line and the engine's worker initializer are the only places that call it.
    # One BLAS thread, as in the engine's workers, so results do not depend on --n-jobs.
    tune_allocator()
    set_blas_threads(1)
    # before the sub-commands' imports, so that the workers' own imports overlap them
    start_early_workers(argv)
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    prog = " ".join(["tacebench", args.command] + ([args.study_command] if getattr(
        args, "study_command", None) else []))
    return run_guarded(func, args, prog)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
