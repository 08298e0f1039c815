"""A timeline of one ``tacebench`` command: what each process does when, and how busy the
cores are.

    python -m tacebench.benchmarks.speed.timeline -o tl/ -- replicate STUDIES --n-jobs 2

runs the command (from the current folder, ``TACEBENCH_CACHE=0``, one BLAS thread) with a
tracer loaded into every Python process it starts, the loky workers included (a
``sitecustomize`` module on ``PYTHONPATH``), then prints

* each process's spans: the main process's parser build, each study's set-up (audit,
  cohort compilation, calibration checks) on the thread that ran it, each run of the engine
  and the report's rendering; each worker's start-up imports and every chunk it ran;
* the cores in use per time bin (CPU seconds of the main process and of the workers,
  sampled every 50 ms from each process's own CPU clock), and the core-seconds left idle.

Tracing costs little (one line per span, a sampling thread); the numbers the command
prints are its own. The spans are the functions in :data:`SPANS`; the raw events stay in
the output folder (one file per process) for a second look.
"""
from __future__ import annotations

import argparse
import glob
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

#: module -> functions traced as spans
SPANS = {
    "tacebench.cli": ["build_parser"],
    "tacebench.api": ["set_up", "replicate"],
    "tacebench.replications.audit": ["audit_study"],
    "tacebench.replications.reproduce": ["prepare_run"],
    "tacebench.replications.build": ["simulate_generator"],
    "tacebench.simulate.calibration_quality": ["calibration_checks"],
    "tacebench.engine.warm": ["_import"],
    "tacebench.engine.run": ["_in_worker", "run_design"],
    "tacebench.replications.summaries": ["summarise"],
    "tacebench.replications.report": ["render"],
}

#: the tracer, loaded by every Python process of the command (TB_TRACE_DIR: its folder)
_SITE = r'''
import os, sys, time, threading, functools, importlib.abc
_DIR = os.environ.get("TB_TRACE_DIR")
if _DIR:
    _f = open(os.path.join(_DIR, f"{os.getpid()}.txt"), "a", buffering=1)
    _lock = threading.Lock()
    def _log(kind, name, label=""):
        with _lock:
            _f.write(f"{time.time():.4f}\t{time.process_time():.4f}\t"
                     f"{threading.current_thread().name}\t{kind}\t{name}\t{label}\n")
    _log("I", "start", " ".join(sys.argv)[:200])
    def _sample():
        while True:
            time.sleep(0.05)
            _log("S", "cpu")
    threading.Thread(target=_sample, daemon=True, name="sampler").start()
    def _label(name, a):
        try:
            if name == "_in_worker":
                return f"{a[1].name}[{a[2].start},{a[2].stop})"
            x = a[0] if a else ""
            return str(getattr(x, "id", getattr(getattr(x, "study", None), "id", "")) or "")
        except Exception:
            return ""
    def _wrap(fn, name):
        @functools.wraps(fn)
        def w(*a, **k):
            lab = _label(name, a)
            _log("B", name, lab)
            try:
                return fn(*a, **k)
            finally:
                _log("E", name, lab)
        return w
    SPANS = %r
    class _Loader(importlib.abc.Loader):
        def __init__(self, inner, names):
            self.inner, self.names = inner, names
        def create_module(self, spec):
            return self.inner.create_module(spec)
        def exec_module(self, module):
            self.inner.exec_module(module)
            for n in self.names:
                if hasattr(module, n):
                    setattr(module, n, _wrap(getattr(module, n), n))
    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target=None):
            if fullname not in SPANS:
                return None
            for f in sys.meta_path:
                if f is not self and hasattr(f, "find_spec"):
                    spec = f.find_spec(fullname, path, target)
                    if spec is not None:
                        spec.loader = _Loader(spec.loader, SPANS[fullname])
                        return spec
            return None
    sys.meta_path.insert(0, _Finder())
'''


def read_events(folder: str | Path) -> dict[int, list[tuple]]:
    """pid -> its events ``(wall, cpu, thread, kind, name, label)`` from a traced run."""
    procs = {}
    for fn in glob.glob(os.path.join(folder, "[0-9]*.txt")):
        rows = []
        with open(fn, encoding="utf-8") as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) == 6:
                    rows.append((float(p[0]), float(p[1]), p[2], p[3], p[4], p[5]))
        if rows:
            procs[int(Path(fn).stem)] = rows
    return procs


