"""``tacebench study run|summarize|list``: run ADEMP simulation studies from the command line."""
from __future__ import annotations

import contextlib
import shlex
import sys
import warnings
from pathlib import Path

from tacebench.engine import BACKENDS, SchedulerUnreachable, scheduler_problem

from .options import (HelpFormatter, add_n_jobs, add_out, add_quiet, add_reps, add_seed,
                      int_at_least, replicate_count, resolve_n_jobs)
from .terminal import UsageError, check_out_dir, parquet_missing, show_progress


def register(subparsers) -> None:
    study = subparsers.add_parser(
        "study", help="run and summarize Monte Carlo estimator comparisons (ADEMP studies)",
        description="Monte Carlo studies comparing estimators' bias, SE, coverage and RMSE "
                    "across data-generating scenarios (Morris, White & Crowther 2019).")
    sub = study.add_subparsers(dest="study_command", metavar="ACTION")
    study.set_defaults(func=lambda args: (study.print_help(), 0)[1])

    run = sub.add_parser(
        "run", help="run (or resume) a study", formatter_class=HelpFormatter,
        description="Run a study's scenarios x replicates x methods, write each chunk of\n"
                    "results to --out as it finishes, then the summary (summary.md,\n"
                    "summary.html, performance.csv). Same seed, same numbers, whatever\n"
                    "--n-jobs, --backend or --chunk-size. An interrupted run continues\n"
                    "with --resume.")
    run.add_argument("study", help="a shipped study name (as tacebench study list prints them) "
                     "or a TOML file")
    # (every performance measure needs two replicates: one gave a summary of dashes)
    add_reps(run, "per scenario; default: the study's", minimum=2)
    add_n_jobs(run, "2, or 1 on a one-core machine")
    run.add_argument("--backend", choices=BACKENDS,
                     help="joblib backend: loky (default), threading, multiprocessing, dask")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler address for --backend dask (default: a local cluster)")
    run.add_argument("--cluster", type=Path, metavar="FILE",
                     help="start a Dask cluster (SLURM, PBS, ... via dask-jobqueue) from this "
                          "TOML file, run on it, close it; implies --backend dask")
    add_seed(run, "the study's")
    add_out(run, "run directory (default: tacebench-out/<study>)")
    run.add_argument("--resume", action="store_true",
                     help="continue the run in --out, redoing nothing already written")
    run.add_argument("--force", action="store_true",
                     help="if the run in --out was computed by other code (tacebench or the "
                          "study's own modules) or has no readable manifest.json, move its "
                          "results to OUT/superseded/ and start again")
    run.add_argument("--chunk-size", type=int_at_least(1, "a positive integer"),
                     help="replicates per task (default: the study's, else about four tasks "
                          "per worker and scenario)")
    run.add_argument("--format", choices=("parquet", "csv"), help="chunk file format")
    run.add_argument("--plot", action="store_true", help="also draw the figures")
    run.add_argument("--no-progress", action="store_true",
                     help="hide the progress bar (it is drawn only on a terminal anyway)")
    add_quiet(run)
    run.set_defaults(func=_run)

    summ = sub.add_parser("summarize", help="performance tables and report of a run directory",
                          formatter_class=HelpFormatter,
                          description="Write the results table, performance.csv, summary.md "
                                      "and summary.html\nof a run directory from its chunks "
                                      "(a finished run's, or those an unfinished\nrun has "
                                      "written).")
    summ.add_argument("dir", type=Path, help="a run directory (the --out of study run)")
    summ.add_argument("--plot", action="store_true", help="also draw the figures")
    summ.add_argument("--reps", type=replicate_count(2), metavar="N",
                      help="use only the first N replicates (default: as many as the "
                           "run's last session was asked for)")
    summ.set_defaults(func=_summarize)

    lst = sub.add_parser("list", help="list the shipped studies",
                         description="The shipped studies: name, scenarios, methods, "
                                     "replicates and title.")
    lst.set_defaults(func=_list)


def _run(args) -> int:
    if args.format == "parquet" and parquet_missing():
        raise UsageError(f"--format parquet: {parquet_missing()}")
    if args.scheduler is not None:  # (a typo was "missing port ... fix the generator")
        if args.backend != "dask" and args.cluster is None:
            raise UsageError(f"--scheduler {args.scheduler}: needs --backend dask")
        if problem := scheduler_problem(args.scheduler):
            raise UsageError(f"--scheduler: {problem}")
    with _warnings_as_lines("tacebench study run"):
        return _run_checked(args)


@contextlib.contextmanager
def _warnings_as_lines(prog: str):
    """Warnings of the run (a damaged file set aside, a lost worker retried: RunNotice;
    others as the warning filters say) as one line each, ``PROG: warning: ...``, not
    Python's two lines with a source path."""
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{prog}: warning: {message}", file=sys.stderr)

    from tacebench.benchmarks.run_state import RunNotice

    with warnings.catch_warnings():
        warnings.simplefilter("always", RunNotice)  # (each: every file set aside is told)
        warnings.showwarning = show
        yield


