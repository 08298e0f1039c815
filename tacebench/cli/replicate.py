"""``tacebench replicate``: audit and reproduce studies (the main job).

Without STUDY arguments all shipped studies run. Exit status: 0; 2 when a study folder is
invalid. With ``--strict`` (for CI) the status is 0 or 1, printed with every reason: 1 when
a target or shift marked ``required`` is simulated and not reproduced without being
declared in ``[[expected_failures]]``, when a declared expected failure reproduces now
(stale), when a declaration's audit finding is gone, or when a study folder is invalid.
Targets the study cannot simulate (spec gaps: check warnings) never fail it.
"""
from __future__ import annotations

import contextlib
import sys
from functools import partial
from importlib import import_module
from pathlib import Path

from tqdm import tqdm

from tacebench.api import replicate, set_up
from tacebench.engine import start_workers
from tacebench.engine.files import WriteFailed, folder_lock
from tacebench.estimators.batch import tune_allocator
from tacebench.replications.analysis.problems import StudyError
from tacebench.replications.plots import plot_study
from tacebench.replications.output_files import OUTPUT_FILES, clear_outputs
from tacebench.replications.report import StudyReport, render, write_outputs
from tacebench.replications.reproduce import DEFAULT_DECOMPOSE_REPS, DEFAULT_REPS
from tacebench.replications.robustness import WORLD_CHOICES, world_list
from tacebench.replications.strict import strict_lines, strict_status
from tacebench.replications.study import shared_ids, shipped_studies
from tacebench.replications.unreported import UNREPORTED_FAMILIES

from .early import WORKER_MODULES
from .prefetch import StudyPrefetch
from .report import add_report_options, km_figures, write_reports
from .options import (DEFAULT_SEED, HelpFormatter, add_n_jobs, add_out, add_quiet, add_reps,
                      add_seed, plain, replicate_count, resolve_n_jobs)
from .terminal import (UsageError, check_out_dir, check_out_file, few_reps_warning, note,
                       show_progress)

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "replicate", help="audit and reproduce the reported numbers of studies",
        description=plain(__doc__), formatter_class=HelpFormatter)
    p.add_argument("studies", nargs="*", metavar="STUDY_OR_PATH",
                   help="shipped study ids or study folders (default: all shipped studies)")
    add_reps(p, f"per study; default {DEFAULT_REPS}")
    add_seed(p, str(DEFAULT_SEED))
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table",
                   help="what standard output shows")
    add_out(p, f"write {', '.join(OUTPUT_FILES)} and draws/ there, replacing an earlier "
               "run's (with its plots and report)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if a required target is not reproduced and not declared an "
                        "expected failure, a declared one reproduces now, or a study is "
                        "invalid; spec gaps never fail")
    p.add_argument("--audit-only", action="store_true",
                   help="only audit the published numbers (no simulation)")
    p.add_argument("--plot", action="store_true",
                   help="draw simulated KM curves with the reported numbers "
                        "(PNG files in DIR/plots, DIR from --out or the current folder)")
    add_n_jobs(p, "2, or 1 on a one-core machine")
    p.add_argument("--decompose-reps", type=replicate_count(0), default=None,
                   metavar="N",
                   help="replicates that also run the leave-one-covariate-out "
                        "decomposition of shifts (default 50; 0 = off)")
    p.add_argument("--worlds", choices=WORLD_CHOICES, default="all",
                   help="also reproduce each study in its alternative worlds (worlds.toml; "
                        "'all' adds the built-in families: an unmeasured confounder, and "
                        f"unreported covariate effects ({' and '.join(UNREPORTED_FAMILIES)}) "
                        "where a covariate has no published effect) and label every verdict "
                        "robust, assumption-dependent or unsettled (default all)")
    p.add_argument("--world-uncertainty", choices=("on", "off"), default="off",
                   help="draw the calibration inputs (KM medians and rates, event counts, "
                        "Table 1 rows, covariate HRs with a CI) from their sampling "
                        "distributions, one world per block of 25 replicates (default off: "
                        "see docs/study-format.md for the measured coverage)")
    p.add_argument("--max-reps", type=replicate_count(2), default=None,
                   metavar="N", help="replicates a study may grow to when a verdict sits "
                   "within its Monte Carlo error of the boundary (default 4 x --reps; "
                   "--max-reps equal to --reps adds none)")
    add_report_options(p)
    add_quiet(p)
    p.set_defaults(func=run)


