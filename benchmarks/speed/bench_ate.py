"""Marginal survival contrasts (``survival_ate``) against R ``riskRegression::ate``.

On the committed fixture ``tests/reference/ate_survival`` (n = 300, horizons 6/12/24 months,
Cox outcome and censoring models, logistic treatment model, influence-function SEs), each
estimator alone and all three together, through the public function (models fitted inside
the call, as ``ate`` fits its own). Each case is first checked against ate's values (risks,
differences and ratios to 1e-6, SEs to a relative 1e-4). R's times come from
``reference/ate_survival/timing.R`` (committed ``timing.json``; rerun it beside the suite
for a same-load comparison): R cannot be timed inside pytest-benchmark without its start-up.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
CASE = ROOT / "tests" / "reference" / "ate_survival"
COVS = ["size", "afp400", "cp_b"]
CASES = {"all": ("gformula", "iptw", "aiptw"), "gformula": ("gformula",),
         "iptw": ("iptw",), "aiptw": ("aiptw",)}


@pytest.fixture(scope="module")
def ate_case():
    data = pd.read_csv(CASE / "data.csv", float_precision="round_trip")
    return data, json.loads((CASE / "expected.json").read_text())


@pytest.mark.benchmark(group="marginal survival contrasts vs riskRegression::ate (n=300)")
@pytest.mark.parametrize("name", list(CASES))
def test_survival_ate(benchmark, ate_case, name):
    from tacebench.estimators import survival_ate

    data, exp = ate_case
    args = (data.time, data.event, data.treated, data[COVS])
    kw = dict(horizons=exp["horizons"], estimators=CASES[name])
    res = survival_ate(*args, **kw)
    ref = exp["cox_censoring"]
    for e, est in enumerate(res.estimators):
        np.testing.assert_allclose(res.risk[e], [ref[est]["risk_control"],
                                                 ref[est]["risk_treated"]], atol=1e-6)
        np.testing.assert_allclose(res.se[e], [ref[est]["se_control"],
                                               ref[est]["se_treated"]], rtol=1e-4)
        np.testing.assert_allclose(res.difference[e], ref[est]["difference"], atol=1e-6)
        np.testing.assert_allclose(res.se_ratio[e], ref[est]["se_ratio"], rtol=1e-4)
    benchmark.extra_info.update(case=f"ate_{name}", side="ours", r_case=name)
    benchmark(survival_ate, *args, **kw)


def ref_rmst(time, event, treated, X, horizons, estimators):
    """RMST the direct way: ``survival_ate`` at every event time before the last horizon
    (risks and their (n, K) influence functions), then the step-function sums
    ``sum_k (1 - F(u_k)) width_k`` over them (the estimators' own code path before the
    contraction; checked against riskRegression by tests/estimators)."""
    from tacebench.estimators import survival_ate

    t, e = np.asarray(time, float), np.asarray(event, float)
    grid = np.unique(t[(e == 1) & (t < horizons[-1])])
    u = np.r_[0.0, grid]
    width = np.clip(np.minimum(np.r_[grid, np.inf][:, None], horizons) - u[:, None], 0, None)
    res = survival_ate(time, event, treated, X, horizons=grid, estimators=estimators)
    rmst = (1 - res.risk) @ width[1:] + width[0]
    iid = -res.iid @ width[1:]
    return rmst, np.sqrt((iid**2).sum(axis=2))


@pytest.mark.benchmark(group="RMST differences vs the risks at every event time (n=300)")
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("side", ["ours", "reference"])
def test_survival_rmst(benchmark, ate_case, name, side):
    """``survival_rmst`` (IFs contracted with the RMST's widths inside each estimator)
    against :func:`ref_rmst`: RMSTs to 1e-10 and SEs to 1e-8 relative before timing."""
    from tacebench.estimators import survival_rmst

    data, exp = ate_case
    args = (data.time, data.event, data.treated, data[COVS])
    h = np.asarray(exp["horizons"], dtype=float)
    res = survival_rmst(*args, horizons=h, estimators=CASES[name])
    rmst, se = ref_rmst(*args, h, CASES[name])
    np.testing.assert_allclose(res.rmst, rmst, rtol=1e-10)
    np.testing.assert_allclose(res.se, se, rtol=1e-8)
    if side == "ours":
        benchmark.extra_info.update(case=f"rmst_{name}", side="ours", ref=f"rmst_{name}_ref")
        benchmark(survival_rmst, *args, horizons=h, estimators=CASES[name])
    else:
        benchmark.extra_info.update(case=f"rmst_{name}_ref", side="reference")
        benchmark(ref_rmst, *args, h, CASES[name])
