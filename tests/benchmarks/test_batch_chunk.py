"""The runner's batched methods (``fit_batch``): the numbers, errors and warnings of the
one-replicate path, whatever the batch size."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.benchmarks import batch_chunk
from tacebench.benchmarks.methods import SharedFits, contrast, cox, weighting
from tacebench.benchmarks.methods._batched import balance_or_none
from tacebench.benchmarks.methods._common import balance
from tacebench.benchmarks.runner import run_chunk
from tacebench.benchmarks.study import study_from_raw

_W = {"family": "weighting", "estimand": "conditional", "covariates": ["x", "b"]}
RAW = {
    "study": {"name": "batched", "title": "batched methods", "seed": 3, "reps": 24},
    "dgm": [
        {"name": "confounded", "generator": "tests.benchmarks.toy:prepare",
         "fixed": {"n": 150, "true_hr": 0.7, "confounding": 1.0, "beta_x": 1.0}},
        # 14 patients, strong confounding: separated PS models, one-arm and event-free
        # replicates, so the batch hands replicates back to the one-replicate path
        {"name": "tiny", "generator": "tests.benchmarks.toy:prepare",
         "fixed": {"n": 14, "true_hr": 0.7, "confounding": 3.0, "beta_x": 1.0,
                   "censor_rate": 0.2}},
    ],
    # (an RMST difference has no true value in the toy generator: the test compares the
    # two paths' estimates, not their bias)
    "estimands": {"conditional": {"kind": "conditional_log_hr"},
                  "rmst": {"kind": "custom", "value": 0.0}},
    "methods": {
        "ate": {**_W, "balance": True},
        "ate_m": {**_W, "variance": "m_estimation"},
        "att": {**_W, "weights": "ATT"},
        "ato": {**_W, "weights": "ATO", "balance": True},
        "trunc_m": {**_W, "truncate": [5, 95], "variance": "m_estimation"},
        "stab_breslow": {**_W, "stabilized": True, "ties": "breslow"},
        "crude": {"family": "cox", "estimand": "conditional", "balance": ["x", "b"]},
        "crude_robust": {"family": "cox", "estimand": "conditional", "robust": True},
        "mv": {"family": "cox", "estimand": "conditional", "covariates": ["x", "b"]},
        "rmst": {"family": "contrast", "estimand": "rmst", "weights": "ATE",
                 "covariates": ["x", "b"]},
        # one-replicate families whose PS model is the weighting methods' (shared fits)
        "psm": {"family": "matching", "estimand": "conditional", "covariates": ["x", "b"]},
        "psm_tight": {"family": "matching", "estimand": "conditional",
                      "covariates": ["x", "b"], "caliper": 0.05},
    },
}
NUMERIC = ["estimate", "se", "ci_lower", "ci_upper"]


@pytest.fixture(scope="module")
def study():
    return study_from_raw(RAW)


def _frame(study, scenario, batch_size=None, start=0, stop=24):
    return pd.DataFrame(run_chunk(study, scenario, start, stop, batch_size))


@pytest.fixture(scope="module")
def one_by_one(study):
    """Every method fitted one replicate at a time (no family offers a batch)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch_chunk, "get_fit_batch", lambda family: None)
        return [_frame(study, s) for s in range(len(study.scenarios))]


@pytest.mark.parametrize("scenario", [0, 1])
def test_batched_equals_one_replicate_path(study, one_by_one, scenario):
    got, ref = _frame(study, scenario), one_by_one[scenario]
    assert list(got.columns) == list(ref.columns)
    for c in ("rep", "method", "converged", "error", "warning"):
        assert (got[c].to_numpy() == ref[c].to_numpy()).all(), c
    numeric = NUMERIC + [c for c in got if c.startswith("x_")]
    # the batched kernels equal the one-replicate kernels to rounding
    np.testing.assert_allclose(got[numeric].to_numpy(float), ref[numeric].to_numpy(float),
                               rtol=1e-10, atol=0, equal_nan=True)


def test_the_tiny_scenario_exercises_the_fallback(one_by_one):
    errors = one_by_one[1]["error"]
    assert (errors != "").any() and (errors == "").any()


@pytest.mark.parametrize("scenario", [0, 1])
def test_same_numbers_for_any_batch_size(study, scenario):
    whole = _frame(study, scenario)
    for size in (1, 5):
        pd.testing.assert_frame_equal(_frame(study, scenario, size), whole, check_exact=True)
    # and for any chunking of the replicates
    parts = pd.concat([_frame(study, scenario, None, 0, 9), _frame(study, scenario, None, 9, 24)],
                      ignore_index=True)
    pd.testing.assert_frame_equal(parts, whole, check_exact=True)


