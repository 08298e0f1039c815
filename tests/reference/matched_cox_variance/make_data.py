"""Cohort for the matched-Cox variance fixtures (seed 20261206).

300 patients, about 45% treated, so that nearest-neighbour matching with replacement reuses
controls and 1:2 matching without replacement leaves incomplete sets. Two covariates enter
the propensity model (``x1``, ``x2``); ``os_time`` / ``os_event`` are the survival outcome,
times rounded to 0.5 month so that events tie.
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20261206)
    n = 300
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, n).astype(float)
    ps = 1 / (1 + np.exp(-(-0.3 + 0.9 * x1 + 0.6 * x2)))
    treated = rng.binomial(1, ps)
    t_death = rng.exponential(14.0, n) * np.exp(0.35 * treated - 0.5 * x1 - 0.3 * x2)
    t_cens = rng.uniform(6, 48, n)
    os_time = np.maximum(np.round(np.minimum(t_death, t_cens) * 2) / 2, 0.5)
    os_event = (t_death <= t_cens).astype(int)
    return pd.DataFrame({"treated": treated, "x1": x1, "x2": x2, "os_time": os_time,
                         "os_event": os_event})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
