"""Covariates, propensity score and outcome for the Matching / MatchIt / assignment
fixtures (seed 20241202).

250 units, about 35% treated, three continuous covariates on different scales (so that
inverse-variance and Mahalanobis distances differ) and one binary; ``ps`` is the true
propensity score (the matchers use it as given), ``y`` a continuous outcome with a
treatment effect of 2 that varies with ``x1``. All distances are distinct (no ties).
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20241202)
    n = 250
    x1 = rng.normal(size=n)
    x2 = 60 + 10 * rng.normal(size=n) + 4 * x1
    x3 = rng.exponential(2.0, n)
    x4 = rng.binomial(1, 0.4, n)
    eta = -1.0 + 0.8 * x1 + 0.04 * (x2 - 60) + 0.15 * (x3 - 2) + 0.5 * x4
    ps = 1 / (1 + np.exp(-eta))
    treated = rng.binomial(1, ps)
    y = 1 + 2 * treated + 0.7 * treated * x1 + x1 + 0.03 * x2 + 0.3 * x3 + rng.normal(size=n)
    return pd.DataFrame({"treated": treated, "x1": x1, "x2": x2, "x3": x3, "x4": x4,
                         "ps": ps, "y": y})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
