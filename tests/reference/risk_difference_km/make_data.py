"""Two-arm survival data (months) with ties, censoring and IPT weights, for the ARR at 12
months between Kaplan-Meier curves."""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20240505)
    n = 240
    x = rng.normal(size=n)
    ps = 1 / (1 + np.exp(-(-0.7 + 0.8 * x)))
    treated = (rng.random(n) < ps).astype(int)
    rate = 0.07 * np.exp(0.4 * x - 0.35 * treated)
    t_event = rng.exponential(1 / rate)
    t_cens = rng.uniform(6, 40, n)
    time = np.round(np.minimum(t_event, t_cens), 1)  # one decimal: tied times
    time = np.maximum(time, 0.1)
    event = (t_event <= t_cens).astype(int)
    w = np.where(treated == 1, 1 / ps, 1 / (1 - ps))
    return pd.DataFrame({"time": time, "event": event, "treated": treated, "w": w})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
