"""``tacebench teach LESSON``: run a teaching walkthrough end to end (figures + report).

A teacher's one-liner::

    tacebench teach immortal-time --out teach-out          # 200 cohorts per world
    tacebench teach all --fast                              # every lesson, quick
    tacebench teach all --out docs/teach --update-docs      # regenerate the docs

writes ``OUT/<lesson>-report.md`` and ``OUT/figures/<lesson>-*.png``; ``--update-docs``
also refreshes the generated numbers block of ``OUT/<lesson>.md`` (the walkthrough). The
walkthroughs' prose asserts their claims, so ``--update-docs`` writes only the documented
run (default seed, each lesson's full number of cohorts) and only when every claim holds:
the lessons run into a staging folder, and their files reach OUT only then.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from tacebench.benchmarks.lessons import DEFAULT_SEED, LESSONS, lesson_module
from tacebench.benchmarks.lessons._core import MAX_COHORTS
from tacebench.benchmarks.lessons.report import has_generated_block, update_walkthrough

from .options import HelpFormatter, add_out, add_reps, add_seed
from .terminal import check_out_dir

MARKS = {"holds": "ok ", "inconclusive": " ? ", "contradicted": "NO "}


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
                "with --fast", maximum=MAX_COHORTS)
    p.add_argument("--fast", action="store_true",
                   help="a quarter to a third of the cohorts (saves 15-45%% of the time: "
                        "the worlds, truths and figures cost the same); some claims may be "
                        "inconclusive")
    p.add_argument("--update-docs", action="store_true",
                   help="also rewrite the generated numbers block of OUT/<lesson>.md; only "
                        "for the documented run (default seed and cohorts, no --fast), and "
                        "only if every claim holds")
    p.add_argument("--check", action="store_true",
                   help="exit with status 1 unless every claim holds")
    p.set_defaults(func=_run)


def _err(text: str) -> None:
    print(f"tacebench teach: {text}", file=sys.stderr)


def _not_documented(names: list[str], args) -> str:
    """Why this run is not the one the walkthroughs document ('' if it is)."""
    full = {n: lesson_module(n).FULL_REPS for n in names}
    given = []
    if args.seed is not None and args.seed != DEFAULT_SEED:
        given.append(f"--seed {args.seed}")
    if args.reps is not None and any(args.reps != r for r in full.values()):
        given.append(f"--reps {args.reps}")
    if args.fast:
        given.append("--fast")
    if not given:
        return ""
    cohorts = ", ".join(f"{n} {r}" for n, r in full.items())
    return (f"--update-docs writes the documented run only: seed {DEFAULT_SEED} and each "
            f"lesson's full number of cohorts per world ({cohorts}), without --fast; this run "
            f"has {' '.join(given)}. Nothing was run or written; drop those options (or "
            f"--update-docs)")


def _run(args) -> int:
    from tacebench.engine.files import WriteFailed, folder_lock

    names = list(LESSONS) if args.lesson == "all" else [args.lesson]
    check_out_dir(args.out)
    if args.update_docs:
        why = _not_documented(names, args)
        if why:
            _err(why)
            return 1
        # before any lesson runs: minutes of work, then nowhere to put its numbers
        missing = [str(doc) for doc in (Path(args.out) / f"{n}.md" for n in names)
                   if not has_generated_block(doc)]
        if missing:
            _err(f"--update-docs: no walkthrough with a generated numbers block at "
                 f"{', '.join(missing)} (--out must be the folder of the walkthroughs, e.g. "
                 f"docs/teach); nothing was run")
            return 2
    # two teach runs into one folder write one after the other, never mixing one run's
    # report with the other's figures (tacebench.engine.files)
    with folder_lock(args.out, wait=True, on_wait=lambda who: _err(
            f"waiting for {who} to finish writing {args.out}")):
        try:
            if args.update_docs:
                return _update_docs(names, args)
            failed = [name for name in names if not _lesson(name, args, args.out).all_hold]
        except WriteFailed as exc:  # (disk full, permissions: no half-written file)
            _err(f"stopped: {exc}")
            return 1
    if args.check and failed:
        print(f"claims not established in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _lesson(name: str, args, out: Path, *, show_files: bool = True):
    """Run one lesson into ``out`` and print its claims (and files)."""
    seed = DEFAULT_SEED if args.seed is None else args.seed
    res = lesson_module(name).run_lesson(seed, out, n_reps=args.reps, fast=args.fast)
    print(f"{name}: {res.n_reps} cohorts per world, {res.seconds:.0f} s")
    for c in res.claims:
        print(f"  [{MARKS[c.status]}] {c.key}: {c.value:+.3f} ({c.evidence()})")
    if show_files:
        _show_files(res.report, res.figures.values())
    return res


def _show_files(report: Path, figures) -> None:
    print(f"  report  {report}")
    for path in figures:
        print(f"  figure  {path}")


def _update_docs(names: list[str], args) -> int:
    """Run the lessons into a staging folder inside OUT; move their reports and figures
    into OUT and rewrite the walkthroughs' blocks only if every claim of every lesson
    holds (status 1, OUT untouched, otherwise)."""
    from tacebench.engine.files import replace_files

    out = Path(args.out)
    staging = Path(tempfile.mkdtemp(prefix=".teach-staging-", dir=out))
    try:
        results = [_lesson(name, args, staging, show_files=False) for name in names]
        open_claims = [f"{r.lesson}: {c.key} ({c.status})" for r in results
                       for c in r.claims if not c.holds]
        if open_claims:
            _err(f"--update-docs: not every claim holds ({'; '.join(open_claims)}); the "
                 f"walkthroughs assert them, so nothing was written to {out}")
            return 1
        for res in results:
            figures = [out / "figures" / p.name for p in res.figures.values()]
            (out / "figures").mkdir(exist_ok=True)
            for src, dst in zip(res.figures.values(), figures):
                os.replace(src, dst)
            replace_files(out, {res.report.name: res.report.read_text(encoding="utf-8")})
            _show_files(out / res.report.name, figures)
            doc = out / f"{res.lesson}.md"
            if not update_walkthrough(doc, lesson_module(res.lesson).summary(res)):
                _err(f"--update-docs: {doc} has no generated numbers block")  # edited meanwhile
                return 2
            print(f"  updated {doc}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return 0
