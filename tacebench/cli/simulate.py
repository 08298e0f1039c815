"""``tacebench simulate STUDY [--seed S] [--n-cohorts K] [--out FILE.csv|.parquet] [--table]``.

STUDY is a shipped study id, a study folder or a ``cohort.toml`` path. Without ``--out`` the cohorts are written as CSV to
standard output. ``--table`` prints the generated-vs-published Table 1 instead: each published entry
(per arm and for the whole cohort) beside the central 95% of its statistic over K cohorts
(default 200).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .options import DEFAULT_SEED, HelpFormatter, add_quiet, add_seed, int_at_least, plain
from .terminal import check_out_file, few_reps_warning, note

#: cohorts behind ``--table`` unless ``--n-cohorts`` says otherwise
TABLE_COHORTS = 200


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help="generate synthetic cohorts for a study",
                              description=plain(__doc__), formatter_class=HelpFormatter)
    p.add_argument("study", help="study id, study folder or cohort.toml path")
    p.add_argument("--cohort", default=None,
                   help="cohort name (default: the only one, or 'main'; with --table and several "
                        "cohorts, each one's table)")
    add_seed(p, str(DEFAULT_SEED))
    p.add_argument("--n-cohorts", type=int_at_least(1, "an integer >= 1"), default=None,
                   metavar="K", help=f"number of cohorts (default 1; with --table {TABLE_COHORTS}, "
                                     "and at least 2: the table gives the central 95%% of each "
                                     "statistic over the cohorts)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="output file (.csv or .parquet); default: CSV to stdout")
    p.add_argument("--table", action="store_true", help="print generated vs published Table 1")
    p.add_argument("--no-ps", action="store_true", help="skip the exact true propensity (faster)")
    add_quiet(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from tacebench.simulate.cohort import compile_plan, generate_cohorts
    from tacebench.simulate.footprint import check_memory
    from tacebench.simulate.io import load_spec
    from tacebench.simulate.spec import SpecError

    seed = DEFAULT_SEED if args.seed is None else args.seed
    if args.table and args.n_cohorts == 1:   # (it once drew 200 cohorts without a word)
        print("tacebench simulate: --n-cohorts: --table needs at least 2 cohorts (it gives the "
              f"central 95% of each statistic over them; default {TABLE_COHORTS}); got 1",
              file=sys.stderr)
        return 2
    n_cohorts = args.n_cohorts or (TABLE_COHORTS if args.table else 1)
    if args.table and few_reps_warning(n_cohorts):   # (inside_95 of 3 cohorts flips by chance)
        print(few_reps_warning(n_cohorts, option="--n-cohorts",
                               what="the central 95% of each statistic, and inside_95, carry"), file=sys.stderr)
    if args.out is not None and not args.table:
        check_out_file(args.out)        # before the simulation, not after it
    try:
        spec = load_spec(args.study)
        several = args.cohort is None and len(spec.cohorts) > 1 and "main" not in spec.cohorts
        if several and not args.table:
            raise ValueError(f"cohort: study {spec.id!r} has several cohorts, "
                             f"{sorted(spec.cohorts)}: name one with --cohort")
        names = list(spec.cohorts) if several else [args.cohort]  # --table: each one's
        if not args.table:          # --table draws one cohort at a time
            check_memory(spec.cohort(args.cohort), n_cohorts)
        plans = [compile_plan(spec, name) for name in names]
    except (SpecError, ValueError) as e:
        print(f"tacebench simulate: {e}", file=sys.stderr)
        return 2
    if args.table:
        import pandas as pd

        from tacebench.simulate.table import compare_table
        for k, plan in enumerate(plans):
            tc = compare_table(plan, n_cohorts=n_cohorts, seed=seed)
            with pd.option_context("display.max_rows", None, "display.width", 200):
                print(("\n" if k else "") + tc.to_frame().to_string(
                    index=False, float_format=lambda v: f"{v:.4g}"))
            print(f"\n{plan.study_id}/{plan.cohort_name}: {sum(r[-1] for r in tc.rows)} of "
                  f"{len(tc.rows)} published entries inside the central 95% of {n_cohorts} simulated "
                  f"cohorts; arm sizes exact: {tc.arm_sizes_exact}")
        return 0
    plan = plans[0]
    import pandas as pd
    frames = []
    for i, ch in enumerate(generate_cohorts(plan, n_cohorts, seed=seed, with_ps=not args.no_ps)):
        df = ch.to_frame()
        df.insert(0, "cohort", i)
        df.insert(1, "patient", np.arange(len(df)))
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    if args.out is None:
        out.to_csv(sys.stdout, index=False)
    else:  # whole or absent (a full disk leaves no cut-off file that reads as the cohorts)
        from tacebench.engine.files import WriteFailed, atomic_write

        parquet = Path(args.out).suffix.lower() == ".parquet"
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(Path(args.out), lambda tmp: out.to_parquet(tmp, index=False)
                         if parquet else out.to_csv(tmp, index=False))
        except WriteFailed as exc:
            print(f"tacebench simulate: stopped: {exc}", file=sys.stderr)
            return 1
    if args.out is not None:
        note(args, f"wrote {n_cohorts} cohort(s), {len(out)} rows, to {args.out}")
    return 0
