"""Scalar estimates and variances from m imputations, several scenarios, for mice::pool.scalar."""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20240502)
    rows = []
    # (scenario, m, dfcom, between-SD, within-variance): ordinary, large FMI, tiny B (lambda floor),
    # small complete-data df, many imputations.
    specs = [("ordinary", 5, "Inf", 0.05, 0.02), ("high_fmi", 5, "Inf", 0.4, 0.01),
             ("tiny_between", 3, "Inf", 1e-6, 0.04), ("small_dfcom", 5, 20, 0.1, 0.03),
             ("many_m", 50, 400, 0.08, 0.015)]
    for name, m, dfcom, sb, wu in specs:
        q = 0.3 + sb * rng.standard_normal(m)
        u = wu * rng.uniform(0.8, 1.2, m)
        for j in range(m):
            rows.append({"scenario": name, "dfcom": dfcom, "q": q[j], "u": u[j]})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
