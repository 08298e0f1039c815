"""``tacebench check``: validate study folders without simulating.

Lists every problem at once (file, key, value, message). Exit status 1 if any study has an
error; warnings (targets that will be 'not estimable') do not fail the check.
"""
from __future__ import annotations

import sys

from .options import HelpFormatter, plain

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser("check", help="validate a study folder without simulating",
                              description=plain(__doc__), formatter_class=HelpFormatter)
    p.add_argument("studies", nargs="+", metavar="PATH_OR_ID")
    p.add_argument("--quiet", action="store_true", help="do not list warnings")
    p.set_defaults(func=run)


def run(args) -> int:
    from tacebench.replications.check import check_folder
    from tacebench.replications.study import resolve_study

    status = 0
    for ref in args.studies:
        try:
            folder = resolve_study(ref)
        except ValueError as exc:
            print(f"{ref}: {exc}")
            status = 1
            continue
        report = check_folder(folder)
        n_err, n_warn = len(report.errors), len(report.warnings)
        state = "OK" if report.ok else "FAILED"
        print(f"{ref}: {state} ({n_err} error(s), {n_warn} warning(s); "
              f"{len(report.requests)} simulated target(s) bound)")
        for p in report.errors:
            print(f"  error: {p}")
        if not args.quiet:
            for p in report.warnings:
                print(f"  warning: {p}")
        status = status or (0 if report.ok else 1)
    sys.stdout.flush()
    return status
