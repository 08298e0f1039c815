"""Counting-process data: delayed entry plus a time-varying treatment (row splitting).

160 subjects; 30% enter late (left truncation; kept only if still alive at entry).
About 60% start systemic therapy at ``s`` after baseline; their follow-up is split into
(entry, s] with ``x = 0`` and (s, stop] with ``x = 1`` (the immortal-time-correct
analysis). Times are on a half-month grid, so event times tie with each other and with
other rows' start times (which must not count as at risk: intervals are (start, stop]).
``w`` is a per-subject non-integer weight, ``id`` the subject (cluster).
"""
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 77031


def make() -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    rows = []
    sid = 0
    while sid < 160:
        z = rng.normal()
        male = int(rng.random() < 0.75)
        w = round(float(rng.uniform(0.6, 2.8)), 4)
        entry = np.ceil(rng.uniform(0, 3) * 2) / 2 if rng.random() < 0.3 else 0.0
        start_tx = np.ceil(rng.exponential(3.0) * 2) / 2 if rng.random() < 0.6 else np.inf
        rate = 0.06 * np.exp(0.4 * z + 0.3 * male)
        t0 = rng.exponential(1 / rate)
        death = t0 if t0 < start_tx else start_tx + rng.exponential(1 / (rate * 0.6))
        cens = rng.uniform(4, 30)
        stop = np.ceil(min(death, cens) * 2) / 2
        event = int(death <= cens)
        if stop <= entry:
            continue  # left truncation: never observed
        sid += 1
        if entry < start_tx < stop:
            rows.append((sid, entry, start_tx, 0, 0, z, male, w))
            rows.append((sid, start_tx, stop, event, 1, z, male, w))
        else:
            rows.append((sid, entry, stop, event, int(start_tx <= entry), z, male, w))
    df = pd.DataFrame(rows, columns=["id", "start", "stop", "event", "x", "z", "male", "w"])
    df["z"] = df["z"].round(4)
    return df


if __name__ == "__main__":
    make().to_csv(Path(__file__).with_name("data.csv"), index=False, float_format="%.17g")
