"""``tacebench replicate``: audit and reproduce studies (the main job).

Without STUDY arguments all shipped studies run. Exit status: 0, or with ``--strict`` 1 when
a target or shift marked ``required`` is not reproduced; 2 when a study folder is invalid.
"""
from __future__ import annotations

import argparse
import os
import sys

__all__ = ["register", "run"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "replicate", help="audit and reproduce the reported numbers of studies",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("studies", nargs="*", metavar="STUDY_OR_PATH",
                   help="shipped study ids or study folders (default: all shipped studies)")
    p.add_argument("--reps", type=int, default=None,
                   help="simulated replicates per study (default 200)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default fixed)")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.add_argument("--out", metavar="DIR", help="write results.json / results.csv / draws")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 if a target marked required is not reproduced")
    p.add_argument("--audit-only", action="store_true",
                   help="only audit the published numbers (no simulation)")
    p.add_argument("--plot", action="store_true",
                   help="draw simulated KM curves with the reported numbers "
                        "(PNG files in DIR/plots, DIR from --out or the current folder)")
    p.add_argument("--n-jobs", type=int, default=None,
                   help="parallel workers (default: 2 or the CPU count if smaller)")
    p.add_argument("--decompose-reps", type=int, default=None, metavar="N",
                   help="replicates that also run the leave-one-covariate-out "
                        "decomposition of shifts (default 50; 0 = off)")
    p.set_defaults(func=run)


def _audit(study):
    """Findings of the audit of published numbers (replications.audit)."""
    from replications.audit import audit_study
    return list(audit_study(study.path).findings)


def run(args) -> int:
    from tqdm import tqdm

    from replications.analysis.problems import StudyError
    from replications.report import StudyReport, render, write_outputs
    from replications.reproduce import (DEFAULT_DECOMPOSE_REPS, DEFAULT_REPS, DEFAULT_SEED,
                                        reproduce)
    from replications.study import load_study, shipped_studies

    refs = args.studies or shipped_studies()
    if not refs:
        print("no studies to replicate", file=sys.stderr)
        return 2
    reps = DEFAULT_REPS if args.reps is None else args.reps
    if reps < 2:
        print(f"--reps must be >= 2; got {reps}", file=sys.stderr)
        return 2
    seed = DEFAULT_SEED if args.seed is None else args.seed
    n_jobs = args.n_jobs or min(2, os.cpu_count() or 1)
    reports, status = [], 0
    for ref in refs:
        try:
            study = load_study(ref)
        except (StudyError, ValueError) as exc:
            print(f"{ref}: {exc}", file=sys.stderr)
            reports.append(StudyReport(str(ref), error=str(exc)))
            status = 2
            continue
        findings = _audit(study)
        result = None
        if not args.audit_only:
            with tqdm(total=reps, desc=study.id, file=sys.stderr, unit="rep",
                      leave=False, mininterval=0.5) as bar:
                result = reproduce(study, reps=reps, seed=seed, n_jobs=n_jobs,
                                   decompose_reps=(DEFAULT_DECOMPOSE_REPS
                                                   if args.decompose_reps is None
                                                   else args.decompose_reps),
                                   progress=bar.update)
        reports.append(StudyReport(study.id, study.title, findings, result))
        if args.plot and result is not None:
            from replications.plots import plot_study
            for path in plot_study(study, result, args.out or "."):
                print(f"wrote {path}", file=sys.stderr)
    print(render(reports, args.format), end="")
    if args.out:
        for path in write_outputs(reports, args.out):
            print(f"wrote {path}", file=sys.stderr)
    if args.strict and status == 0:
        failed = [f"{r.study_id}:{t}" for r in reports if r.result is not None
                  for t in r.result.required_failures()]
        if failed:
            print("required targets not reproduced: " + ", ".join(failed), file=sys.stderr)
            status = 1
    return status
