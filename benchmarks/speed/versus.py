"""Whole commands of tacebench against an earlier commit of tacebench, back to back, on the
same work.

    python -m tacebench.benchmarks.speed.versus BEFORE_COMMIT --rounds 2 -o versus.json
    python -m tacebench.benchmarks.speed.versus --report versus.json   # the Markdown table

The speed targets of the one-package change compare *commands* (``tacebench replicate``,
``tacebench study run default --n-jobs 2``) with the code before that change. The commands
of today do more work by default than they did then (assumption worlds, analysis readings,
replicates added near a verdict's boundary, more methods in the default study), so this
tool runs both codes on the *earlier* commit's own inputs, the work both can do:

``replicate``
    the earlier commit's shipped study folders; before: its ``tacebench replicate`` (200
    replicates); after: ``tacebench replicate FOLDERS --worlds none --max-reps 200``, the
    same replicates without today's additions. Today's check refuses some of those folders
    under role rules added since (a response rate the generator is fed must be a
    calibration target, a computed number must be judged or say why not), and refuses a
    folder it would run only in part; so today's side runs a copy of them after
    ``tacebench migrate --roles``, which changes roles only: which numbers are judged, not
    what is simulated or computed (the changes are listed in the JSON).
``study``
    the earlier commit's ``benchmarks/studies/default.toml``, ``tacebench study run FILE
    --n-jobs 2`` by both codes. Today's check refuses a method scored against another
    population's truth (the earlier file scored overlap weights against the ATE's), so
    today's side runs a copy in which such a method has an estimand of its own population
    (:func:`migrate_estimands`; the changes are listed in the JSON).

Both run cold: the earlier code's plan cache in the home directory is switched off
(``TACEBENCH_CACHE=0``) and today's opt-in disk cache is not set, so each run compiles its
plans. The earlier code is checked out into a temporary git worktree and installed
(editable, ``--no-deps``) into a temporary virtualenv that sees this interpreter's
packages. Rounds alternate before/after so that a change in the machine's load falls on
both; each run records its wall time, the CPU time of the command and all its worker
processes, and the load average before it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median

from tacebench.benchmarks.methods import estimate_population, validate_method
from tacebench.benchmarks.study import load_study
from tacebench.benchmarks.study_match import population_problem

#: (case, what the earlier code runs, what today's code runs); ``{studies}`` are the earlier
#: commit's study folders, ``{study_file}`` its default study, ``{out}`` a fresh folder.
CASES = (
    ("replicate", ("replicate",),
     ("replicate", "{studies}", "--worlds", "none", "--max-reps", "200")),
    ("study", ("study", "run", "{study_file}", "--n-jobs", "2", "--out", "{out}", "--no-progress"),
     ("study", "run", "{study_file}", "--n-jobs", "2", "--out", "{out}", "--no-progress")),
)


@dataclass(frozen=True)
class Run:
    """One timed command."""

    case: str
    side: str
    round: int
    wall: float
    cpu: float
    load_before: float
    returncode: int


def _sh(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(args, cwd=cwd, check=True, capture_output=True, text=True).stdout


def prepare_before(repo: Path, commit: str, work: Path) -> tuple[Path, Path, list[Path]]:
    """A worktree of ``commit`` installed into its own virtualenv: returns its ``tacebench``
    command, its default study file and its study folders."""
    tree = work / "before"
    _sh("git", "-C", str(repo), "worktree", "add", "--detach", str(tree), commit)
    venv = work / "venv"
    _sh(sys.executable, "-m", "venv", "--system-site-packages", str(venv))
    _sh(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "-e", str(tree))
    studies = sorted(p for p in (tree / "replications" / "studies").iterdir() if p.is_dir())
    return venv / "bin" / "tacebench", tree / "benchmarks" / "studies" / "default.toml", studies


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds (the command and its reaped worker processes) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    rc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, rc


def migrate_roles(after_cmd: Path, studies: list[Path], work: Path) -> tuple[list[Path], str]:
    """Copies of ``studies`` given today's roles by today's ``tacebench migrate --roles``,
    and what it printed.

    Raises
    ------
    RuntimeError
        When a folder is left with errors no role mends: today's code could not run the
        earlier work whole, and a time of part of it would compare nothing.
    """
    root = work / "after-studies"
    copies = []
    for s in studies:
        shutil.copytree(s, root / s.name)
        copies.append(root / s.name)
    done = subprocess.run([str(after_cmd), "migrate", "--roles", *map(str, copies)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("today's check refuses the earlier study folders beyond their "
                           f"roles:\n{done.stdout}{done.stderr}")
    return copies, done.stdout


def migrate_estimands(study_file: Path) -> tuple[Path, list[str]]:
    """A copy of the earlier study file (beside it, so that its relative paths hold) in
    which every method is scored against an estimand of the population it estimates, as
    today's check requires, and what changed.

    The earlier default study scored overlap weights (the ATO population's effect) against
    the ATE's truth; today's check refuses that (:mod:`benchmarks.study_match`). Such a
    method gets a copy of its estimand with its own population, ``<estimand>_<population>``:
    the same methods on the same replicates, plus that estimand's truth.

    Raises
    ------
    RuntimeError
        When today's check still refuses the copy: today's code could not run the earlier
        study, and a time of part of it would compare nothing.
    """
    text = study_file.read_text()
    raw = tomllib.loads(text)
    estimands = raw.get("estimands", {})
    lines, added, changes = text.splitlines(), {}, []
    for name, table in raw.get("methods", {}).items():
        if not isinstance(table, dict):
            continue
        family, ename = table.get("family"), table.get("estimand")
        if family is None or ename not in estimands:
            continue
        opts = {k: v for k, v in table.items() if k not in ("family", "estimand")}
        try:
            pop = estimate_population(family, validate_method(family, opts, where=name))
        except ValueError:      # left to today's check of the copy, which names it
            continue
        if not population_problem(pop, ename, estimands[ename]):
            continue
        new = f"{ename}_{pop.lower()}"
        if new not in estimands:    # (declared already: used as it is; the check below judges it)
            added[new] = {**estimands[ename], "population": pop}
        start = next(i for i, ln in enumerate(lines)
                     if ln.split("#")[0].strip() == f"[methods.{name}]")
        at = next(i for i in range(start + 1, len(lines))
                  if re.match(r"\s*estimand\s*=", lines[i]))
        lines[at] = f"estimand = {json.dumps(new)}"
        changes.append(f"[methods.{name}] estimand {ename} -> {new} (population {pop})")
    for new, table in added.items():
        lines += ["", f"[estimands.{new}]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    out = study_file.with_name(f"{study_file.stem}.migrated.toml")
    out.write_text("\n".join(lines) + "\n")
    try:
        load_study(out)
    except ValueError as exc:
        raise RuntimeError(f"today's check refuses the earlier study file beyond its "
                           f"estimands:\n{exc}") from None
    return out, changes


def run_rounds(before_cmd: Path, after_cmd: Path, study_file: Path, studies: list[Path],
               work: Path, rounds: int, cases: tuple[str, ...],
               after_study_file: Path | None = None) -> list[Run]:
    """``rounds`` alternating before/after runs of each case."""
    env = {k: v for k, v in os.environ.items() if k != "TACEBENCH_CACHE_DIR"}
    env.update(TACEBENCH_CACHE="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    runs = []
    for r in range(rounds):
        for case, before_args, after_args in CASES:
            if case not in cases:
                continue
            for side, cmd, args in (("before", before_cmd, before_args),
                                    ("after", after_cmd, after_args)):
                out = work / f"out-{case}-{side}-{r}"
                argv = [str(cmd)]
                for a in args:
                    if a == "{studies}":
                        argv += [str(s) for s in studies]
                    else:
                        own = after_study_file if side == "after" else None
                        argv.append(a.format(study_file=own or study_file, out=out))
                load = os.getloadavg()[0]
                wall, cpu, rc = timed(argv, env, work)
                shutil.rmtree(out, ignore_errors=True)
                runs.append(Run(case, side, r, wall, cpu, load, rc))
                print(f"{case:9s} {side:6s} round {r}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, "
                      f"load {load:.2f}, exit {rc}", file=sys.stderr)
    return runs


def report(data: dict) -> str:
    """Markdown: per case the median wall and CPU time of each side and their ratio. The
    rounds are counted per case from the runs (the runs of two invocations, one per case,
    may be given together): one count in the heading when the cases share it, else each
    row says its own."""
    sides = {case: {s: [r for r in data["runs"] if r["case"] == case and r["side"] == s]
                    for s in ("before", "after")} for case, _, _ in CASES}
    sides = {case: side for case, side in sides.items() if side["before"] and side["after"]}
    counts = {case: len({r["round"] for r in side["after"]}) for case, side in sides.items()}
    shared = len(set(counts.values())) == 1
    rounds = f"{next(iter(counts.values()))} alternating rounds" if shared else \
        "alternating rounds"
    lines = [f"Today's code against commit `{data['before']}` on that commit's inputs, "
             f"{rounds} (medians; load average before each run "
             f"{min(r['load_before'] for r in data['runs']):.1f}-"
             f"{max(r['load_before'] for r in data['runs']):.1f}):", "",
             "| command | before: wall / CPU | after: wall / CPU | after / before (wall) |",
             "|---|---|---|---|"]
    for case, side in sides.items():
        label = case if shared else f"{case} ({counts[case]} rounds)"
        if any(r["returncode"] not in (0, 1) for r in side["before"] + side["after"]):
            lines.append(f"| {label} | a run failed: see the JSON | | |")
            continue
        w = {s: median(r["wall"] for r in side[s]) for s in side}
        c = {s: median(r["cpu"] for r in side[s]) for s in side}
        lines.append(f"| {label} | {w['before']:.1f} s / {c['before']:.1f} s | "
                     f"{w['after']:.1f} s / {c['after']:.1f} s | {w['after'] / w['before']:.2f}x |")
    moved = [int(m.group(1)) for ln in data.get("migrated", [])
             if (m := re.match(r"\s*role \S+ -> \S+: (\d+) (?:target|Table 1 column)", ln))]
    if moved:
        lines += ["", "Today's side ran the earlier folders after `tacebench migrate --roles` "
                  f"({sum(moved)} targets or Table 1 columns given the roles today's check "
                  "states; roles only, so the same simulations and analyses)."]
    if data.get("estimands_migrated"):
        lines += ["", "Today's side ran the earlier study file with each method scored against "
                  "an estimand of the population it estimates, as today's check requires ("
                  + "; ".join(data["estimands_migrated"]) + "): the same methods and "
                  "replicates, and that estimand's truth computed too."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tacebench.benchmarks.speed.versus",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("commit", nargs="?", help="the earlier commit (any git revision)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    p.add_argument("--case", action="append", choices=[c[0] for c in CASES],
                   help="only these cases (repeatable; default all)")
    p.add_argument("-o", "--output", type=Path, help="write the runs as JSON here")
    p.add_argument("--report", type=Path, metavar="JSON", help="print the table of a JSON file")
    a = p.parse_args(argv)
    if a.report is not None:
        print(report(json.loads(a.report.read_text())))
        return 0
    if a.commit is None or a.rounds < 1:
        p.error("give a commit and --rounds >= 1 (or --report JSON)")
    repo = Path(__file__).resolve().parents[2]
    after_cmd = Path(sys.executable).with_name("tacebench")
    if not after_cmd.exists():
        p.error(f"no tacebench command beside {sys.executable}: install this checkout first")
    with tempfile.TemporaryDirectory(prefix="tacebench-versus-") as tmp:
        work = Path(tmp)
        try:
            before_cmd, study_file, studies = prepare_before(repo, a.commit, work)
            cases = tuple(a.case or [c[0] for c in CASES])
            migrated, estimands, after_study = "", [], None
            if "replicate" in cases:
                studies, migrated = migrate_roles(after_cmd, studies, work)
            if "study" in cases:
                after_study, estimands = migrate_estimands(study_file)
            runs = run_rounds(before_cmd, after_cmd, study_file, studies, work, a.rounds,
                              cases, after_study)
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force",
                            str(work / "before")], capture_output=True)
    data = {"before": _sh("git", "-C", str(repo), "rev-parse", "--short", a.commit).strip(),
            "after": _sh("git", "-C", str(repo), "rev-parse", "--short", "HEAD").strip(),
            "rounds": a.rounds, "runs": [asdict(r) for r in runs],
            "migrated": migrated.splitlines(), "estimands_migrated": estimands}
    if a.output is not None:
        a.output.write_text(json.dumps(data, indent=1))
    print(report(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
