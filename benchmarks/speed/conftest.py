"""pytest configuration of the speed suite: collects ``bench_*.py``, records the machine.

Run from the repository root (the one documented command)::

    python -m pytest benchmarks/speed --benchmark-only --benchmark-json=speed.json

BLAS runs single-threaded: OpenBLAS threads spin on a machine whose cores are busy, which
turned a 3,000 x 20 product into a 100 ms stall in the first runs. numpy is already
loaded when this file is read (by pytest plugins), so the thread count is set through
OpenBLAS's own API; the environment variables cover the worker processes of the n_jobs
benchmark (loky also limits them).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"


def pytest_collect_file(file_path, parent):
    # pyproject's python_files is pytest's default (test_*.py); the suite's files are
    # bench_*.py so that the default run never collects them. pytest itself collects a
    # file named on the command line, and any file -o python_files=bench_*.py matches.
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        if parent.session.isinitpath(file_path):
            return None
        if "bench_*.py" in (parent.config.getini("python_files") or []):
            return None
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("tacebench", "numpy", "scipy", "pandas", "lifelines", "statsmodels", "joblib",
                "pytest-benchmark"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def _limit_blas_threads() -> dict[str, int]:
    # the engine's own setting (tacebench.engine.blas): one thread, read back per library
    from tacebench.engine import blas_threads, set_blas_threads

    set_blas_threads(1)
    return blas_threads()


_BLAS_THREADS = _limit_blas_threads()
_LOAD_START = list(os.getloadavg())


def _tune_allocator() -> str:
    # as the tacebench command and the study runner's workers do (estimators/batch/allocator.py);
    # TACEBENCH_MALLOC_TUNE=0 measures glibc's defaults
    from tacebench.estimators.batch import allocator_state, tune_allocator

    tune_allocator()
    return allocator_state()


_ALLOCATOR = _tune_allocator()


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["tacebench"] = {
        "versions": _versions(),
        "commit": _git_commit(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average_start": _LOAD_START,
        "blas_threads": _BLAS_THREADS or os.environ.get("OPENBLAS_NUM_THREADS"),
        "allocator": _ALLOCATOR,
    }


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["machine_info"].setdefault("tacebench", {})["load_average_end"] = list(
        os.getloadavg())


@pytest.fixture(scope="session")
def plan423():
    from tacebench.benchmarks.speed import pipelines

    return pipelines.plan()


@pytest.fixture(scope="session")
def cohort423(plan423):
    """One seed-000 replicate's columns (seed 1), shared by the kernel benchmarks."""
    from tacebench.benchmarks.speed import pipelines

    return pipelines.cohort(plan423, 1)


@pytest.fixture(scope="session")
def cox_case():
    """``(data, expected)`` of the R fixture ``reference/cox_423`` (R coxph, robust)."""
    import pandas as pd

    folder = REFERENCE / "cox_423"
    data = pd.read_csv(folder / "data.csv", float_precision="round_trip")
    return data, json.loads((folder / "expected.json").read_text())
