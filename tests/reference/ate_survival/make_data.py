"""Confounded survival cohort with covariate-dependent censoring for the ATE fixtures
(seed 20250211).

Three confounders (tumour size, AFP >= 400, Child-Pugh B) drive treatment, death and loss
to follow-up; the conditional treatment log-HR is -0.4. Times are continuous (no ties
among event or censoring times: riskRegression 2022.11.28 counts a censoring time shared
by k subjects k times in its AIPTW augmentation term). ``time_tied`` is ``time`` rounded
up to whole months, for the g-formula and IPTW checks with tied times (Breslow).
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20250211)
    n = 300
    size = rng.gamma(5.0, 2.0, n)
    afp = rng.binomial(1, 0.4, n)
    cpb = rng.binomial(1, 0.25, n)
    eta = -0.3 + 0.08 * (size - 10) + 0.5 * afp - 0.8 * cpb
    treated = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    lp = -0.4 * treated + 0.06 * (size - 10) + 0.4 * afp + 0.7 * cpb
    t_death = rng.exponential(1.0, n) / (np.exp(lp) / 14.0)
    lp_c = 0.3 * treated - 0.04 * (size - 10) + 0.3 * cpb
    t_loss = rng.exponential(1.0, n) / (np.exp(lp_c) / 40.0)
    t_cens = np.minimum(t_loss, 36.0 + rng.uniform(0, 12, n))
    time = np.minimum(t_death, t_cens)
    event = (t_death <= t_cens).astype(int)
    return pd.DataFrame({"time": time, "event": event, "treated": treated,
                         "size": np.round(size, 2), "afp400": afp, "cp_b": cpb,
                         "time_tied": np.ceil(time)})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