def test_batched_entry_points_answer_for_ordinary_replicates(study, monkeypatch):
    answered = {}

    def counting(family):
        fit_batch = {"weighting": weighting.fit_batch, "cox": cox.fit_batch,
                     "contrast": contrast.fit_batch}.get(family)
        if fit_batch is None:
            return None

        def wrapped(datas, config, shared):
            outs = fit_batch(datas, config, shared)
            answered[family] = answered.get(family, 0) + sum(o is not None for o in outs)
            return outs
        return wrapped

    monkeypatch.setattr(batch_chunk, "get_fit_batch", counting)
    _frame(study, 0)
    # six weighting methods, two crude Cox models and an IPTW RMST difference on 24
    # replicates; the multivariable Cox model has no batched kernel
    assert answered == {"weighting": 6 * 24, "cox": 2 * 24, "contrast": 24}


@pytest.mark.parametrize("scenario", [0, 1])
def test_sharing_fits_across_methods_changes_no_number(study, scenario, monkeypatch):
    """The PS model that every family shares through a replicate's shared fits: without
    that store each method fits its own; the same rows, the same numbers."""
    from tacebench.benchmarks.methods import _common

    shared = _frame(study, scenario)
    monkeypatch.setattr(_common, "shared_fits", lambda data: None)
    alone = _frame(study, scenario)
    for c in ("rep", "method", "converged", "error", "warning"):
        assert (shared[c].to_numpy() == alone[c].to_numpy()).all(), c
    numeric = NUMERIC + [c for c in shared if c.startswith("x_")]
    np.testing.assert_array_equal(shared[numeric].to_numpy(float),
                                  alone[numeric].to_numpy(float))


def test_the_one_replicate_families_fit_one_ps_model_per_replicate(study, monkeypatch):
    from tacebench.benchmarks.methods import _common

    fitted = []
    real = _common._fit_propensity
    monkeypatch.setattr(_common, "_fit_propensity",
                        lambda data, cov: fitted.append(1) or real(data, cov))
    _frame(study, 0)
    # the two matching methods share one; the batch's fits (equal to rounding only) are
    # not theirs
    assert len(fitted) == 24


def test_a_raising_batch_falls_back_to_the_one_replicate_path(study, one_by_one, monkeypatch):
    def broken(datas, config, shared):
        raise RuntimeError("batch failed")

    monkeypatch.setattr(batch_chunk, "get_fit_batch", lambda family: broken)
    pd.testing.assert_frame_equal(_frame(study, 1), one_by_one[1], check_exact=True)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), weighted=st.booleans(), n=st.integers(4, 60))
def test_balance_or_none_is_balance_bit_for_bit(seed, weighted, n):
    rng = np.random.default_rng(seed)
    z = np.zeros(n, dtype=np.int8)
    z[rng.permutation(n)[: rng.integers(2, n - 1)]] = 1
    data = {"treated": z, "x": rng.standard_normal(n), "b": (rng.random(n) < 0.3) * 1.0,
            "grade": rng.integers(1, 4, n), "const": np.ones(n), "pair": rng.integers(1, 3, n)}
    w = rng.exponential(1.0, n) if weighted else None
    names = ["x", "b", "grade", "const", "pair"]
    try:
        ref = balance(data, names, w)
    except ValueError:  # e.g. a categorical with one observed level
        return
    got = balance_or_none(data, names, w)
    assert got == ref and list(got) == list(ref)


def test_balance_or_none_declines_what_the_one_covariate_checks_reject():
    z = np.array([1, 0, 0, 0, 0], dtype=np.int8)  # one treated unit: no SD
    assert balance_or_none({"treated": z, "x": np.arange(5.0)}, ["x"]) is None
    z = np.array([1, 1, 0, 0], dtype=np.int8)
    assert balance_or_none({"treated": z, "x": np.array([1.0, np.nan, 2.0, 3.0])}, ["x"]) is None


COHORT_RAW = {
    "study": {"name": "stacked", "title": "stacked cohort generation", "seed": 5, "reps": 12},
    "dgm": [{"name": "dose", "base": "tace_regorafenib", "fixed": {"n": 60}}],
    # (a single-arm base: no true marginal or conditional HR of treatment to compute; the
    # Cox models compare its dose groups, as the study does)
    "estimands": {"conditional": {"kind": "custom", "value": 0.0}},
    "methods": {
        "crude": {"family": "cox", "estimand": "conditional",
                  "exposure": "regorafenib_high_dose"},
        "mv": {"family": "cox", "estimand": "conditional", "exposure": "regorafenib_high_dose",
               "covariates": ["*", "-regorafenib_high_dose"]},
    },
}