def run(args) -> int:
    refs = args.studies or shipped_studies()
    if not refs:
        print("no studies to replicate", file=sys.stderr)
        return 2
    reps = DEFAULT_REPS if args.reps is None else args.reps
    seed = DEFAULT_SEED if args.seed is None else args.seed
    # every argument is checked before the first replicate runs
    shared = shared_ids(refs)
    if shared:
        raise UsageError("studies with one id would be written and counted as one: " + "; ".join(
            f"{sid!r} is the id of {' and '.join(map(repr, map(str, found)))}"
            for sid, found in shared.items()) + "; give each its own [study] id (cohort.toml "
            "and targets.toml)")
    if args.max_reps is not None and args.max_reps < reps:
        raise UsageError(f"--max-reps {args.max_reps}: must be at least --reps ({reps}); "
                         "equal adds no replicates")
    if args.out:
        check_out_dir(args.out)
    if args.plot and not args.audit_only:
        check_out_dir((args.out or Path(".")) / "plots", "--plot")
    for option, file in (("--html", args.html), ("--junit", args.junit)):
        if file is not None:  # (a folder given for a file was found only after the run)
            check_out_file(file, None, option)
    n_jobs = resolve_n_jobs(args.n_jobs, args.quiet)
    if not args.audit_only and few_reps_warning(reps):
        print(few_reps_warning(reps), file=sys.stderr)
    decompose = DEFAULT_DECOMPOSE_REPS if args.decompose_reps is None else args.decompose_reps
    # the workers import while the first study is set up, and each next study is set up
    # while the workers run the one before (tacebench.cli.prefetch)
    ahead = not args.audit_only and start_workers(n_jobs, WORKER_MODULES, tune_allocator)
    studies = StudyPrefetch(refs, lambda st, later: set_up(
        st, reps=reps, seed=seed, decompose_reps=decompose, audit_only=args.audit_only,
        later=later), ahead, idle=partial(import_module, "pandas") if _frames(args) else None)
    try:
        reports, status, figures, to_plot = _run_studies(refs, studies, args, reps, seed,
                                                         n_jobs, decompose)
    finally:
        studies.close()
    print(render(reports, args.format), end="")
    try:
        # two commands writing one --out folder write one after the other, never mixed
        with (folder_lock(args.out, wait=True, on_wait=lambda who: print(
                f"tacebench replicate: waiting for {who} to finish writing {args.out}",
                file=sys.stderr)) if args.out else contextlib.nullcontext()):
            _write_files(args, reports, to_plot, figures)
    except WriteFailed as exc:  # (disk full, permissions: nothing partial is left)
        print(f"tacebench replicate: stopped: {exc}" + (
            f"; {args.out} holds no results.json" if args.out else ""), file=sys.stderr)
        return 1
    if args.strict:
        outcomes = [r.strict for r in reports]
        print("\n".join(strict_lines(outcomes)), file=sys.stderr)
        status = strict_status(outcomes)
    return status


def _write_files(args, reports, to_plot, figures) -> None:
    """``--html`` and ``--junit``'s reports, ``--plot``'s figures and ``--out``'s files."""
    if args.out:  # DIR's outputs are this run's: an earlier run's are removed before any of
        # this run's is written (an --html report may be one of them), so that an
        # interrupted write leaves DIR incomplete but never mixed (tacebench report reads
        # DIR/plots beside results.json, which is written last)
        clear_outputs(args.out)
    for path in write_reports([r.to_dict() for r in reports], args.html, args.junit, figures):
        note(args, f"wrote {path}")
    for study, result in to_plot:
        for path in plot_study(study, result, args.out or "."):
            note(args, f"wrote {path}")
    if args.out:
        for path in write_outputs(reports, args.out):
            note(args, f"wrote {path}")


def _frames(args) -> bool:
    """Whether the output is drawn from pandas frames (the tables' cross-study summary,
    ``--out``, ``--html``): imported while the workers run rather than at the end."""
    return args.format != "json" or bool(args.out or args.html)


def _run_studies(refs, studies: StudyPrefetch, args, reps: int, seed: int, n_jobs: int,
                 decompose: int):
    """Each study's report, in order; the exit status; the KM figures of ``--html``; the
    ``(study, result)`` pairs ``--plot`` draws (at the end, with the other outputs)."""
    reports, status, figures, to_plot = [], 0, {}, []
    for i, ref in enumerate(refs):
        # an invalid folder (ValueError: no such study) or a cohort the generator cannot
        # build: the report below prints the error once (not also here on stderr)
        try:
            study = studies.study(i)
        except (StudyError, ValueError) as exc:
            reports.append(StudyReport(str(ref), error=str(exc)))
            status = 2
            continue
        try:
            report = _replicate_one(studies.setup(i, study), args, reps, seed, n_jobs,
                                    decompose)
        except StudyError as exc:
            reports.append(StudyReport(str(ref), error=str(exc)))
            status = 2
            continue
        reports.append(report)
        result = report.result
        if args.plot and result is not None:
            to_plot.append((study, result))
        if args.html and result is not None:
            figures[study.id] = km_figures(study, result)
    return reports, status, figures, to_plot


def _replicate_one(setup, args, reps: int, seed: int, n_jobs: int,
                   decompose: int) -> StudyReport:
    """One study's report (``setup``: :func:`set_up`'s, with the same ``reps``, ``seed``
    and ``decompose`` replicates); a cohort the generator cannot build raises StudyError."""
    if args.audit_only:
        return replicate(setup, audit_only=True)
    study = setup.study
    n_worlds = len(world_list(study, args.worlds))
    with tqdm(total=reps * (1 + n_worlds), desc=study.id, file=sys.stderr,
              unit="rep", leave=False, mininterval=0.5,
              disable=not show_progress(args.quiet)) as bar:
        return replicate(setup, reps=reps, seed=seed, n_jobs=n_jobs,
                         decompose_reps=decompose, progress=bar.update,
                         worlds=args.worlds,
                         world_uncertainty=args.world_uncertainty == "on",
                         max_reps=args.max_reps)
