"""Confounded survival cohort for the IPTW Cox fixtures (seed 20240603).

Three confounders (tumour size, AFP >= 400, Child-Pugh B) drive both treatment and death;
the conditional treatment log-HR is -0.4. Times are rounded to 0.1 month so that event
times tie (Efron and Breslow differ); administrative censoring at 36 months plus random
loss.
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20240603)
    n = 350
    size = rng.gamma(5.0, 2.0, n)
    afp = rng.binomial(1, 0.4, n)
    cpb = rng.binomial(1, 0.25, n)
    eta = -0.9 + 0.08 * (size - 10) + 0.5 * afp - 0.8 * cpb
    treated = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    lp = -0.4 * treated + 0.06 * (size - 10) + 0.4 * afp + 0.7 * cpb
    t_death = rng.exponential(1.0, n) / (np.exp(lp) / 10.0)
    t_cens = np.minimum(rng.uniform(6, 60, n), 36.0)
    time = np.maximum(np.round(np.minimum(t_death, t_cens), 1), 0.1)
    event = (t_death <= t_cens).astype(int)
    return pd.DataFrame({"time": time, "event": event, "treated": treated,
                         "size": np.round(size, 2), "afp400": afp, "cp_b": cpb})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
