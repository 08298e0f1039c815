"""Memory under load: peak resident memory of a study run and of its summary, by size.

``python -m tacebench.benchmarks.load STUDY.toml --total 1000 10000 100000`` runs the study
with ``total / scenarios`` replicates per scenario in a fresh process, then summarizes the
run directory in another, and samples the resident set size (RSS) of each process and of
its worker processes every 0.05 s. It prints one Markdown row per size: the run's
peak RSS of the main process and of main + workers, its time, the summary's peak RSS and
time, and the size of the chunks on disk. Flat memory means the run's peak does not grow
with the number of replicates: results stream to disk chunk by chunk.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_RUN = """
import sys
from tacebench.benchmarks.runner import run_study
from tacebench.benchmarks.study import load_study
study = load_study(sys.argv[1])
backend = sys.argv[5] if len(sys.argv) > 5 else None
report = run_study(study, sys.argv[2], reps=int(sys.argv[3]), n_jobs=int(sys.argv[4]),
                   backend=backend, progress=False)
print(report.elapsed)
"""
_SUMMARIZE = """
import sys
from tacebench.benchmarks.report import summarize_run
summarize_run(sys.argv[1])
"""


@dataclass(frozen=True)
class Peak:
    """Peak resident memory (MB) of a process and of it with its children; seconds."""

    main_mb: float
    tree_mb: float
    seconds: float
    output: str = ""


def peak_memory(cmd: list[str], interval: float = 0.05) -> Peak:
    """Run ``cmd`` to completion, sampling the RSS of it and its descendants."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    main = tree = 0
    while proc.poll() is None:  # output is a line or two: the pipe cannot fill
        try:
            own = ps.memory_info().rss
            kids = sum(k.memory_info().rss for k in ps.children(recursive=True))
        except psutil.Error:  # a worker that ended between listing and reading
            continue
        main, tree = max(main, own), max(tree, own + kids)
        time.sleep(interval)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}... failed: {proc.stderr.read().decode()[-2000:]}")
    return Peak(main / 2**20, tree / 2**20, time.perf_counter() - t0,
                proc.stdout.read().decode().strip())


def measure(study_path: Path, total: int, n_jobs: int, workdir: Path) -> dict:
    """One size: run then summarize ``total`` replicates of the study in ``workdir``."""
    from tacebench.benchmarks.study import load_study

    scenarios = len(load_study(study_path).scenarios)
    reps = max(1, total // scenarios)
    out = workdir / f"run{total}"
    run = peak_memory([sys.executable, "-c", _RUN, str(study_path), str(out), str(reps),
                       str(n_jobs)])
    summary = peak_memory([sys.executable, "-c", _SUMMARIZE, str(out)])
    chunks = list((out / "chunks").iterdir())
    return {"replicates": reps * scenarios, "chunks": len(chunks),
            "chunks_mb": sum(p.stat().st_size for p in chunks) / 2**20, "run": run,
            "summary": summary}


def throughput(study_path: Path, reps: int, runs: list[tuple[str, int]], workdir: Path):
    """Replicates per second of each ``(backend, n_jobs)``: the run's own time (chunks
    computed and written) and the wall time of the whole process (start-up, worker and
    cluster start, truths included)."""
    from tacebench.benchmarks.study import load_study

    total = reps * len(load_study(study_path).scenarios)
    for backend, n_jobs in runs:
        out = workdir / f"{backend}{n_jobs}"
        extra = [] if backend == "inline" else [backend]
        peak = peak_memory([sys.executable, "-c", _RUN, str(study_path), str(out), str(reps),
                            str(n_jobs), *extra])
        yield backend, n_jobs, total / float(peak.output), total / peak.seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study", type=Path)
    parser.add_argument("--total", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--throughput", type=int, metavar="REPS",
                        help="instead: replicates/s of inline, loky and a local Dask cluster "
                             "(processes) with REPS replicates per scenario")
    args = parser.parse_args(argv)
    if args.throughput:
        print("| backend | workers | replicates/s (run) | replicates/s (whole process) |")
        print("|---|---|---|---|")
        runs = [("inline", 1), ("loky", args.n_jobs), ("dask", args.n_jobs)]
        with tempfile.TemporaryDirectory() as tmp:
            for backend, n, rate, wall in throughput(args.study, args.throughput, runs,
                                                     Path(tmp)):
                print(f"| {backend} | {n} | {rate:.0f} | {wall:.0f} |", flush=True)
        return 0
    print("| replicates | chunks (MB on disk) | run: main peak MB | run: main + workers peak MB "
          "| run s | summarize: peak MB | summarize s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for total in args.total:
            m = measure(args.study, total, args.n_jobs, Path(tmp))
            r, s = m["run"], m["summary"]
            print(f"| {m['replicates']:,} | {m['chunks']} ({m['chunks_mb']:.1f}) | "
                  f"{r.main_mb:.0f} | {r.tree_mb:.0f} | {r.seconds:.0f} | {s.main_mb:.0f} | "
                  f"{s.seconds:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
