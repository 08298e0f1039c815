"""The runner: bit-identical results whatever the parallelism, resumable, failure tolerant."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from tacebench.benchmarks.runner import load_results, replicate_seed, run_study
from tacebench.benchmarks.store import RunDirectory
from tacebench.benchmarks.study import load_study, study_from_raw

from .conftest import TOY


def _run(study, out, **kw):
    run_study(study, out, progress=False, **kw)
    return load_results(out)[0]


def test_reference_run_is_complete(study, reference):
    assert len(reference) == len(study.scenarios) * study.reps * len(study.methods)
    assert not reference.duplicated(["scenario_index", "rep", "method"]).any()
    assert set(reference["method"]) == {"rate_ratio", "flaky"}


@pytest.mark.parametrize("n_jobs, backend, chunk", [
    (1, None, 7), (2, "loky", 3), (2, "threading", 11), (2, "multiprocessing", 40)])
def test_bit_identical_for_any_parallelism(study, reference, tmp_path, n_jobs, backend, chunk):
    got = _run(study, tmp_path, n_jobs=n_jobs, backend=backend, chunk_size=chunk)
    pd.testing.assert_frame_equal(got, reference, check_exact=True)


def test_bit_identical_on_a_local_dask_cluster(study, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        got = _run(study, tmp_path, n_jobs=2, backend="dask", scheduler=cluster.scheduler_address,
                   chunk_size=9)
    pd.testing.assert_frame_equal(got, reference, check_exact=True)


def test_csv_chunks_round_trip_exactly(study, reference, tmp_path):
    got = _run(study, tmp_path, chunk_size=13, fmt="csv")
    assert all(c.path.suffix == ".csv" for c in RunDirectory(tmp_path, "csv").chunks())
    pd.testing.assert_frame_equal(got, reference, check_exact=True, check_dtype=False)


def test_resume_extends_a_run_and_redoes_nothing(study, reference, tmp_path):
    first = run_study(study, tmp_path, reps=15, chunk_size=4, progress=False)
    assert first.replicates_run == 15 * len(study.scenarios)
    stamps = {c.path.name: c.path.stat().st_mtime_ns for c in RunDirectory(tmp_path).chunks()}
    again = run_study(study, tmp_path, resume=True, chunk_size=6, progress=False)
    assert again.replicates_skipped == 15 * len(study.scenarios)
    assert again.replicates_run == (study.reps - 15) * len(study.scenarios)
    for c in RunDirectory(tmp_path).chunks():  # finished chunks are untouched
        if c.path.name in stamps:
            assert c.path.stat().st_mtime_ns == stamps[c.path.name]
    pd.testing.assert_frame_equal(load_results(tmp_path)[0], reference, check_exact=True)
    noop = run_study(study, tmp_path, resume=True, progress=False)
    assert noop.replicates_run == 0


def test_resume_fills_holes_left_by_lost_chunks(study, reference, tmp_path):
    run_study(study, tmp_path, chunk_size=5, progress=False)
    chunks = RunDirectory(tmp_path).chunks()
    for c in chunks[1::3]:
        c.path.unlink()
    (tmp_path / "chunks" / ".s0000_r0000000-0000005.parquet.tmp999").write_text("partial")
    run_study(study, tmp_path, resume=True, chunk_size=8, progress=False)
    assert not list((tmp_path / "chunks").glob(".*tmp*"))
    pd.testing.assert_frame_equal(load_results(tmp_path)[0], reference, check_exact=True)


def test_existing_run_needs_resume_and_the_same_study(study, tmp_path):
    run_study(study, tmp_path, reps=2, progress=False)
    with pytest.raises(ValueError, match="resume"):
        run_study(study, tmp_path, reps=2, progress=False)
    other = study_from_raw(study.raw, seed=8)
    with pytest.raises(ValueError, match="seed"):
        run_study(other, tmp_path, reps=2, resume=True, progress=False)
    raw = {**study.raw, "methods": {"rate_ratio": study.raw["methods"]["rate_ratio"]}}
    with pytest.raises(ValueError, match="fingerprint"):
        run_study(study_from_raw(raw), tmp_path, reps=2, resume=True, progress=False)
    # a format other than the run's was ignored without a word
    with pytest.raises(ValueError, match=r"with fmt 'csv': its chunks are parquet"):
        run_study(study, tmp_path, reps=2, resume=True, progress=False, fmt="csv")
    run_study(study, tmp_path, reps=2, resume=True, progress=False, fmt="parquet")


def test_failures_are_recorded_counted_and_do_not_stop_the_study(reference):
    flaky = reference[reference["method"] == "flaky"]
    raised = flaky["error"] != ""
    assert 0.1 < raised.mean() < 0.3
    assert flaky.loc[raised, "error"].str.startswith("FloatingPointError: flaky").all()
    assert flaky.loc[raised, "estimate"].isna().all()
    assert not flaky.loc[raised, "converged"].any()
    nonconv = ~flaky["converged"] & ~raised
    assert 0.1 < nonconv.mean() < 0.3 and flaky.loc[nonconv, "estimate"].notna().all()
    good = reference[reference["method"] == "rate_ratio"]
    assert good["converged"].all() and (good["error"] == "").all()
    assert (good["x_events"] > 0).all()


def test_data_generation_failure_is_recorded_for_every_method(tmp_path):
    raw = load_study(TOY).raw
    raw["dgm"][0]["fixed"]["fail_every"] = 4
    results = _run(study_from_raw(raw), tmp_path)
    failed = results["error"].str.startswith("data generation failed: RuntimeError")
    assert 0.1 < failed.mean() < 0.45
    per_rep = results[failed].groupby(["scenario_index", "rep"])["method"].nunique()
    assert (per_rep == 2).all()


def test_replicate_seeds_depend_only_on_seed_scenario_and_rep():
    a = np.random.default_rng(replicate_seed(1, "s", 5)).random(3)
    b = np.random.default_rng(replicate_seed(1, "s", 5)).random(3)
    c = np.random.default_rng(replicate_seed(1, "s", 6)).random(3)
    d = np.random.default_rng(replicate_seed(1, "t", 5)).random(3)
    assert (a == b).all() and not (a == c).any() and not (a == d).any()


@pytest.mark.parametrize("kw, match", [
    ({"reps": 0}, "reps must be"), ({"n_jobs": 0}, "n_jobs: must be"),
    ({"n_jobs": -5}, "n_jobs: must be .* got -5"), ({"backend": "nope"}, "backend: .* 'nope'"),
    ({"chunk_size": 0}, "chunk_size: must be"), ({"scheduler": "tcp://x:1"}, "scheduler: needs"),
    ({"fmt": "xlsx"}, "fmt must be")])
def test_bad_arguments_name_themselves_before_anything_is_written(study, tmp_path, kw, match):
    out = tmp_path / "run"
    with pytest.raises(ValueError, match=match):
        run_study(study, out, progress=False, **kw)
    # (a run folder written before the check would hold the out directory: the next
    # command would be told to --resume a run that never started)
    assert not (out / "manifest.json").exists()


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_second_run_is_refused_naming_the_holder(study, tmp_path):
    """Two runs writing one folder would compute replicates twice and, with other chunk
    sizes, write overlapping chunks (tacebench.engine.files.folder_lock)."""
    from tacebench.engine.files import FolderLocked

    from ..engine.test_files import holder

    with holder(tmp_path) as proc:
        with pytest.raises(FolderLocked, match=rf"another run \(process {proc.pid} on "):
            run_study(study, tmp_path, reps=2, progress=False)
    assert not (tmp_path / "manifest.json").exists()
    report = run_study(study, tmp_path, reps=2, progress=False)  # its holder gone
    assert report.replicates_run == report.replicates_total


def test_a_malformed_method_output_is_a_failed_fit_not_the_end_of_the_run(tmp_path):
    """A ``module:function`` method returning a tuple ended the run with three copies of
    a worker's AttributeError traceback; it is a failed fit, recorded with its reason,
    like a method that raises."""
    from tacebench.benchmarks.methods import MethodOutput, output_problem

    raw = load_study(TOY).raw
    raw["methods"]["malformed"] = {"family": "tests.benchmarks.toy:malformed",
                                   "estimand": raw["methods"]["rate_ratio"]["estimand"]}
    results = _run(study_from_raw(raw), tmp_path)
    bad = results[results["method"] == "malformed"]
    assert len(bad) and bad["estimate"].isna().all() and not bad["converged"].any()
    assert bad["error"].str.startswith("TypeError: fit returned").all()
    good = results[results["method"] == "rate_ratio"]
    assert (good["error"] == "").all() and good["estimate"].notna().all()
    assert output_problem((0.1, 0.2)).startswith("fit returned tuple, not MethodOutput")
    assert output_problem(MethodOutput(0.1, 0.2, ci=("a", 1))).endswith("ci='a', not a number")
    assert output_problem(MethodOutput(0.1, 0.2, ci=(0.0, 1.0), extra={"n": 3})) is None


@pytest.mark.parametrize("fixed, message", [
    ({"truth_none": True}, "must be one number per estimand; got log_hr = None"),
    ({"beta_x": 1.0}, "failed: ValueError: toy DGM has no marginal_log_hr here"),
])
def test_a_generator_without_a_true_value_is_named_with_how_to_go_on(tmp_path, fixed, message):
    """A study's own generator whose truth raised or returned None ended the run in a
    worker's traceback (float() of None); now the scenario and estimand are named, with
    how to go on (the run's folder is written, no replicate is)."""
    import re

    raw = load_study(TOY).raw
    raw["estimands"] = {"log_hr": {"kind": "marginal_log_hr"}}
    raw["methods"] = {"rate_ratio": raw["methods"]["rate_ratio"]}
    raw["dgm"] = [{"name": "toy", "generator": "tests.benchmarks.toy:prepare", "fixed": fixed}]
    study = study_from_raw(raw)
    with pytest.raises(ValueError, match=r"^scenario 'toy': the generator's true value of "
                       r"\['log_hr'\] " + re.escape(message) + r".*No replicate was run"):
        run_study(study, tmp_path, reps=2, progress=False)
    assert not (tmp_path / "truth.csv").exists()


def test_a_column_the_replicate_lacks_is_named_with_those_it_has(tmp_path):
    """A method reading a column the generator does not make failed with the bare
    "KeyError: 'pfs_time'"."""
    raw = load_study(TOY).raw
    # (a custom estimand: a PFS method against the OS truth is refused at load)
    raw["estimands"]["pfs_null"] = {"kind": "custom", "value": 0.0}
    raw["methods"]["mv"] = {"family": "cox", "endpoint": "pfs", "estimand": "pfs_null"}
    results = _run(study_from_raw(raw), tmp_path, reps=2)
    errors = set(results.loc[results["method"] == "mv", "error"])
    assert errors == {"KeyError: the replicate has no column 'pfs_time' (it has ['b', "
                      "'os_event', 'os_time', 'systemic_duration', 'systemic_start', "
                      "'treated', 'x'])"}, errors
