"""A covariate median printed in Table 1 (e.g. after matching) is a target: the estimate, the
vocabulary, and the table form."""
from __future__ import annotations


import numpy as np
import pytest

from tacebench.estimators.quantiles import weighted_median
from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.estimates import ESTIMATES, estimate_for
from tacebench.replications.analysis.problems import Problems
from tacebench.replications.targets.model import QUANTITIES

from .test_analysis_estimates import _ps, cohort, frame  # noqa: F401  (fixture)
from tests.replications.plans import compiled_plan

PLAN = """
[covariate_sets]
ps = ["age", "pvtt", "child_pugh"]
[[analyses]]
name = "crude"
estimates = ["median", "mean"]
[[analyses]]
name = "iptw"
estimates = ["median"]
adjustment = { method = "iptw", covariates = "ps", stabilized = true }
[[analyses]]
name = "psm"
estimates = ["median", "group_size"]
adjustment = { method = "psm", covariates = "ps", caliper = 0.2 }
"""


def _estimates(cohort, targets):
    plan, compiled = compiled_plan(cohort, PLAN)
    tprobs = Problems("targets.toml")
    out = {}
    for i, t in enumerate(targets):
        req = bind_target(t, i, compiled, plan, tprobs)
        assert req is not None, [str(p) for p in tprobs]
        vals, notes, _ = compiled[t["analysis"]].run(cohort.columns, np.random.default_rng(0),
                                                     requests=[req], cache={})
        assert not notes, notes
        out[t["id"]] = vals[0]
    return out


def test_median_is_in_the_vocabulary():
    assert "median" in QUANTITIES and estimate_for("median", None) == "median"
    assert ESTIMATES["median"].requires == ("arm", "term")


def test_crude_and_weighted_medians(cohort):
    got = _estimates(cohort, [
        dict(id="m0", analysis="crude", quantity="median", term="age", arm="Ref"),
        dict(id="m1", analysis="crude", quantity="median", term="age", arm="Trt"),
        dict(id="w0", analysis="iptw", quantity="median", term="age", arm="Ref"),
        dict(id="w1", analysis="iptw", quantity="median", term="age", arm="Trt"),
    ])
    df = frame(cohort)
    z, age = df.treated.to_numpy(), df.age.to_numpy()
    assert got["m0"] == float(np.median(age[z == 0])) and got["m1"] == float(np.median(age[z == 1]))
    ps = _ps(df)
    w = np.where(z == 1, z.mean() / ps, (1 - z.mean()) / (1 - ps))      # stabilized ATE weights
    for arm, key in ((0, "w0"), (1, "w1")):
        assert got[key] == pytest.approx(weighted_median(age[z == arm], w[z == arm]), rel=1e-12)
    assert got["w0"] != got["m0"]                  # the weights move it


def test_matched_median_is_the_median_of_the_matched_rows(cohort):
    got = _estimates(cohort, [
        dict(id="p1", analysis="psm", quantity="median", term="age", arm="Trt"),
        dict(id="n1", analysis="psm", quantity="group_size", arm="Trt"),
        dict(id="c1", analysis="crude", quantity="median", term="age", arm="Trt"),
    ])
    assert got["n1"] < np.sum(cohort.columns["treated"] == 1)   # matching dropped some
    assert np.isfinite(got["p1"]) and got["p1"] != got["c1"]


def test_a_median_cell_of_a_predicted_column_is_a_median_target():
    from tacebench.replications.targets.table import table_targets
    from tacebench.simulate.table1 import read_table1

    rows = [["variable", "level", "Characteristic", "A (n = 100)", "A matched (n = 60)"],
            ["afp", "", "AFP, median (IQR)", "12.0 (8.5-16.0)", "11.0 (8.0-15.5)"]]
    cols = [{"column": "A (n = 100)", "arm": "A", "analysis": "crude", "role": "calibration"},
            {"column": "A matched (n = 60)", "arm": "A", "analysis": "psm", "role": "predicted"}]
    got = {t["id"]: t for _, t in table_targets(read_table1({"rows": rows, "columns": cols}, None))}
    assert got["afp_median_a_psm"]["quantity"] == "median" and got["afp_median_a_psm"]["value"] == 11.0
    assert got["afp_median_a_psm"]["role"] == "predicted"
    assert got["afp_median_a_crude"]["role"] == "reported"
