"""Fixtures of the runner's tests: the toy study and its one-process reference run."""
from __future__ import annotations

from pathlib import Path

import pytest

from tacebench.benchmarks.runner import load_results, run_study
from tacebench.benchmarks.study import load_study

TOY = Path(__file__).with_name("data") / "toy.toml"


@pytest.fixture(scope="session")
def study():
    return load_study(TOY)


@pytest.fixture(scope="session")
def reference(study, tmp_path_factory):
    """All replicates of the toy study, run inline in one chunk per scenario."""
    out = tmp_path_factory.mktemp("ref")
    run_study(study, out, n_jobs=1, chunk_size=40, progress=False)
    return load_results(out)[0]


def first_reps(results, reps: int):
    """The rows of the first ``reps`` replicates, as a shorter run returns them."""
    return results[results["rep"] < reps].reset_index(drop=True)
