"""The closed loop's paper writer: folders pass `check`, numbers round as printed, every
quote is in the paper, and the printed numbers are the statistics the replicates compute."""
from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest
from hypothesis import given, strategies as st

from tacebench.benchmarks.closed_loop.loop import make_paper
from tacebench.benchmarks.closed_loop.paper import half_up
from tacebench.benchmarks.closed_loop.slips import slips_of
from tacebench.benchmarks.closed_loop.summary import cluster_share
from tacebench.benchmarks.closed_loop.world import KINDS
from tacebench.benchmarks.closed_loop.writer import with_value, write_study
from tacebench.cli.closed_loop import judge_folder
from tacebench.engine import stream_seed
from tacebench.replications.check import check_folder, load_study
from tacebench.replications.quotes import QUOTED_FILES, quote_problems, sources
from tacebench.replications.reproduce import reproduce
from tacebench.simulate import compile_plan, generate_cohort, spec_from_dict


def _paper(kind: str, r: int = 0):
    seeds = stream_seed(7, "closed_loop", kind, r).spawn(3)
    world, paper = make_paper(kind, seeds)
    assert not paper.skipped
    return world, paper, seeds


@pytest.fixture(scope="module", params=KINDS)
def written(request, tmp_path_factory):
    world, paper, seeds = _paper(request.param)
    folder = write_study(paper, tmp_path_factory.mktemp(request.param) / "p", "cl_test_paper")
    return world, paper, seeds, folder


def test_generated_folder_passes_check(written):
    report = check_folder(written[3])
    assert report.ok, [str(p) for p in report.errors]
    assert not report.warnings, [str(p) for p in report.warnings]


def test_every_quote_is_in_the_paper(written):
    folder = written[3]
    quoted = [q for name in QUOTED_FILES for _, q in sources(
        tomllib.loads((folder / name).read_text(encoding="utf-8")))]
    assert len(quoted) > 30
    missing = [str(p) for p in quote_problems(folder, folder / "paper.txt")]
    assert missing == []


def test_printed_numbers_round_their_statistics(written):
    _, paper, _, _ = written
    for n in paper.numbers:
        exact = 100 * n.exact if n.percent else n.exact
        assert n.value == half_up(exact, n.digits), n.id
        assert abs(n.value - exact) <= 0.5 * 10 ** -n.digits + 1e-9, n.id
        assert n.text() == f"{n.value:.{n.digits}f}"
    for row in paper.table1:
        for a, b in row.cells:
            assert round(b, 1) == b


@given(st.floats(-1e4, 1e4, allow_nan=False), st.integers(0, 3))
def test_half_up_rounds_half_away_from_zero(x, d):
    y = half_up(x, d)
    assert abs(y - x) <= 0.5 * 10 ** -d + 1e-9 * max(1, abs(x))
    assert half_up(0.125, 2) == 0.13 and half_up(-2.5, 0) == -3.0


def test_printed_numbers_are_the_replicates_statistics(written):
    """Analysed by the replication's own analysis (a generator returning the paper's
    cohort), every draw equals the paper's unrounded statistic: the paper's analysis and
    the replicate's are the same computation."""
    world, paper, seeds, folder = written
    plan = compile_plan(spec_from_dict(world.spec), "main", cache=None)
    cohort = generate_cohort(plan, seed=seeds[1], with_ps=False)

    def same_cohort(name, seed):
        return cohort.columns, dict(cohort.levels)

    res = reproduce(load_study(folder), reps=2, seed=1, generator=same_cohort, decompose_reps=0)
    col = {i: k for k, i in enumerate(res.draw_ids)}
    for n in paper.numbers:
        draws = res.draws[:, col[n.id]]
        assert np.allclose(draws, n.exact, rtol=1e-7, atol=1e-9), (n.id, draws, n.exact)


def test_a_slip_judged_on_the_draws_is_the_slipped_folder_replicated(tmp_path):
    """The closed loop judges a slip on the clean paper's draws; replicating the folder of
    the slipped paper gives the same verdict and z (its cohort.toml is unchanged)."""
    _, paper, _ = _paper("ph", 1)
    slip = next(s for s in slips_of(paper) if s.name == "move-0.3")
    clean = write_study(paper, tmp_path / "clean", "cl_slip_paper")
    rows = judge_folder(clean, 30, 5, [slip])
    got = next(r for r in rows if r["slip"] == slip.name and r["id"] == slip.target)
    slipped = write_study(with_value(paper, slip.target, slip.value), tmp_path / "slipped",
                          "cl_slip_paper")
    assert check_folder(slipped).ok
    res = reproduce(load_study(slipped), reps=30, seed=5, decompose_reps=0, max_reps=30)
    # the same verdict, "undetermined" included: slips are settled as replicate settles
    t = next(t for t in res.targets if t.id == slip.target)
    assert t.z == pytest.approx(got["z"]) and t.verdict == got["verdict"]
    s = next(s for s in res.shifts if s.id == slip.shift)
    gs = next(r for r in rows if r["slip"] == slip.name and r["id"] == slip.shift)
    assert s.reported == pytest.approx(slip.shift_value, abs=1e-12)
    assert s.z == pytest.approx(gs["z"]) and s.verdict == gs["verdict"]


def test_a_slip_at_the_boundary_is_undetermined_as_a_clean_number_is(tmp_path):
    """Slips and control numbers were judged by position alone while the clean numbers
    were settled ('undetermined' within 2 MC SE of a bound): a slip on the boundary was
    'not reproduced' where a clean number there is undetermined."""
    import dataclasses

    _, paper, _ = _paper("ph", 1)
    slip = next(s for s in slips_of(paper) if s.name == "move-0.3")
    clean = write_study(paper, tmp_path / "clean", "cl_slip_paper")
    res = reproduce(load_study(clean), reps=30, seed=5, decompose_reps=0, max_reps=30)
    draws = res.draws[:, list(res.draw_ids).index(slip.target)]
    edge = float(np.exp(np.nanquantile(np.log(draws), 0.02)))
    rows = judge_folder(clean, 30, 5, [dataclasses.replace(slip, value=edge)])
    got = next(r for r in rows if r["slip"] == slip.name and r["id"] == slip.target)
    assert got["verdict"] == "undetermined", got


def test_cluster_share_is_binomial_with_one_number_per_paper():
    x = np.array([1, 0, 0, 1, 0, 0, 0, 0])
    s = cluster_share(np.arange(8), x)
    p = 2 / 8
    assert s.share == p and s.mcse == pytest.approx(math.sqrt(p * (1 - p) / 7))
    # two identical numbers per paper: the same share, and no more information
    s2 = cluster_share(np.repeat(np.arange(8), 2), np.repeat(x, 2))
    assert s2.share == p and s2.mcse == pytest.approx(s.mcse)


def test_the_control_judges_another_cohorts_printed_numbers(written):
    from tacebench.benchmarks.closed_loop.slips import INDEPENDENT, independent_of

    _, paper, _, _ = written
    same = independent_of(paper, paper)
    assert {s.target for s in same} == {n.id for n in paper.numbers}
    for s in same:
        n = paper.number(s.target)
        assert s.name == INDEPENDENT and s.value == s.clean
        assert s.value == (n.value / 100 if n.percent else n.value)
