"""2 x k, k x 2 and 2 x 2 tables for the contingency-test fixture (seed 20261205).

Long format, one row per cell: ``table`` (name), ``row``, ``col`` (1-based) and ``count``.
The named tables are the Table 1 rows and response tables of the shipped studies the audit
recomputes (multi-level rows of seeds 003 and 004, seed 004's response categories with an
empty CR column, a k x 2 transpose), the tables the audit's tests used before this fixture,
and 2 x 2 tables; the ``random_*`` tables are drawn with small and zero counts, where the
exact and chi-square p-values part.
"""
from pathlib import Path

import numpy as np
import pandas as pd

NAMED = {
    "ehm_pvtt_type_crude": [[26, 65, 36], [22, 57, 23]],
    "ehm_albi_grade_psm": [[9, 63, 10], [9, 59, 14]],
    "ehm_metastasis_organs_crude": [[35, 60, 32], [38, 38, 26]],
    "ehm_response_3m_psm": [[0, 6, 44, 32], [0, 17, 40, 25]],
    "ehm_response_6m_psm": [[0, 5, 11, 66], [0, 15, 15, 52]],
    "lung_albi_crude": [[9, 17, 0], [84, 53, 4]],
    "lung_liver_diameter_crude": [[2, 4, 9, 11], [6, 15, 46, 74]],
    "lung_liver_diameter_k_by_2": [[2, 6], [4, 15], [9, 46], [11, 74]],
    "four_levels": [[2, 42, 65, 63], [23, 35, 74, 29]],
    "small_2x3": [[1, 2, 3], [4, 5, 1]],
    "ehs_orr_2x2": [[234, 48], [86, 30]],
    "sparse_2x2": [[3, 1], [1, 3]],
}


def make() -> pd.DataFrame:
    rng = np.random.default_rng(20261205)
    tables = dict(NAMED)
    for i in range(6):
        k = int(rng.integers(3, 6))
        tables[f"random_{i}"] = rng.integers(0, 9, size=(2, k)).tolist()
    rows = [{"table": name, "row": r + 1, "col": c + 1, "count": int(x)}
            for name, t in tables.items() for r, line in enumerate(t) for c, x in enumerate(line)]
    return pd.DataFrame(rows)


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
