"""``tacebench check``: validate study folders, building them as ``replicate`` will.

Lists every problem at once (file, key path with the target id, value, message), never a
traceback: each file parses, the files agree with each other, every cohort compiles and
calibrates, a pilot cohort is drawn and the analyses compile on it, exactly as a replicate
run does. Plausibility warnings (follow-up shorter than a calibrated median, constant
covariates, reversed intervals) do not fail the check; a cohort too large for memory does.
Ends with the targets, shifts and calibration rows a run will judge. With ``--paper FILE``
every quoted ``source`` must also be in the paper's text. Exit status 1 if any study has
an error.

``tacebench targets``: the ids of a study's targets and shifts, with role, analysis,
quantity and value.
"""
from __future__ import annotations

import sys
from pathlib import Path

from tqdm import tqdm

from .options import HelpFormatter, plain
from .terminal import show_progress

__all__ = ["register", "run", "run_targets"]

# each command's help shows its own paragraph of the module's docstring
_CHECK_DOC, _TARGETS_DOC = __doc__.split("\n\n``tacebench targets``")
_TARGETS_DOC = "``tacebench targets``" + _TARGETS_DOC


def register(subparsers) -> None:
    p = subparsers.add_parser("check", help="validate a study folder and build it as "
                              "replicate will (no replicates run)",
                              description=plain(_CHECK_DOC), formatter_class=HelpFormatter)
    p.add_argument("studies", nargs="+", metavar="PATH_OR_ID",
                   help="study folders (or a file in one) or shipped study ids")
    p.add_argument("--quiet", action="store_true",
                   help="do not list warnings nor what a run will judge")
    p.add_argument("--paper", type=Path, metavar="FILE",
                   help="the paper as UTF-8 text: every quoted source must be in it")
    p.add_argument("--worlds", choices=("all", "declared", "none"), default="all",
                   help="the alternative worlds to build too, as replicate --worlds "
                        "(default all)")
    p.set_defaults(func=run)
    t = subparsers.add_parser("targets", help="list the ids of a study's targets and shifts",
                              description=plain(_TARGETS_DOC), formatter_class=HelpFormatter)
    t.add_argument("studies", nargs="+", metavar="PATH_OR_ID",
                   help="study folders (or a file in one) or shipped study ids")
    t.set_defaults(func=run_targets)


def run(args) -> int:
    from tacebench.replications.check import check_folder
    from tacebench.replications.check_build import judged
    from tacebench.replications.quotes import quote_problems
    from tacebench.replications.study import resolve_study

    status = 0
    for ref in args.studies:
        try:
            folder = resolve_study(ref)
        except ValueError as exc:
            print(f"{ref}: {exc}")
            status = 1
            continue
        with WorldsBar(str(ref), args.quiet) as bar:
            report = check_folder(folder, build=True, worlds=args.worlds, progress=bar.update)
        if args.paper is not None:
            report.problems.extend(quote_problems(folder, args.paper))
        n_err, n_warn = len(report.errors), len(report.warnings)
        state = "OK" if report.ok else "FAILED"
        print(f"{ref}: {state} ({n_err} error(s), {n_warn} warning(s); "
              f"{len(report.requests)} simulated target(s) bound)")
        for p in report.errors:
            print(f"  error: {p}")
        if not args.quiet:
            for p in report.warnings:
                print(f"  warning: {p}")
            if report.ok and report.study is not None:
                print("\n".join(_judged_lines(judged(report.study, report.requests))))
        status = status or (0 if report.ok else 1)
    sys.stdout.flush()
    return status


class WorldsBar:
    """A progress bar of the worlds a check builds, drawn on a terminal only (as
    ``replicate``'s bars) and not with ``--quiet``; made when the build first reports."""

    def __init__(self, label: str, quiet: bool) -> None:
        self.label, self.shown, self.bar = label, show_progress(quiet), None

    def update(self, done: int, total: int) -> None:
        if not self.shown or total == 0:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=f"{self.label}: worlds built", unit="world",
                            file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)

    def __enter__(self) -> "WorldsBar":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def _judged_lines(j) -> list[str]:
    lines = [f"  a run will judge {len(j.targets)} simulated target(s):"]
    lines += [f"    {tid}  ({analysis}, {quantity})" for tid, analysis, quantity in j.targets]
    lines.append(f"  {len(j.shifts)} shift(s):")
    lines += [f"    {sid}  ({a} -> {b})" for sid, a, b in j.shifts]
    lines.append(f"  {len(j.calibration)} calibration row(s):")
    lines += [f"    {key} -> {tid or '(no target)'}  ({what})" for key, tid, what in j.calibration]
    return lines


def _reported(t) -> str:
    """The number a target states: its value, else its p-value (``p = 0.15``, ``p <0.001``),
    else its count (``n = 7``): a p-value or a count alone is the whole of many targets."""
    if t.value is not None:
        return f"{t.value:g}"
    if t.p is not None:
        return f"p = {t.p:g}"
    if t.p_text is not None:
        return f"p {t.p_text}"
    return "" if t.count is None else f"n = {t.count:g}"


def run_targets(args) -> int:
    from tacebench.replications.check import check_folder
    from tacebench.replications.study import resolve_study

    status = 0
    for ref in args.studies:
        try:
            report = check_folder(resolve_study(ref))
        except ValueError as exc:
            print(f"{ref}: {exc}")
            status = 1
            continue
        if report.study is None:
            print(f"{ref}: the folder has errors; `tacebench check {ref}` lists them")
            status = 1
            continue
        targets = report.study.targets
        print(f"{ref}: {len(targets.targets)} target(s), {len(targets.shifts)} shift(s)")
        for t in targets.targets:
            print(f"  {t.id}\t{t.role}\t{t.analysis}\t{t.quantity}\t{_reported(t)}")
        for s in targets.shifts:
            print(f"  {s.id}\tshift\t{s.from_} -> {s.to}\t{s.scale}")
    sys.stdout.flush()
    return status
