"""Data of the Cox R fixture: one seed-000 replicate (n = 423) with its IPTW weights.

``time`` is the simulated OS in months (no tied event times); ``time_month`` the same
rounded up to whole months, which ties most deaths (the Efron vs Breslow stress case).
``w``: ATE weights from the paper's logistic PS model, truncated at the 1st/99th
percentiles (benchmarks/speed/pipelines.py). Written with 17 significant digits so R
reads the exact doubles. Regenerate with ``python make_data.py`` then
``Rscript --vanilla reference.R`` in this folder.
"""
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 1


def make() -> pd.DataFrame:
    from tacebench.estimators.kernels import fit_logistic
    from tacebench.estimators.kernels import iptw_weights_kernel

    from tacebench.benchmarks.speed import pipelines as P

    cols = P.cohort(P.plan(), SEED)
    z = cols["treated"].astype(np.float64)
    ps = fit_logistic(P.ps_design(cols), z, np.ones(z.size)).fitted
    w = iptw_weights_kernel(ps, z, "ATE", False, P.TRUNCATE)
    return pd.DataFrame({"time": cols["os_time"], "time_month": np.ceil(cols["os_time"]),
                         "event": cols["os_event"], "treated": cols["treated"], "w": w})


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
