"""Covariates, treatment and outcome for the balancing-weights fixtures (seed 20241201).

400 units, about 40% treated; ``x1`` standard normal, ``x2`` on a laboratory-like scale
(mean 40, SD 12, skewed), ``x3`` binary, so that the scale-free solution (weights do not
depend on units) and the binary column's skipped powers are both exercised. ``y`` is a
continuous outcome with a treatment effect of 1.5 that varies with ``x1``.
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20241201)
    n = 400
    x1 = rng.normal(size=n)
    x2 = 40 + 12 * (rng.gamma(4.0, 1.0, n) - 4.0) / 2.0
    x3 = rng.binomial(1, 0.35, n)
    eta = -0.6 + 0.7 * x1 + 0.03 * (x2 - 40) + 0.6 * x3
    treated = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    y = 2 + 1.5 * treated + 0.5 * treated * x1 + x1 + 0.05 * x2 - 0.8 * x3 + rng.normal(size=n)
    return pd.DataFrame({"treated": treated, "x1": x1, "x2": x2, "x3": x3, "y": y})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
