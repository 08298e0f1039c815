"""simulate.table.baseline_table: the whole cohort's column (the papers' "All patients")
beside the arms'."""
from __future__ import annotations

import re

import numpy as np

from tacebench import simulate
from tacebench.simulate.table import ALL_ARMS, baseline_table


def _count(text: str) -> int:
    return int(re.match(r"(\d+) \(", text).group(1))


def test_the_whole_cohort_column_summarises_every_row(small_plan):
    cohort = simulate.generate_cohort(small_plan, seed=3)
    tab = baseline_table(cohort, small_plan.spec)
    long = tab.to_frame(wide=False)
    wide = tab.to_frame()
    assert list(wide.columns) == ["variable", "level", "statistic", *tab.arm_labels, ALL_ARMS]
    # the same rows as the arms', every one filled
    arms = long[long.arm != ALL_ARMS]
    whole = long[long.arm == ALL_ARMS]
    keys = ["variable", "level", "statistic"]
    assert set(map(tuple, whole[keys].to_numpy())) == set(map(tuple, arms[keys].to_numpy()))
    assert wide[ALL_ARMS].notna().all()
    # counts of the whole cohort are the arms' added up
    for _, row in whole[whole.statistic == "n (%)"].iterrows():
        per_arm = arms[(arms.variable == row.variable) & (arms.level == row.level)
                       & (arms.statistic == "n (%)")]
        assert _count(row.text) == sum(map(_count, per_arm.text)), (row.variable, row.level)
    # a mean (SD) is over all rows (missing values left out)
    for _, row in whole[whole.statistic == "mean (SD)"].iterrows():
        x = cohort.columns[row.variable]
        assert row.value == float(x[~np.isnan(x)].mean())
    assert sum(tab.arm_n) == len(cohort.columns["arm"])


def test_a_median_summary_is_printed_as_a_median_for_the_whole_cohort(two_arm):
    """A variable the paper prints as median [Q1, Q3] per arm has the whole cohort's median
    and quartiles over all rows, in a row of the same statistic."""
    two_arm["cohorts"]["main"]["variables"].append(
        {"name": "afp", "type": "continuous", "distribution": "lognormal", "lower": 0.0,
         "arms": {"TACE": {"median": 20.0, "q1": 8.0, "q3": 90.0},
                  "TACEX": {"median": 30.0, "q1": 10.0, "q3": 150.0}}})
    plan = simulate.compile_plan(simulate.spec_from_dict(two_arm), cache=None)
    cohort = simulate.generate_cohort(plan, seed=0)
    wide = baseline_table(cohort, plan.spec).to_frame()
    row = wide[wide.variable == "afp"]
    assert row.statistic.tolist() == ["median [Q1, Q3]"]
    x = cohort.columns["afp"]
    m, lo, hi = np.quantile(x, [0.5, 0.25, 0.75])
    assert row[ALL_ARMS].item() == f"{m:.3g} [{lo:.3g}, {hi:.3g}]"
