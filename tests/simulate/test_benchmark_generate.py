"""Speed of one 423-patient cohort with all outcomes (seed 000), via pytest-benchmark."""
from __future__ import annotations

import pytest

import simulate
from simulate.io import studies_root


@pytest.fixture(scope="module")
def plan_000():
    root = studies_root()
    if root is None or not (root / "tace_sorafenib_ehs" / "cohort.toml").is_file():
        pytest.skip("seed 000 spec not present")
    return simulate.compile_plan("tace_sorafenib_ehs")


def test_generate_423_with_true_ps(benchmark, plan_000):
    c = benchmark(lambda: simulate.generate_cohort(plan_000, seed=1))
    assert c.n == 423


def test_generate_423_without_ps(benchmark, plan_000):
    c = benchmark(lambda: simulate.generate_cohort(plan_000, seed=1, with_ps=False))
    assert c.n == 423
