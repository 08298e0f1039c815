"""Synthetic simulation results for the performance-measure fixture: two methods, 250
replicates, a few failed / non-converged replicates (deterministic)."""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    n = 250
    rows = []
    for method, bias, sd, se_scale in (("A", 0.05, 0.20, 1.0), ("B", -0.02, 0.15, 0.8)):
        est = 0.5 + bias + sd * rng.standard_normal(n)
        se = sd * se_scale * np.sqrt(rng.chisquare(30, n) / 30)
        conv = rng.random(n) > 0.04
        est[~conv & (rng.random(n) < 0.5)] = np.nan
        rows.append(pd.DataFrame({"method": method, "rep": np.arange(n), "estimate": est,
                                  "se": se, "converged": conv.astype(int)}))
    return pd.concat(rows, ignore_index=True)


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
