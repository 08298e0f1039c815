"""``tacebench closed-loop``: test the verdict procedure on synthetic papers from known worlds.

Each paper is one cohort drawn from a known world, analysed the paper's way and printed
rounded; its study folder is transcribed from the printed numbers only, replicated, and
every predicted number's verdict recorded. Over many papers the share of clean numbers
judged "not reproduced" should be near the nominal 5%; papers with a planted slip (an
adjusted HR moved by a stated log-HR, or its crude -> adjusted shift reversed) measure
the power to flag it. Writes results.csv (one row per judged number), null.csv,
power.csv, run.json and summary.md to --out, and with --keep-papers each paper's study
folder under papers/. While it runs, results.partial.jsonl records each paper as it is
judged: a run stopped at any point continues with --resume and ends with the tables of an
uninterrupted run. An earlier finished run's files are removed first; a second run into a
folder another is writing, or a new run over an unfinished one, is refused.
"""
from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from .options import (HelpFormatter, add_n_jobs, add_out, add_reps, add_seed, plain,
                      replicate_count, resolve_n_jobs)
from .terminal import UsageError, check_out_dir

__all__ = ["check_kinds", "judge_folder", "register", "resume_command", "run",
           "run_closed_loop"]

DEFAULT_PAPERS = 20
DEFAULT_REPS = 100
DEFAULT_SEED = 20250101


def register(subparsers) -> None:
    p = subparsers.add_parser("closed-loop", help="test the verdicts on synthetic papers",
                              description=plain(__doc__), formatter_class=HelpFormatter)
    p.add_argument("--papers", type=replicate_count(2),
                   default=DEFAULT_PAPERS, metavar="N",
                   help=f"papers per kind of world (default {DEFAULT_PAPERS})")
    add_reps(p, f"per paper, default {DEFAULT_REPS}", minimum=20)
    add_seed(p, str(DEFAULT_SEED))
    add_n_jobs(p, "2")
    add_out(p, "folder for results.csv, null.csv, power.csv, summary.md",
            default=Path("closed_loop"))
    p.add_argument("--kinds", nargs="+", default=None, metavar="KIND",
                   help="kinds of world (default: ph weak nonph)")
    p.add_argument("--control", action="store_true",
                   help="also judge each paper's numbers as an independent cohort of the "
                        "same world prints them (the control of docs/closed-loop.md)")
    p.add_argument("--keep-papers", action="store_true",
                   help="keep every generated study folder under DIR/papers/")
    p.add_argument("--resume", action="store_true",
                   help="continue the unfinished run in --out (same --seed, --reps and "
                        "--control): the papers it judged are not judged again")
    p.set_defaults(func=run)


