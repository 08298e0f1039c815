"""Small hand-made KM curves for the edge cases of R's median / CI / RMST rules.

A: ten deaths at 1..10, so S is exactly 0.5 on [5, 6): R's median is the midpoint 5.5,
   and the last death takes S to 0.
B: ties and censoring mixed, last observation censored.
C: heavy censoring: the median and its upper limit are not reached.
D: a single event at the last time among censorings.
"""
from pathlib import Path

import pandas as pd


def make() -> pd.DataFrame:
    groups = {
        "A": ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1] * 10),
        "B": ([2, 2, 3, 5, 5, 7, 8, 8, 9, 12], [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]),
        "C": ([1, 2, 3, 4, 6, 8, 9, 11, 14, 15, 15, 16], [1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0]),
        "D": ([1, 2, 3, 4, 5], [0, 0, 0, 0, 1]),
    }
    rows = [(g, t, e) for g, (ts, es) in groups.items() for t, e in zip(ts, es)]
    return pd.DataFrame(rows, columns=["group", "time", "event"])


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