def _same_columns(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for rep in a:
        assert list(a[rep]) == list(b[rep])
        for k, v in a[rep].items():
            if isinstance(v, np.ndarray):
                assert v.dtype == b[rep][k].dtype
                np.testing.assert_array_equal(v, b[rep][k])
            elif k != "_fits":  # (a fresh store each)
                assert v == b[rep][k]


def test_stacked_cohorts_are_the_one_by_one_cohorts():
    """The cohort generator draws a chunk as one stack: the columns drawn replicate by
    replicate, bit for bit; a stack that raises is drawn one by one."""
    import dataclasses

    from tacebench.benchmarks.dgm import prepared
    from tacebench.benchmarks.runner import replicate_seed

    study = study_from_raw(COHORT_RAW)
    dgm = prepared(study.fingerprint, study.scenarios[0])
    assert dgm.generate_batch is not None
    seeds = {rep: replicate_seed(study.seed, "dose", rep) for rep in range(3, 9)}
    stacked, errors = batch_chunk.generate_chunk(dgm, seeds)
    assert errors == {} and all(isinstance(d["_fits"], SharedFits) for d in stacked.values())
    assert len({id(d["_fits"]) for d in stacked.values()}) == len(seeds)
    alone, _ = batch_chunk.generate_chunk(dataclasses.replace(dgm, generate_batch=None), seeds)
    _same_columns(stacked, alone)

    def broken(rngs):
        raise RuntimeError("stack failed")
    fallback, _ = batch_chunk.generate_chunk(dataclasses.replace(dgm, generate_batch=broken),
                                             seeds)
    _same_columns(fallback, alone)


def test_stacked_cohorts_give_the_same_rows_for_any_chunking():
    study = study_from_raw(COHORT_RAW)
    whole = _frame(study, 0, stop=12)
    parts = pd.concat([_frame(study, 0, None, 0, 1), _frame(study, 0, None, 1, 7),
                       _frame(study, 0, None, 7, 12)], ignore_index=True)
    pd.testing.assert_frame_equal(parts, whole, check_exact=True)


def test_stacked_cohorts_are_bit_identical_for_any_parallelism(tmp_path):
    from tacebench.benchmarks.runner import load_results, run_study

    study = study_from_raw(COHORT_RAW)
    run_study(study, tmp_path / "one", n_jobs=1, chunk_size=12, progress=False)
    run_study(study, tmp_path / "two", n_jobs=2, chunk_size=5, progress=False)
    pd.testing.assert_frame_equal(load_results(tmp_path / "two")[0],
                                  load_results(tmp_path / "one")[0], check_exact=True)


def test_a_non_finite_estimate_is_recorded_as_an_error(study, monkeypatch):
    """A method that returns NaN (or inf) as converged is a failure in the results, never a
    converged row with an empty error."""
    from tacebench.benchmarks import runner
    from tacebench.benchmarks.methods import MethodOutput

    real = runner.get_fit

    def get_fit(family):
        if family != "cox":
            return real(family)
        return lambda data, config, rng: MethodOutput(math.nan if config["covariates"]
                                                      else math.inf, 0.1)

    monkeypatch.setattr(runner, "get_fit", get_fit)
    monkeypatch.setattr(batch_chunk, "get_fit_batch", lambda family: None)
    got = _frame(study, 0, stop=3)
    cox_rows = got[got["method"].isin(["crude", "crude_robust", "mv"])]
    assert len(cox_rows) == 9 and not cox_rows["converged"].any()
    assert set(cox_rows["error"]) == {"ValueError: non-finite estimate nan",
                                      "ValueError: non-finite estimate inf"}
    assert np.isnan(cox_rows["estimate"]).all()
    assert got.loc[~got["method"].isin(["crude", "crude_robust", "mv"]), "error"].eq("").any()


@pytest.fixture(scope="module")
def seed000_study():
    """Seed 000's cohort (n = 423, a 20-term PS model whose replicates converge at
    different iterations) with the batched weighting family."""
    w = {"family": "weighting", "estimand": "marginal", "covariates": ["*", "-ehs_sites"]}
    return study_from_raw({
        "study": {"name": "seed000_chunks", "title": "chunking", "seed": 1, "reps": 32},
        "dgm": [{"name": "s000", "generator": "cohort",
                 "base": "tace_sorafenib_ehs@multivariable_column",
                 "fixed": {"imbalance": 1.0, "true_hr": 0.7}}],
        "estimands": {"marginal": {"kind": "marginal_log_hr", "population": "ATE"},
                      "marginal_ato": {"kind": "marginal_log_hr", "population": "ATO"}},
        "methods": {"ate": w, "ato": {**w, "weights": "ATO", "estimand": "marginal_ato"}},
    })


def test_same_numbers_for_any_chunking_of_a_20_term_ps_model(seed000_study):
    """A chunk's replicates share one stack of the batched PS model: a replicate's numbers
    must not depend on which others are in its chunk (the chunk size follows --n-jobs). Before
    a replicate on its chord step kept its own information, chunks of two or four gave two of
    these replicates other last digits than one chunk of 32."""
    whole = _frame(seed000_study, 0, None, 0, 32)
    for size in (2, 4):
        parts = pd.concat([_frame(seed000_study, 0, None, s, s + size) for s in range(0, 32, size)],
                          ignore_index=True)
        pd.testing.assert_frame_equal(parts, whole, check_exact=True)
