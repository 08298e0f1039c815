"""Matched pairs (treated member x, control member y) for McNemar, paired t and Wilcoxon
signed-rank tests: binary rows with few and many discordant pairs (and none, and b == c),
continuous rows without ties (exact Wilcoxon), large (normal approximation), and with
ties and zero differences (normal approximation with the tie correction)."""
from pathlib import Path

import numpy as np
import pandas as pd


def _binary(rng, n, p_x, p_y, rho):
    # correlated pairs from a latent bivariate normal
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], n)
    from scipy.stats import norm
    return (z[:, 0] < norm.ppf(p_x)).astype(int), (z[:, 1] < norm.ppf(p_y)).astype(int)


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20251205)
    parts = []
    for case, (n, px, py, rho) in {"bin_many": (82, 0.45, 0.30, 0.4),
                                   "bin_few": (40, 0.20, 0.12, 0.6)}.items():
        x, y = _binary(rng, n, px, py, rho)
        parts.append(pd.DataFrame({"case": case, "x": x, "y": y}))
    parts.append(pd.DataFrame({"case": "bin_equal", "x": [1, 0, 1, 0, 1, 1], "y": [0, 1, 1, 0, 0, 1]}))
    parts.append(pd.DataFrame({"case": "bin_concordant", "x": [1, 0, 1, 1], "y": [1, 0, 1, 1]}))
    x = rng.normal(55, 10, 30)
    parts.append(pd.DataFrame({"case": "cont_exact", "x": x, "y": x - rng.normal(2, 6, 30)}))
    x = rng.lognormal(3, 1, 120)
    parts.append(pd.DataFrame({"case": "cont_large", "x": x, "y": x * rng.lognormal(0.1, 0.5, 120)}))
    x = np.round(rng.normal(7, 3, 40))
    parts.append(pd.DataFrame({"case": "cont_ties", "x": x, "y": x + np.round(rng.normal(0.5, 2, 40))}))
    return pd.concat(parts, ignore_index=True)


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
