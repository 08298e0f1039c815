"""Two arms of a continuous variable per sample, for the two-sample t-test fixture (seed
20261206).

Long format, one row per patient: ``sample`` (name), ``arm`` (``a`` or ``b``) and ``x``.
The samples span equal and unequal arm sizes (3 to 300) and SD ratios (1 to 4), where
Student's and Welch's t part, and a sample with equal means.
"""
from pathlib import Path

import numpy as np
import pandas as pd

#: name -> (n_a, mean_a, sd_a, n_b, mean_b, sd_b) of the normal draws
SAMPLES = {
    "equal_sizes": (50, 10.0, 2.0, 50, 11.0, 2.0),
    "unequal_sd": (150, 57.0, 10.0, 100, 54.0, 4.0),
    "small_unequal": (8, 3.0, 0.5, 25, 4.0, 2.0),
    "tiny": (3, 1.0, 1.0, 4, 2.5, 1.5),
    "large_close": (300, 100.0, 15.0, 120, 101.0, 30.0),
    "same_mean": (40, 5.0, 1.0, 60, 5.0, 3.0),
}


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20261206)
    rows = []
    for name, (na, ma, sa, nb, mb, sb) in SAMPLES.items():
        for arm, n, m, s in (("a", na, ma, sa), ("b", nb, mb, sb)):
            x = rng.normal(m, s, n)
            if name == "same_mean":                  # exactly equal sample means
                x = x - x.mean() + m
            rows += [{"sample": name, "arm": arm, "x": float(v)} for v in x]
    return pd.DataFrame(rows)


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