def judge_folder(folder, reps: int, seed: int, slips=()) -> list[dict]:
    """Replicate the study in ``folder`` and judge its numbers and the ``slips``.

    Parameters
    ----------
    folder : path
        A study folder.
    reps, seed : int
        Replicates and seed of :func:`tacebench.replications.reproduce.reproduce` (worlds
        and the leave-one-covariate-out decomposition off).
    slips : sequence of benchmarks.closed_loop.slips.Slip
        Slipped values, judged against the same draws as the clean targets.

    Returns
    -------
    list of dict
        One row per simulated target, shift and slip: id, analysis, quantity, role,
        contrast, verdict, z, reported, median, slip ("" if clean), size, misfit.
    """
    from tacebench.engine import TaskError
    from tacebench.replications.analysis.problems import StudyError
    from tacebench.replications.check import load_study
    from tacebench.replications.printed_shift import shift_printed
    from tacebench.replications.reading_choice import printed_half_unit
    from tacebench.replications.reproduce import reproduce
    from tacebench.replications.analysis.compile import reported_value
    from tacebench.replications.verdicts import analysis_scale, judge, settle, to_scale

    try:
        study = load_study(folder)
    except StudyError as exc:     # the paper writer's fault, not the user's: say which paper
        raise TaskError(f"the generated paper folder {folder} fails tacebench check (the "
                        f"paper writer wrote a study the format rejects): {exc}") from None
    # at a fixed R (no replicates added near the boundary): slips are judged on these draws
    res = reproduce(study, reps=reps, seed=seed, n_jobs=1, decompose_reps=0, max_reps=reps)
    spec = {t.id: t for t in study.targets.targets}
    rows = [dict(id=t.id, analysis=t.analysis, quantity=t.quantity, role=t.role,
                 contrast=spec[t.id].contrast is not None, verdict=t.verdict, z=t.z,
                 reported=t.reported, median=t.median, slip="", size=0.0, misfit=t.misfit)
            for t in res.targets]
    rows += [dict(id=s.id, analysis="shift", quantity="shift", role=s.role, contrast=True,
                  verdict=s.verdict, z=s.z, reported=s.reported, median=s.median, slip="",
                  size=0.0, misfit=False) for s in res.shifts]
    col = {i: k for k, i in enumerate(res.draw_ids)}
    crude = to_scale(res.draws[:, col["os_hr_crude"]], "log")
    for sl in slips:
        d = res.draws[:, col[sl.target]]
        t = spec[sl.target]
        quantity = reported_value(t)[1]
        # settled as the clean numbers are (undetermined within 2 MC SE of a bound at
        # this fixed R): slips and control numbers were judged without that band, which
        # made their rates look larger beside the clean ones than the procedure makes them
        j = settle(judge(d, sl.value, analysis_scale(quantity),
                         half_unit=printed_half_unit(t, quantity)))
        rows.append(dict(id=sl.target, analysis=t.analysis, quantity=quantity, role=t.role,
                         contrast=t.contrast is not None, verdict=j.verdict, z=j.z,
                         reported=sl.value, median=j.median, slip=sl.name, size=sl.size,
                         misfit=False))
        if not sl.shift:
            continue
        # within the interval the two printed ends allow, as replicate judges a shift
        shift = next(x for x in study.targets.shifts if x.id == sl.shift)
        printed = shift_printed(shift, spec[shift.from_], replace(t, value=sl.value))
        js = settle(judge(to_scale(d, "log") - crude, sl.shift_value, "identity",
                          printed=printed))
        rows.append(dict(id=sl.shift, analysis="shift", quantity="shift", role="predicted",
                         contrast=True, verdict=js.verdict, z=js.z, reported=sl.shift_value,
                         median=js.median, slip=sl.name, size=sl.size, misfit=False))
    return rows


def check_kinds(kinds) -> tuple[str, ...]:
    """The kinds of world to run (``None``: all); ``ValueError`` naming any unknown one."""
    from tacebench.benchmarks.closed_loop.world import KINDS

    unknown = [k for k in kinds or () if k not in KINDS]
    if unknown:
        raise ValueError(f"kinds: {' '.join(unknown)} not a kind of world; the kinds are "
                         f"{' '.join(KINDS)}")
    return tuple(kinds or KINDS)


def run_closed_loop(papers: int, reps: int, seed: int, n_jobs: int = 1, kinds=None,
                    keep: Path | None = None, progress=None, sink=None,
                    control: bool = False, done=None):
    """Run the closed loop; returns (rows DataFrame, null table, power table, notes).

    ``sink(rows)`` sees each paper's rows as soon as it is judged. ``done`` maps
    ``(kind, paper)`` to the rows of papers judged before (a resumed run): they are not
    judged again. The rows are in the order of the design (kind, then paper), whichever
    papers ran now; ``notes`` counts the skipped papers by reason."""
    import numpy as np
    import pandas as pd

    from tacebench.benchmarks.closed_loop.loop import PaperTask, design
    from tacebench.benchmarks.closed_loop.output import plain_row
    from tacebench.benchmarks.closed_loop.summary import null_table, power_table
    from tacebench.engine import run_design
    from tacebench.estimators.batch import WorkerAllocator

    d = design(papers, seed, check_kinds(kinds))
    alloc = WorkerAllocator(os.getpid())
    done = dict(done or {})
    masks = {c.index: np.array([(c.name, r) in done for r in range(c.reps)]) for c in d.cells}
    task = PaperTask(seed, reps, judge_folder, str(keep) if keep else None, control)
    outcome = run_design(d, task, n_jobs=n_jobs, chunk_size=1, progress=progress,
                         initializer=alloc.setup, upkeep=alloc.upkeep,
                         done=masks,
                         sink=None if sink is None else (lambda res: sink(res.payload)))
    for p in outcome.payloads():
        for r in p:
            done.setdefault((r["kind"], int(r["paper"])), []).append(plain_row(r))
    rows = pd.DataFrame([r for c in d.cells for k in range(c.reps)
                         for r in done[(c.name, k)]])
    for c in ("slip", "role", "analysis", "quantity", "id"):
        rows[c] = rows[c].fillna("")
    skipped = rows[rows["verdict"] == "skipped"]
    notes = {f"{k}: skipped: {why}": int(n) for (k, why), n in
             skipped.groupby(["kind", "reason"], sort=True).size().items()
             } if len(skipped) else {}
    return rows, null_table(rows), power_table(rows), notes


