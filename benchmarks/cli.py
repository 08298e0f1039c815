"""``tacebench study run|summarize|list``: run ADEMP simulation studies from the command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _nonzero(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-zero integer; got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must be non-zero (-1 = all cores)")
    return value


def register(subparsers) -> None:
    study = subparsers.add_parser(
        "study", help="run and summarize Monte Carlo estimator comparisons (ADEMP studies)",
        description="Monte Carlo studies comparing estimators' bias, SE, coverage and RMSE "
                    "across data-generating scenarios (Morris, White & Crowther 2019).")
    sub = study.add_subparsers(dest="study_command", metavar="ACTION")
    study.set_defaults(func=lambda args: (study.print_help(), 0)[1])

    run = sub.add_parser("run", help="run (or resume) a study")
    run.add_argument("study", help="a shipped study name (see `tacebench study list`) or a TOML file")
    run.add_argument("--reps", type=_positive, help="replicates per scenario (default: the study's)")
    run.add_argument("--n-jobs", type=_nonzero, default=1, help="parallel workers (-1: all cores)")
    run.add_argument("--backend", help="joblib backend: loky (default), threading, "
                     "multiprocessing, dask")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler address for --backend dask (default: a local cluster)")
    run.add_argument("--seed", type=int, help="root seed (default: the study's)")
    run.add_argument("--out", type=Path, help="run directory (default: tacebench-out/<study>)")
    run.add_argument("--resume", action="store_true",
                     help="continue the run in --out, redoing nothing already written")
    run.add_argument("--chunk-size", type=_positive, help="replicates per task")
    run.add_argument("--format", choices=("parquet", "csv"), help="chunk file format")
    run.add_argument("--plot", action="store_true", help="also draw the figures")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.set_defaults(func=_run)

    summ = sub.add_parser("summarize", help="performance tables and report of a run directory")
    summ.add_argument("dir", type=Path)
    summ.add_argument("--plot", action="store_true", help="also draw the figures")
    summ.add_argument("--reps", type=_positive, help="use only the first N replicates")
    summ.set_defaults(func=_summarize)

    lst = sub.add_parser("list", help="list the shipped studies")
    lst.set_defaults(func=_list)


def _run(args) -> int:
    from .report import summarize_run
    from .runner import run_study
    from .study import load_study

    try:
        study = load_study(args.study, seed=args.seed)
        out = args.out or Path("tacebench-out") / study.name
        report = run_study(study, out, reps=args.reps, n_jobs=args.n_jobs, backend=args.backend,
                           scheduler=args.scheduler, chunk_size=args.chunk_size,
                           resume=args.resume, progress=not args.no_progress, fmt=args.format)
    except ValueError as exc:
        print(f"tacebench study run: {exc}", file=sys.stderr)
        return 2
    print(f"{report.replicates_run} replicates run, {report.replicates_skipped} already done, "
          f"in {report.elapsed:.1f} s ({report.rate:.1f} replicates/s); "
          f"{report.failures} method fits failed or did not converge")
    paths = summarize_run(out, plot=args.plot, reps=report.reps)
    print(f"summary: {paths['markdown']}")
    return 0


def _summarize(args) -> int:
    from .report import summarize_run

    try:
        paths = summarize_run(args.dir, plot=args.plot, reps=args.reps)
    except ValueError as exc:
        print(f"tacebench study summarize: {exc}", file=sys.stderr)
        return 2
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _list(args) -> int:
    from .study import builtin_studies, load_study

    for name, path in sorted(builtin_studies().items()):
        try:
            st = load_study(path)
            print(f"{name:<14} {len(st.scenarios):>3} scenarios {len(st.methods):>3} methods "
                  f"{st.reps:>5} reps  {st.title}")
        except (ValueError, ImportError) as exc:
            print(f"{name:<14} (cannot load: {exc})")
    return 0
