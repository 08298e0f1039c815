"""Confounded two-arm cohort with IPTW weights and heavily tied (whole-month) times.

n = 300; treatment depends on age, sex and tumour size; OS is Weibull-like with a
treatment HR of 0.7; administrative censoring at 36 months plus uniform loss to follow-up;
times are rounded *up* to whole months, so event times are heavily tied (a stress test
for Efron vs Breslow with case weights). ``w`` are ATE IPTW weights from the true
propensity score (non-integer). ``centre`` (1..12) is a cluster label and ``stage``
(3 levels) a grouping for the k-group log-rank.
"""
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240501


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    n = 300
    age = np.round(rng.normal(55, 10, n), 0)
    male = (rng.random(n) < 0.8).astype(int)
    size = np.round(np.exp(rng.normal(np.log(8), 0.45, n)), 1)
    lin = -0.8 + 0.03 * (age - 55) + 0.4 * male - 0.08 * (size - 8)
    ps = 1.0 / (1.0 + np.exp(-lin))
    treated = (rng.random(n) < ps).astype(int)
    w = np.where(treated == 1, 1.0 / ps, 1.0 / (1.0 - ps))
    lp = np.log(0.7) * treated + 0.02 * (age - 55) + 0.09 * (size - 8) + 0.2 * male
    scale = 14.0 * np.exp(-lp / 1.3)
    t_event = scale * rng.weibull(1.3, n)
    t_cens = np.minimum(rng.uniform(6, 60, n), 36.0)
    event = (t_event <= t_cens).astype(int)
    time = np.ceil(np.minimum(t_event, t_cens))
    centre = rng.integers(1, 13, n)
    stage = rng.integers(0, 3, n)
    return pd.DataFrame({"time": time, "event": event, "treated": treated, "age": age,
                         "male": male, "size": size, "w": np.round(w, 6), "centre": centre,
                         "stage": stage})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
