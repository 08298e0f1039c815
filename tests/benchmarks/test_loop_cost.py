"""benchmarks.speed.loop_cost: the replicate loop's CPU, attributed per family."""
from __future__ import annotations

from tacebench.benchmarks import batch_chunk, runner
from tacebench.benchmarks.speed.loop_cost import loop_cost, main
from tacebench.benchmarks.study import study_from_raw

from .test_batch_chunk import COHORT_RAW, RAW


def test_parts_cover_the_families_and_fit_inside_the_total():
    before = (runner.get_fit, batch_chunk.get_fit_batch, runner.prepared)
    cost = loop_cost(study_from_raw(RAW), reps=6, chunk=4)
    assert (runner.get_fit, batch_chunk.get_fit_batch, runner.prepared) == before  # restored
    parts = cost.parts
    assert {("weighting", "fit_batch"), ("cox", "fit"), ("matching", "fit"),
            ("cohorts", "generate")} <= set(parts)
    # 2 scenarios x 6 replicates, chunks of 4 and 2: one call per replicate (toy generator)
    assert parts[("cohorts", "generate")][1] == 12
    assert sum(sec for sec, _ in parts.values()) <= cost.total


def test_stacked_generation_is_one_call_per_chunk(capsys):
    cost = loop_cost(study_from_raw(COHORT_RAW), reps=5, chunk=3)
    assert cost.parts[("cohorts", "generate")][1] == 2


def test_cli_prints_the_total_and_the_load(tmp_path, capsys):
    path = tmp_path / "dose.toml"
    path.write_text("""
[study]
name = "dose"
title = "loop cost"
seed = 5
reps = 4
[estimands.conditional]
kind = "conditional_log_hr"
[methods.crude]
family = "cox"
estimand = "conditional"
[[dgm]]
name = "dose"
base = "tace_regorafenib"
[dgm.fixed]
n = 40
""")
    assert main([str(path), "--reps", "3", "--chunk", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("loop CPU") and "load average" in out
    assert any(line.split()[:2] == ["cox", "fit_batch"] for line in out.splitlines())
