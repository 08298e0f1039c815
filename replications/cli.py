"""The ``tacebench`` console script: one front door, sub-commands registered by module.

Each sub-command lives in its own module that defines ``register(subparsers)``; the
module adds its parser and sets ``func`` (a callable taking the parsed namespace and
returning an exit code). Modules are listed in :data:`COMMANDS` so that each package
owns its own command without editing this file's logic.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, version

#: Modules that provide sub-commands, in the order ``--help`` lists them. A module that
#: does not exist yet is skipped; an existing module that fails to import is an error.
COMMANDS: tuple[str, ...] = (
    "replications.commands.replicate",
    "replications.commands.check",
    "replications.commands.new_study",
    "simulate.cli",
    "benchmarks.cli",
    "benchmarks.teach_cli",
)


def _version() -> str:
    try:
        return version("tacebench")
    except PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tacebench",
        description=(
            "Replicate and benchmark observational studies of TACE plus systemic therapy "
            "in hepatocellular carcinoma."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tacebench {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if importlib.util.find_spec(name) is None:
            continue
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from estimators.batch import tune_allocator

    tune_allocator()  # process-wide, so here at the front door (estimators/batch/allocator.py)
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    return int(func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
