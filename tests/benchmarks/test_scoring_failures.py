"""What a run scores: a SE that is not a finite positive number is a failure with its
reason, counted; a method's own CI is its test as well as its interval."""
from __future__ import annotations

import pytest

from tacebench.benchmarks.report import summarize_run
from tacebench.benchmarks.runner import load_results, run_study
from tacebench.benchmarks.study import load_study, study_from_raw
from tacebench.benchmarks.summary import performance_table

from .conftest import TOY


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    raw = load_study(TOY).raw
    for name in ("bad_se", "own_ci"):
        raw["methods"][name] = {"family": f"tests.benchmarks.toy:{name}",
                                "estimand": raw["methods"]["rate_ratio"]["estimand"]}
    out = tmp_path_factory.mktemp("scoring")
    run_study(study_from_raw(raw), out, reps=40, progress=False)
    return out


def test_a_nan_or_negative_se_is_a_failure_with_its_reason(run):
    results = load_results(run)[0]
    bad = results[results["method"] == "bad_se"]
    failed = bad["error"] != ""
    # about half the replicates: NaN (a quarter) or negative (a quarter) SEs
    assert 0.3 < failed.mean() < 0.7
    reasons = set(bad.loc[failed, "error"].str.replace(r"-?\d.*$", "#", regex=True))
    assert reasons == {"ValueError: non-finite or non-positive SE nan",
                       "ValueError: non-finite or non-positive SE #"}
    assert not bad.loc[failed, "converged"].any() and bad.loc[failed, "se"].isna().all()
    assert (bad.loc[~failed, "se"] > 0).all()


def test_failure_counts_add_up_to_the_replicates_not_scored(run):
    results, truths = load_results(run)
    perf = performance_table(results, truths)
    bias = perf[(perf["method"] == "bad_se") & (perf["measure"] == "bias")]
    assert (bias["n_errors"] > 0).all()
    assert (bias["n"] + bias["n_errors"] + bias["n_nonconverged"] == bias["n_reps"]).all()
    text = summarize_run(run)["markdown"].read_text()
    n_err = int((results["error"] != "").sum())
    assert f"{n_err} raised an error" in text and n_err > 0


def test_own_ci_is_the_test_too(run):
    results, truths = load_results(run)
    perf = performance_table(results, truths).set_index(["scenario", "method", "measure"])
    null = [s for s in {i[0] for i in perf.index} if "true_hr=1.0" in s]
    for scenario in null:
        coverage = perf.loc[(scenario, "own_ci", "coverage"), "value"]
        rejection = perf.loc[(scenario, "own_ci", "power"), "value"]
        # the same interval: at the true null, rejected exactly where not covering (the
        # Wald test of the SE 0.05 rejected in about 70% while the CI covered all)
        assert coverage == pytest.approx(1.0 - rejection) and rejection < 0.1


def test_summary_counts_and_lists_the_methods_that_ran(tmp_path):
    raw = load_study(TOY).raw
    raw["methods"]["unused"] = {"family": "tests.benchmarks.toy:rate_ratio",
                                "estimand": raw["methods"]["rate_ratio"]["estimand"]}
    raw["dgm"][0]["methods"] = ["rate_ratio", "flaky"]
    run_study(study_from_raw(raw), tmp_path, reps=4, progress=False)
    text = summarize_run(tmp_path)["markdown"].read_text()
    assert "4 scenarios x 2 methods (2 of the 3 methods the study declares ran)" in text
    assert "| unused |" not in text and "| rate_ratio |" in text
