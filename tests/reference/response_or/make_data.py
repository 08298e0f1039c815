"""Confounded binary response data (treated, two covariates, IPT weights) for odds ratios
from glm(binomial) and survey::svyglm(quasibinomial)."""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20240504)
    n = 398
    x1 = rng.normal(0, 1, n)
    x2 = (rng.random(n) < 0.4).astype(int)
    ps = 1 / (1 + np.exp(-(-0.9 + 0.6 * x1 + 0.5 * x2)))
    treated = (rng.random(n) < ps).astype(int)
    py = 1 / (1 + np.exp(-(-1.5 + 0.5 * treated + 0.4 * x1 - 0.3 * x2)))
    y = (rng.random(n) < py).astype(int)
    w = np.where(treated == 1, 1 / ps, 1 / (1 - ps))
    return pd.DataFrame({"y": y, "treated": treated, "x1": x1, "x2": x2, "w": w})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
