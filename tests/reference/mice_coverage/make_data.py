"""100 replicate data sets (n = 300) of the mice_mar design (MAR on the outcome), for a
paired comparison of this package's imputation with R mice, data set by data set."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # repo root, for regenerate.sh
from tests.reference.mice_mar.make_data import generate  # noqa: E402

REPS, N = 100, 300


def make() -> pd.DataFrame:
    frames = []
    for rep, child in enumerate(np.random.SeedSequence(20240507).spawn(REPS)):
        _, d = generate(np.random.default_rng(child), N)
        d[["y", "x1"]] = d[["y", "x1"]].round(6)  # short, exact CSV
        frames.append(d.assign(rep=rep))
    return pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
