"""Cohort whose propensity model quasi-completely separates (seed 20261204).

Like seed 003's Table 1 (ALBI grade 3 in 0 of 26 controls): a binary covariate ``g`` that
no control patient has (level 1 among treated patients only), a continuous ``x`` and a
binary ``b`` that both arms have; survival times with a treatment effect and uniform
censoring. ``glm(treated ~ g + x + b, binomial)`` separates: the coefficient of ``g``
diverges while the fitted probabilities, and the weights built on them, converge.
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20261204)
    n = 140
    treated = rng.binomial(1, 0.35, n)
    g = np.where(treated == 1, rng.binomial(1, 0.3, n), 0)
    x = np.round(rng.normal(0.4 * treated, 1.0, n), 3)
    b = rng.binomial(1, 0.4 + 0.2 * treated, n)
    hazard = 0.05 * np.exp(-0.5 * treated + 0.3 * x + 0.4 * g)
    t = rng.exponential(1 / hazard)
    c = rng.uniform(6, 40, n)
    time = np.round(np.minimum(t, c), 2)
    event = (t <= c).astype(int)
    return pd.DataFrame({"treated": treated, "g": g, "x": x, "b": b, "time": time,
                         "event": event})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
