"""Confounded cohort for the propensity-model and IPTW-weight fixtures (seed 20240601).

Covariates resemble seed 000's: tumour size (cm), tumour number, age >= 60, Child-Pugh
class (A5/A6/B7, categorical, reference A5), AFP >= 400; a non-integer case weight ``cw``
tests weighted glm. Treatment odds depend on all of them, with some extreme scores so that
truncation bites.
"""
from pathlib import Path

import numpy as np
import pandas as pd


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    n = 400
    size = np.round(rng.gamma(6.0, 1.8, n), 1)
    number = rng.poisson(2.0, n) + 1
    age60 = rng.binomial(1, 0.25, n)
    cp = rng.choice(np.array(["A5", "A6", "B7"]), size=n, p=[0.6, 0.3, 0.1])
    afp = rng.binomial(1, 0.4, n)
    eta = -1.2 + 0.12 * (size - 10) - 0.15 * number - 0.5 * age60 + 0.6 * afp
    eta += np.select([cp == "A6", cp == "B7"], [0.4, -1.5], 0.0)
    treated = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    cw = np.round(rng.uniform(0.3, 2.5, n), 3)
    return pd.DataFrame({"treated": treated, "size": size, "number": number, "age60": age60,
                         "child_pugh": cp, "afp400": afp, "cw": cw})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
