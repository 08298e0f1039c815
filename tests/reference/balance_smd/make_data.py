"""Confounded two-arm data with continuous, binary and 3-level categorical covariates,
IPT weights (ATE) and 1:1 matching weights, for the SMD / variance-ratio reference."""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20240503)
    n = 300
    age = rng.normal(60, 10, n)
    afp = np.exp(rng.normal(4, 1.5, n))
    male = (rng.random(n) < 0.8).astype(int)
    cp = rng.choice(["A5", "A6", "B7"], size=n, p=[0.6, 0.3, 0.1])
    lp = -0.5 + 0.04 * (age - 60) + 0.5 * (cp == "A6") + 1.0 * (cp == "B7") - 0.3 * male
    ps = 1 / (1 + np.exp(-lp))
    treated = (rng.random(n) < ps).astype(int)
    w = np.where(treated == 1, 1 / ps, 1 / (1 - ps))
    # matching weights: every treated unit kept, a random subset of controls kept (0/1)
    mw = np.where(treated == 1, 1.0, (rng.random(n) < 0.6).astype(float))
    return pd.DataFrame({"treated": treated, "age": age, "afp": afp, "male": male,
                         "child_pugh": cp, "w": w, "mw": mw})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
