"""Mixed covariates (continuous x1, binary x2, 3-level x3) and an outcome y, with MAR
missingness in x1, x2, x3 driven by y; for comparing imputation distributions with R mice."""
from pathlib import Path

import numpy as np
import pandas as pd


def generate(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(full data, data with MAR holes); also used by tests/estimators/test_mice.py."""
    x1 = rng.normal(0, 1, n)
    x2 = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + 0.8 * x1)))).astype(float)
    u = 0.9 * x1 + rng.logistic(size=n)
    x3 = np.where(u > 1.0, "C", np.where(u > -0.5, "B", "A")).astype(object)
    y = 1.0 + 0.8 * x1 + 0.6 * x2 + 0.5 * (x3 == "B") + 1.0 * (x3 == "C") + rng.normal(0, 1, n)
    full = pd.DataFrame({"y": y, "x1": x1, "x2": x2, "x3": x3})
    d = full.copy()
    # MAR on the fully observed outcome: larger y, more missing
    for col, a in (("x1", -1.0), ("x2", -1.3), ("x3", -1.2)):
        miss = rng.random(n) < 1 / (1 + np.exp(-(a + 0.8 * (y - y.mean()))))
        d.loc[miss, col] = np.nan
    return full, d


def make() -> pd.DataFrame:
    return generate(np.random.default_rng(20240506), 400)[1]


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
