"""generate_cohort_batch: every replicate is bit for bit its own generate_cohort."""
from __future__ import annotations

import tomllib

import numpy as np
import pytest

from tacebench import simulate
import tacebench.simulate.covariates  # noqa: F401  (monkeypatched below)
from tacebench.simulate import CohortBatch, generate_cohort, generate_cohort_batch
from tacebench.simulate.streams import LockstepDraws

from .conftest import SEED_IDS
from .test_multiselect import _raw as _multiselect_raw

SEEDS = (0, 1, 20240611, np.random.SeedSequence(7))


def _seed_cohorts() -> list[tuple[str, str]]:
    return [(sid, name) for sid in SEED_IDS for name in simulate.load_spec(sid).cohorts]


def _fixture_variant(path, kind: str):
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    c = raw["cohorts"]["main"]
    if kind == "logistic":  # rejection-sampled covariates: the per-replicate route
        c["assignment"] = "logistic"
        c["correlation"]["pairs"].append(["pvtt", "child_pugh", 0.3])
    else:  # a therapy effect (exact time-varying inversion) and a share never starting it
        c["time_varying"]["hr_per_month"] = 0.95
        c["time_varying"]["start"]["p_zero"] = 0.2
    return simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)


def assert_identical(plan, seeds, with_ps: bool) -> CohortBatch:
    batch = generate_cohort_batch(plan, seeds, with_ps=with_ps)
    assert batch.n_replicates == len(batch) == len(seeds)
    for r, seed in enumerate(seeds):
        one = generate_cohort(plan, seed=seed, with_ps=with_ps)
        got = batch.cohort(r)
        assert list(got.columns) == list(one.columns)
        for k, v in one.columns.items():
            assert batch.columns[k].shape == (len(seeds), one.n), k
            assert got.columns[k].dtype == v.dtype, k
            assert np.array_equal(got.columns[k], v, equal_nan=True), (plan.study_id, plan.cohort_name, r, k)
        assert got.levels == one.levels and got.arm_labels == one.arm_labels
        assert (got.study_id, got.cohort_name) == (one.study_id, one.cohort_name)
    return batch


@pytest.mark.parametrize("with_ps", [False, True])
@pytest.mark.parametrize("study,cohort", _seed_cohorts())
def test_seed_studies_bit_identical(study, cohort, with_ps):
    plan = simulate.compile_plan(study, cohort)
    batch = assert_identical(plan, SEEDS, with_ps)
    assert batch.n == int(plan.covariates.arm_n.sum())
    if with_ps and plan.covariates.density is not None:
        assert np.all(np.isfinite(batch.columns["true_ps"]))


@pytest.mark.parametrize("with_ps", [False, True])
def test_fixture_spec_bit_identical(small_plan, with_ps):
    """Every part of the format: PFS, response, missingness, therapy, derived, counts."""
    assert_identical(small_plan, SEEDS, with_ps)


def test_single_replicate_bit_identical(small_plan):
    """One seed takes the plain-generator route; still a (1, n) batch."""
    assert_identical(small_plan, [9], with_ps=True)
    assert_identical(simulate.compile_plan("tace_sorafenib_ehs"), [np.random.SeedSequence(3)], with_ps=False)


@pytest.mark.parametrize("kind", ["logistic", "tv"])
def test_fixture_variants_bit_identical(small_spec_path, kind):
    plan = _fixture_variant(small_spec_path, kind)
    if kind == "tv":
        assert plan.outcomes.tv.b != 0.0
    assert_identical(plan, SEEDS[:3], with_ps=True)


def test_multiselect_missing_option_bit_identical():
    """A missing option hides its pattern: the one path the five studies do not take."""
    extra = {"missing": {"lung": {"rate": 0.2}},
             "outcomes": {"os": {"knots": [0, 6], "treatment_hr": 0.8, "baseline_hazard": [0.1, 0.1],
                                 "effects": [{"variable": "bone", "hr": 1.5}]}}}
    plan = simulate.compile_plan(simulate.spec_from_dict(_multiselect_raw(extra=extra)), cache=None)
    batch = assert_identical(plan, SEEDS, with_ps=True)
    assert np.isnan(batch.columns["sites"]).any()
    hidden = simulate.spec_from_dict(_multiselect_raw(extra={"missing": {"sites": {"rate": 0.2}}}))
    batch = assert_identical(simulate.compile_plan(hidden, cache=None), SEEDS, with_ps=True)
    assert np.array_equal(np.isnan(batch.columns["lung"]), np.isnan(batch.columns["sites"]))


