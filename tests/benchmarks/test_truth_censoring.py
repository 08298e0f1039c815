"""The hazard-ratio truths of the cohort generator are the Cox estimands under the
scenario's own censoring, the values a Cox model of its censored cohorts converges to."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.benchmarks.cohort_dgm import prepare, scenario_spec
from tacebench.benchmarks.study import Estimand, Scenario, _freeze
from tacebench.estimators import cox_ph
from tacebench.simulate import compile_plan, generate_cohort

# seed 003's cohort with its published covariate effects made confounders-free (no
# imbalance: the true PS is the arm share), 31% censored by accrual
BASE, COHORT = "tace_mtt_pd1_lung", "main"
FACTORS = {"imbalance": 0.0, "true_hr": 0.6,
           "effect_hr": {"pvtt": 1.8, "multiple_nodules": 1.4, "ascites": 1.6}}
ESTIMANDS = [Estimand("marginal_ate", "marginal_log_hr", _freeze({"population": "ATE"})),
             Estimand("marginal_ato", "marginal_log_hr", _freeze({"population": "ATO"})),
             Estimand("rmst12", "rmst_difference", _freeze({"tau": 12.0})),
             Estimand("risk12", "risk_difference", _freeze({"time": 12.0}))]


def _scenario(factors=FACTORS) -> Scenario:
    return Scenario(index=0, name="s003", dgm="s003", generator="cohort", base=BASE,
                    cohort=COHORT, factors=_freeze(factors), methods=())


@pytest.fixture(scope="module")
def both():
    dgm = prepare(_scenario())
    seeds = [None] * len(ESTIMANDS)
    return dict(zip((e.name for e in ESTIMANDS), dgm.truths(ESTIMANDS, seeds))), \
        dict(zip((e.name for e in ESTIMANDS), dgm.uncensored_truths(ESTIMANDS, seeds)))


def test_hr_truths_follow_the_censoring_and_the_others_do_not_depend_on_it(both):
    censored, uncensored = both
    for name in ("marginal_ate", "marginal_ato"):  # 0.0136 apart here (non-collapsibility)
        assert censored[name] - uncensored[name] < -0.01
    for name in ("rmst12", "risk12"):  # functions of the potential-outcome curves alone
        assert censored[name] == uncensored[name]


@pytest.mark.slow
def test_hr_truth_is_what_a_cox_model_of_huge_censored_cohorts_estimates(both):
    # Without confounding, the Cox model weighted by the inverse arm shares (the true
    # IPTW ATE weights) targets the ATE estimand; 1.2 million patients: -0.4653 (SE 0.0029)
    # against -0.4667 under censoring and -0.4531 without
    censored, uncensored = both
    spec = scenario_spec(BASE, COHORT, {**FACTORS, "n": 1_200_000})
    cols = generate_cohort(compile_plan(spec, COHORT), seed=11, with_ps=False).columns
    treated = np.asarray(cols["treated"], float)
    w = np.where(treated == 1, 1 / treated.mean(), 1 / (1 - treated.mean()))
    fit = cox_ph(np.asarray(cols["os_time"]), np.asarray(cols["os_event"]), treated[:, None],
                 w / w.mean(), robust=True)
    beta, se = float(np.ravel(fit.coef)[0]), float(np.ravel(fit.robust_se)[0])
    assert abs(beta - censored["marginal_ate"]) < 3 * se
    assert abs(beta - uncensored["marginal_ate"]) > 3.5 * se  # 4.2 SE here
