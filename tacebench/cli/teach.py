"""``tacebench teach LESSON``: run a teaching walkthrough end to end (figures + report).

A teacher's one-liner::

    tacebench teach immortal-time --out teach-out          # 200 cohorts per world
    tacebench teach all --fast                              # every lesson, quick
    tacebench teach all --out docs/teach --update-docs      # regenerate the docs

writes ``OUT/<lesson>-report.md`` and ``OUT/figures/<lesson>-*.png``; ``--update-docs``
also refreshes the generated numbers block of ``OUT/<lesson>.md`` (the walkthrough).
"""
from __future__ import annotations

import sys
from pathlib import Path

from tacebench.benchmarks.lessons import DEFAULT_SEED, LESSONS, lesson_module
from tacebench.benchmarks.lessons.report import has_generated_block, update_walkthrough

from .options import HelpFormatter, add_out, add_reps, add_seed
from .terminal import check_out_dir


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "teach", help="run a teaching walkthrough (confounding, matching, immortal time)",
        formatter_class=HelpFormatter,
        description="Run one lesson of docs/teach/ end to end on simulated cohorts shaped "
                    "like a seed paper: the true effect, each estimator's estimate over many "
                    "cohorts, the claims checked on them, figures and a Markdown report.")
    p.add_argument("lesson", choices=[*LESSONS, "all"], help="which lesson (or all)")
    add_seed(p, f"{DEFAULT_SEED}, the one the docs use")
    add_out(p, "output folder (default: teach-out)", default=Path("teach-out"))
    add_reps(p, "cohorts per world; default: the lesson's full setting, or its fast one "
                "with --fast")
    p.add_argument("--fast", action="store_true",
                   help="fewer cohorts: seconds instead of minutes; some claims may be "
                        "inconclusive")
    p.add_argument("--update-docs", action="store_true",
                   help="also rewrite the generated numbers block of OUT/<lesson>.md")
    p.add_argument("--check", action="store_true",
                   help="exit with status 1 unless every claim holds")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from tacebench.engine.files import WriteFailed, folder_lock

    names = list(LESSONS) if args.lesson == "all" else [args.lesson]
    check_out_dir(args.out)
    if args.update_docs:
        # before any lesson runs: minutes of work, then nowhere to put its numbers
        missing = [str(doc) for doc in (Path(args.out) / f"{n}.md" for n in names)
                   if not has_generated_block(doc)]
        if missing:
            print(f"tacebench teach: --update-docs: no walkthrough with a generated numbers "
                  f"block at {', '.join(missing)} (--out must be the folder of the "
                  f"walkthroughs, e.g. docs/teach); nothing was run", file=sys.stderr)
            return 2
    failed = []
    # two teach runs into one folder write one after the other, never mixing one run's
    # report with the other's figures (tacebench.engine.files)
    with folder_lock(args.out, wait=True, on_wait=lambda who: print(
            f"tacebench teach: waiting for {who} to finish writing {args.out}",
            file=sys.stderr)):
        for name in names:
            try:
                status = _lesson(name, args)
            except WriteFailed as exc:  # (disk full, permissions: no half-written file)
                print(f"tacebench teach: stopped: {exc}", file=sys.stderr)
                return 1
            if status == 2:
                return 2
            if status:
                failed.append(name)
    if args.check and failed:
        print(f"claims not established in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _lesson(name: str, args) -> int:
    """Run one lesson and print it: 0 if every claim holds, 1 if not, 2 if ``--update-docs``
    finds no generated block to update (checked before the run; lost since)."""
    mod = lesson_module(name)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    res = mod.run_lesson(seed, args.out, n_reps=args.reps, fast=args.fast)
    print(f"{name}: {res.n_reps} cohorts per world, {res.seconds:.0f} s")
    for c in res.claims:
        mark = {"holds": "ok ", "inconclusive": " ? ", "contradicted": "NO "}[c.status]
        print(f"  [{mark}] {c.key}: {c.value:+.3f} (MCSE {c.mcse:.3f})")
    print(f"  report  {res.report}")
    for path in res.figures.values():
        print(f"  figure  {path}")
    if args.update_docs:
        doc = Path(args.out) / f"{name}.md"
        if not update_walkthrough(doc, mod.summary(res)):  # edited by hand meanwhile
            print(f"tacebench teach: --update-docs: {doc} has no generated numbers block",
                  file=sys.stderr)
            return 2
        print(f"  updated {doc}")
    return 0 if res.all_hold else 1
