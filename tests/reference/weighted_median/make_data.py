"""Samples for the (weighted) median of a Table 1 covariate: unweighted with odd and even n
and ties, integer (frequency) weights, including a cumulative weight exactly half the total,
and real-valued weights (IPTW-like, lognormal)."""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20261205)
    parts = []
    x = rng.normal(58, 10, 41)
    parts.append(pd.DataFrame({"case": "odd", "kind": "none", "x": x, "w": 1.0}))
    x = rng.normal(58, 10, 60)
    parts.append(pd.DataFrame({"case": "even", "kind": "none", "x": x, "w": 1.0}))
    x = np.round(rng.normal(7, 3, 50))
    parts.append(pd.DataFrame({"case": "ties", "kind": "none", "x": x, "w": 1.0}))
    x = rng.lognormal(3, 1, 37)
    parts.append(pd.DataFrame({"case": "integer", "kind": "frequency", "x": x,
                               "w": rng.integers(1, 5, 37).astype(float)}))
    parts.append(pd.DataFrame({"case": "integer_half", "kind": "frequency",
                               "x": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 1.0, 1.0, 1.0]}))
    parts.append(pd.DataFrame({"case": "integer_split", "kind": "frequency",
                               "x": [5.0, 1.0, 9.0, 2.0], "w": [2.0, 3.0, 1.0, 2.0]}))
    x = rng.normal(58, 10, 200)
    parts.append(pd.DataFrame({"case": "real", "kind": "survey", "x": x,
                               "w": rng.lognormal(0, 0.6, 200)}))
    x = rng.lognormal(2, 1.2, 75)
    parts.append(pd.DataFrame({"case": "real_skewed", "kind": "survey", "x": x,
                               "w": 1 / rng.uniform(0.05, 0.95, 75)}))
    return pd.concat(parts, ignore_index=True)


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
