"""``tacebench teach LESSON``: run a teaching walkthrough end to end (figures + report).

A teacher's one-liner::

    tacebench teach immortal-time --out teach-out          # 200 cohorts per world
    tacebench teach all --fast                              # every lesson, quick
    tacebench teach all --out docs/teach --update-docs      # regenerate the docs

writes ``OUT/<lesson>-report.md`` and ``OUT/figures/<lesson>-*.png``; ``--update-docs``
also refreshes the generated numbers block of ``OUT/<lesson>.md`` (the walkthrough).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _int_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum``, with a message naming the value."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}")
        return value
    return parse


_reps = _int_at_least(2, "an integer >= 2")
_seed = _int_at_least(0, "a non-negative integer")


def register(subparsers) -> None:
    from .lessons import DEFAULT_SEED, LESSONS

    p = subparsers.add_parser(
        "teach", help="run a teaching walkthrough (confounding, matching, immortal time)",
        description="Run one lesson of docs/teach/ end to end on simulated cohorts shaped "
                    "like a seed paper: the true effect, each estimator's estimate over many "
                    "cohorts, the claims checked on them, figures and a Markdown report.")
    p.add_argument("lesson", choices=[*LESSONS, "all"], help="which lesson (or all)")
    p.add_argument("--seed", type=_seed, default=DEFAULT_SEED,
                   help=f"root seed (default {DEFAULT_SEED}, the one the docs use)")
    p.add_argument("--out", type=Path, default=Path("teach-out"),
                   help="output folder (default: teach-out)")
    p.add_argument("--reps", type=_reps, help="simulated cohorts per world (default: the "
                   "lesson's full setting, or its fast one with --fast)")
    p.add_argument("--fast", action="store_true",
                   help="fewer cohorts: seconds instead of minutes; some claims may be "
                        "inconclusive")
    p.add_argument("--update-docs", action="store_true",
                   help="also rewrite the generated numbers block of OUT/<lesson>.md")
    p.add_argument("--check", action="store_true",
                   help="exit with status 1 unless every claim holds")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from .lessons import LESSONS, lesson_module
    from .lessons.report import update_walkthrough

    names = list(LESSONS) if args.lesson == "all" else [args.lesson]
    failed = []
    for name in names:
        mod = lesson_module(name)
        res = mod.run_lesson(args.seed, args.out, n_reps=args.reps, fast=args.fast)
        print(f"{name}: {res.n_reps} cohorts per world, {res.seconds:.0f} s")
        for c in res.claims:
            mark = {"holds": "ok ", "inconclusive": " ? ", "contradicted": "NO "}[c.status]
            print(f"  [{mark}] {c.key}: {c.value:+.3f} (MCSE {c.mcse:.3f})")
        print(f"  report  {res.report}")
        for path in res.figures.values():
            print(f"  figure  {path}")
        if args.update_docs:
            doc = Path(args.out) / f"{name}.md"
            if not doc.is_file() or not update_walkthrough(doc, mod.summary(res)):
                print(f"--update-docs: {doc} is missing or has no generated block", file=sys.stderr)
                return 2
            print(f"  updated {doc}")
        if not res.all_hold:
            failed.append(name)
    if args.check and failed:
        print(f"claims not established in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
