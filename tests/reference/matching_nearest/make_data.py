"""Propensity scores for the MatchIt nearest-neighbour fixtures (seed 20240602).

300 units, about 30% treated, with poor overlap in the upper tail so that a 0.2-SD caliper
drops some treated units. Only ``ps`` and ``treated`` are used by the matchers; ``x`` lets
R's ``matchit`` formula have a covariate; ``time``/``event`` feed the matched-pair Cox fixture.
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20240602)
    n = 300
    x = rng.normal(size=n)
    eta = -1.1 + 1.3 * x + 0.5 * rng.normal(size=n)
    ps = 1 / (1 + np.exp(-eta))
    treated = rng.binomial(1, ps)
    # survival for the matched-pair Cox fixture (drawn last: the matching inputs above are
    # unchanged); times rounded to 0.5 month so that events tie
    t_death = rng.exponential(12.0, n) * np.exp(0.3 * treated - 0.4 * x)
    t_cens = rng.uniform(6, 48, n)
    time = np.maximum(np.round(np.minimum(t_death, t_cens) * 2) / 2, 0.5)
    event = (t_death <= t_cens).astype(int)
    return pd.DataFrame({"treated": treated, "x": x, "ps": ps, "time": time, "event": event})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