@pytest.mark.parametrize("with_ps", [False, True])
def test_blocked_kernels_bit_identical(monkeypatch, with_ps):
    """Tiny blocks force the blocked paths (latents, interpolation) that large R takes."""
    monkeypatch.setattr(simulate.covariates, "BLOCK", 1000)
    assert_identical(simulate.compile_plan("tace_sorafenib_ehs"), SEEDS, with_ps)


def test_generators_advance_as_generate_cohort(small_plan):
    mine = [np.random.default_rng(s) for s in (3, 4)]
    theirs = [np.random.default_rng(s) for s in (3, 4)]
    generate_cohort_batch(small_plan, mine)
    for g in theirs:
        generate_cohort(small_plan, seed=g, with_ps=False)
    assert [g.bit_generator.state for g in mine] == [g.bit_generator.state for g in theirs]


def test_lockstep_draws_are_each_generators_draws():
    draws = LockstepDraws([np.random.default_rng(s) for s in (1, 2)])
    ref = [np.random.default_rng(s) for s in (1, 2)]
    got = [draws.standard_normal((3, 2)), draws.random(4), draws.exponential(2.0, 5), draws.gamma(1.5, 2.0, 3)]
    want = [[g.standard_normal((3, 2)) for g in ref], [g.random(4) for g in ref],
            [g.exponential(2.0, 5) for g in ref], [g.gamma(1.5, 2.0, 3) for g in ref]]
    for a, b in zip(got, want):
        assert np.array_equal(a, np.stack(b))


def test_batch_view_and_frame(small_plan):
    batch = generate_cohort_batch(small_plan, range(3), with_ps=False)
    assert batch.n == 250 and batch.arm_labels == ("Control", "Combo")
    assert np.all(np.isnan(batch.columns["true_ps"]))
    assert batch.cohort(-1).columns["os_time"] is not None
    assert np.shares_memory(batch.cohort(1).columns["os_time"], batch.columns["os_time"])
    df = batch.to_frame()
    assert len(df) == 750 and df.columns[0] == "replicate"
    assert df["replicate"].tolist() == [0] * 250 + [1] * 250 + [2] * 250
    assert list(df["arm"].cat.categories) == ["Control", "Combo"]
    one = generate_cohort(small_plan, seed=2, with_ps=False).to_frame()
    part = df[df["replicate"] == 2].drop(columns="replicate").reset_index(drop=True)
    assert part.equals(one)


@pytest.mark.parametrize("seeds,match", [
    ([], "seeds: must be a non-empty"),
    (5, "seeds: must be a non-empty sequence"),
    ("12", "seeds: must be a non-empty sequence"),
    (None, "seeds: must be a non-empty sequence"),
    ([1, -2], r"seeds\[1\]: must be >= 0, got -2"),
    ([1, None], r"seeds\[1\]: an explicit seed"),
    ([1.5], r"seeds\[0\]: must be an int"),
    ([True], r"seeds\[0\]: must be an int"),
    (np.zeros((2, 2), int), "seeds: must be one-dimensional"),
])
def test_bad_seeds_named(small_plan, seeds, match):
    with pytest.raises(ValueError, match=match):
        generate_cohort_batch(small_plan, seeds)


def test_one_generator_twice_is_refused(small_plan):
    g = np.random.default_rng(1)
    with pytest.raises(ValueError, match=r"seeds\[0\] and seeds\[2\] share one bit generator"):
        generate_cohort_batch(small_plan, [g, 5, g])
    with pytest.raises(ValueError, match="share one bit generator"):
        generate_cohort_batch(small_plan, [g, np.random.Generator(g.bit_generator)])


@pytest.mark.parametrize("r", [3, -4, 1.0, True, "0"])
def test_bad_replicate_index(small_plan, r):
    batch = generate_cohort_batch(small_plan, [1, 2, 3])
    with pytest.raises(ValueError, match="r: must be an integer replicate index"):
        batch.cohort(r)