def resume_command(args, out: Path) -> str:
    """The command line that continues this run where an interruption left it (the same
    papers, replicates, seed, kinds and control)."""
    words = ["tacebench", "closed-loop", "--out", str(out), "--resume", "--papers",
             str(args.papers)]
    for flag, value in (("--reps", args.reps), ("--seed", args.seed),
                        ("--n-jobs", args.n_jobs)):
        if value is not None:
            words += [flag, str(value)]
    if args.kinds:
        words += ["--kinds", *args.kinds]
    words += [flag for flag, on in (("--control", args.control),
                                    ("--keep-papers", args.keep_papers)) if on]
    return shlex.join(words)


def run(args) -> int:
    from tacebench.benchmarks.closed_loop.output import (PARTIAL_FILE, ResumeRefused, RunKey,
                                                         clear_outputs, read_record,
                                                         record_papers, start_record,
                                                         write_outputs)
    from tacebench.benchmarks.closed_loop.summary import report
    from tacebench.engine import TaskError
    from tacebench.engine.files import FolderLocked, WriteFailed, folder_lock
    from tacebench.engine.version import code_version

    try:
        check_kinds(args.kinds)  # before anything is written
    except ValueError as exc:
        raise UsageError(f"--{exc}") from None
    out = args.out
    check_out_dir(out)
    reps = args.reps or DEFAULT_REPS
    seed = DEFAULT_SEED if args.seed is None else args.seed
    key = RunKey(seed, reps, bool(args.control), code_version())
    args.resume_hint = resume_command(args, out)  # (Ctrl-C said only "interrupted")
    t0 = time.perf_counter()
    try:
        # one run writes the folder, and only this run's files are in it
        # (benchmarks.closed_loop.output)
        with folder_lock(out):
            if args.resume:
                done = read_record(out, key)
            elif (out / PARTIAL_FILE).exists():
                raise ResumeRefused(f"{out} holds an unfinished closed-loop run "
                                    f"({PARTIAL_FILE}): continue it with --resume, or give "
                                    "another --out")
            else:
                done = {}
            clear_outputs(out, resume=args.resume)
            if not args.resume:
                start_record(out, key)
            rows, null, power, notes = run_closed_loop(
                args.papers, reps, seed, resolve_n_jobs(args.n_jobs), args.kinds,
                out / "papers" if args.keep_papers else None,
                sink=lambda judged: record_papers(out, judged), control=args.control,
                done=done)
            elapsed = time.perf_counter() - t0
            kinds = check_kinds(args.kinds)
            before = sum(k in kinds and p < args.papers for k, p in done)
            meta = {"papers_per_kind": args.papers, "reps": reps, "seed": seed,
                    "elapsed_s": round(elapsed, 1), "skipped": notes,
                    "resumed_papers": before}
            again = f" ({before} papers judged before this session)" if args.resume else ""
            text = (f"closed loop: {args.papers} papers per kind, R = {reps}, seed = {seed}, "
                    f"{elapsed:.0f} s{again}; skipped: {notes or 'none'}\n\n" + report(rows))
            write_outputs(out, rows, null, power, meta, text)
    except (FolderLocked, ResumeRefused) as exc:
        print(f"tacebench closed-loop: {exc}", file=sys.stderr)
        return 2
    except TaskError as exc:    # a generated paper folder that fails its check
        kept = "" if args.keep_papers else " (the folder is removed: --keep-papers keeps it)"
        print(f"tacebench closed-loop: stopped: {exc}{kept}", file=sys.stderr)
        return 1
    except WriteFailed as exc:  # (disk full, permissions: no file is left half written)
        print(f"tacebench closed-loop: stopped: {exc}; {out} holds no summary.md; the papers "
              "judged are kept: rerun with --resume", file=sys.stderr)
        return 1
    print(text)
    return 0