def _run_checked(args) -> int:
    from tacebench.benchmarks.faults import WorkersLost
    from tacebench.benchmarks.report import summarize_run
    from tacebench.benchmarks.dgm import load_checked_study
    from tacebench.benchmarks.runner import run_study
    from tacebench.benchmarks.store import WriteFailed
    from tacebench.cli.distributed import cluster_of, scheduler_of

    try:
        study = load_checked_study(args.study, seed=args.seed)
        out = args.out or Path("tacebench-out") / study.name
        cluster = cluster_of(args)  # (a bad --cluster file left an empty OUT behind)
        check_out_dir(out)
        args.resume_hint = resume_command(args, out)
        with scheduler_of(args, cluster) as (backend, scheduler):
            report = run_study(study, out, reps=args.reps,
                               n_jobs=resolve_n_jobs(args.n_jobs, args.quiet),
                               backend=backend, scheduler=scheduler,
                               chunk_size=args.chunk_size, resume=args.resume, force=args.force,
                               progress=not args.no_progress and show_progress(args.quiet),
                               fmt=args.format)
    except ValueError as exc:  # (a refusal of the run folder says its way on in options)
        print(f"tacebench study run: {getattr(exc, 'cli', exc)}", file=sys.stderr)
        return 2
    except (WriteFailed, WorkersLost, SchedulerUnreachable) as exc:
        # the run stopped; what is on disk is whole
        hint = getattr(args, "resume_hint", "")
        print(f"tacebench study run: stopped: {exc}. The chunks written are whole and kept; "
              "fix the cause and rerun with --resume" + (f": {hint}" if hint else ""),
              file=sys.stderr)
        return 1
    whole = report.whole_run
    # (a run with a chunk computed again said "248 replicates" of a 240-replicate run)
    again = whole.replicates_run - report.replicates_total
    more = (f" ({again} computed again after damage or a kill, or beyond --reps)"
            if again > 0 else "")
    print(f"{report.replicates_run} replicates run, {report.replicates_skipped} already done, "
          f"in {report.elapsed:.1f} s ({report.rate:.1f} replicates/s); whole run: "
          f"{report.replicates_total} replicates in {whole.sessions} session(s) "
          f"({whole.interrupted} interrupted), {whole.replicates_run} computed{more} in "
          f"{whole.elapsed:.1f} s; {report.failures} method fits failed or did not converge")
    try:
        paths = summarize_run(out, plot=args.plot, reps=report.reps, on_note=_note)
    except WriteFailed as exc:
        print(f"tacebench study run: the run is complete, its summary is not: {exc}. Fix "
              f"the cause and run: tacebench study summarize {shlex.quote(str(out))}",
              file=sys.stderr)
        return 1
    print(f"summary: {paths['markdown']}")
    return 0


def resume_command(args, out: Path) -> str:
    """The command line that continues this run where an interruption left it: every
    option that says what is run, where and how (the format is the run's own)."""
    words = ["tacebench", "study", "run", args.study, "--out", str(out), "--resume"]
    for flag, value in (("--reps", args.reps), ("--seed", args.seed),
                        ("--n-jobs", args.n_jobs), ("--backend", args.backend),
                        ("--scheduler", args.scheduler), ("--cluster", args.cluster),
                        ("--chunk-size", args.chunk_size)):
        if value is not None:
            words += [flag, str(value)]
    words += [flag for flag, on in (("--plot", args.plot), ("--no-progress", args.no_progress),
                                    ("--quiet", args.quiet)) if on]
    return shlex.join(words)


def _note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def _summarize(args) -> int:
    from tacebench.benchmarks.report import summarize_run
    from tacebench.engine.files import WriteFailed

    try:
        paths = summarize_run(args.dir, plot=args.plot, reps=args.reps, on_note=_note)
    except ValueError as exc:
        print(f"tacebench study summarize: {getattr(exc, 'cli', exc)}", file=sys.stderr)
        return 2
    except WriteFailed as exc:  # (no file is left half written; the chunks are untouched)
        print(f"tacebench study summarize: stopped: {exc}", file=sys.stderr)
        return 1
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _list(args) -> int:
    from tacebench.benchmarks.study import builtin_studies, load_study

    for name, path in sorted(builtin_studies().items()):
        try:
            st = load_study(path)
            print(f"{name:<14} {len(st.scenarios):>3} scenarios {len(st.methods):>3} methods "
                  f"{st.reps:>5} reps  {st.title}")
        except (ValueError, ImportError) as exc:
            print(f"{name:<14} (cannot load: {exc})")
    return 0