def spans(rows: list[tuple], t0: float) -> list[tuple]:
    """``(start, end, thread, name, label)`` of one process's spans, seconds after ``t0``."""
    open_, out = {}, []
    for w, _c, th, kind, name, lab in rows:
        if kind == "B":
            open_[(th, name, lab)] = w
        elif kind == "E" and (th, name, lab) in open_:
            out.append((open_.pop((th, name, lab)) - t0, w - t0, th, name, lab))
    return sorted(out)


def busy(procs: dict[int, list[tuple]], main: int, t0: float, width: float
         ) -> list[tuple[float, float]]:
    """Cores in use per bin of ``width`` seconds: ``(main, workers)``, from the CPU clock
    samples (each interval's CPU spread evenly over its wall time)."""
    end = max(r[-1][0] for r in procs.values())
    n = max(1, math.ceil((end - t0) / width - 1e-9))
    use = {"main": [0.0] * n, "workers": [0.0] * n}
    for pid, rows in procs.items():
        lane = use["main" if pid == main else "workers"]
        for (w0, c0, *_), (w1, c1, *_) in zip(rows, rows[1:]):
            if w1 <= w0:
                continue
            rate, a = (c1 - c0) / (w1 - w0), w0
            while a < w1:
                i = int((a - t0) / width)
                b = min(w1, t0 + (i + 1) * width)
                lane[min(i, n - 1)] += rate * (b - a)
                a = b if b > a else w1
    return [(m / width, w / width) for m, w in zip(use["main"], use["workers"])]


def summary(folder: str | Path, width: float = 0.5) -> str:
    """The timeline of a traced run as text."""
    procs = read_events(folder)
    main = min(procs, key=lambda pid: (procs[pid][0][0], pid))  # the first to start
    t0 = procs[main][0][0]
    end = max(r[-1][0] for r in procs.values())
    lines = [f"{end - t0:.2f} s from the command's start to its last process's end; "
             f"{len(procs)} processes"]
    for pid in sorted(procs, key=lambda p: procs[p][0][0]):
        rows = procs[pid]
        name = "main" if pid == main else f"process {pid}"
        lines.append(f"\n{name}: +{rows[0][0] - t0:.2f} to +{rows[-1][0] - t0:.2f} s, "
                     f"{rows[-1][1]:.2f} s CPU ({rows[0][5][:70]})")
        lines += [f"  {a:7.2f} {b:7.2f} ({b - a:5.2f} s) [{th[:16]}] {nm} {lab}"
                  for a, b, th, nm, lab in spans(rows, t0)]
    lines.append(f"\ncores in use per {width} s (main + workers = total):")
    idle = 0.0
    for i, (m, w) in enumerate(busy(procs, main, t0, width)):
        idle += max(0.0, 2 - m - w) * width
        lines.append(f"  {i * width:6.1f}  {m:4.2f} + {w:4.2f} = {m + w:4.2f} "
                     + "#" * round(10 * (m + w)))
    lines.append(f"idle core-seconds of 2 cores: {idle:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--out", type=Path, default=None, metavar="DIR",
                   help="folder for the raw events (default: a temporary one)")
    p.add_argument("--bin", type=float, default=0.5, help="seconds per bin of the core use")
    p.add_argument("--python", default=sys.executable,
                   help="the interpreter whose tacebench runs (default: this one)")
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="the tacebench command line after '--'")
    args = p.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        p.error("give the tacebench command line after --")
    out = args.out or Path(tempfile.mkdtemp(prefix="tacebench-timeline-"))
    out.mkdir(parents=True, exist_ok=True)
    site = out / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITE % (SPANS,), encoding="utf-8")
    env = {**os.environ, "TB_TRACE_DIR": str(out), "TACEBENCH_CACHE": "0",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(site),
                                                        os.environ.get("PYTHONPATH")]))}
    load, t = os.getloadavg()[0], time.perf_counter()
    before = os.times()
    done = subprocess.run([args.python, "-m", "tacebench", *cmd], env=env,
                          stdout=subprocess.DEVNULL)
    after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    print(f"exit {done.returncode}; {time.perf_counter() - t:.2f} s wall, {cpu:.2f} s CPU of "
          f"the command and its workers; load average before {load:.2f}")
    print(summary(out, args.bin))
    return done.returncode


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
