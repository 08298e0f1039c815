"""Rates of "not reproduced" over the closed loop's papers, with Monte Carlo SEs.

Numbers of one paper share its cohort and its calibration, so they are not independent:
the Monte Carlo SE of a share is the cluster (ratio-estimator) SE over papers,

    p = sum x_i / sum n_i,   SE^2 = m / (m - 1) * sum (x_i - p n_i)^2 / (sum n_i)^2,

with ``x_i`` the flagged and ``n_i`` the judged numbers of paper ``i`` among ``m`` papers
(Cochran 1977, ch. 6); with one number per paper it is the binomial SE.

References
----------
Cochran, W. G. (1977). Sampling Techniques, 3rd ed. Wiley.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .slips import INDEPENDENT

__all__ = ["Share", "cluster_share", "quantity_class", "null_table", "power_table",
           "to_markdown", "report", "main"]

NOT_REPRODUCED = "not reproduced"
UNDETERMINED = "undetermined"   # (replications.verdicts.UNDETERMINED)


@dataclass(frozen=True)
class Share:
    """A share over papers: ``flagged / judged`` with its cluster MCSE."""

    flagged: int
    judged: int
    papers: int
    share: float
    mcse: float


def cluster_share(paper: np.ndarray, flagged: np.ndarray) -> Share:
    """The share of ``flagged`` (0/1 per number) with its MCSE clustered by ``paper``."""
    df = pd.DataFrame({"p": np.asarray(paper), "x": np.asarray(flagged, float)})
    g = df.groupby("p")["x"].agg(["sum", "count"])
    m, n, x = len(g), float(g["count"].sum()), float(g["sum"].sum())
    if n == 0:
        return Share(0, 0, 0, math.nan, math.nan)
    p = x / n
    se = (math.sqrt(m / (m - 1) * float(((g["sum"] - p * g["count"]) ** 2).sum())) / n
          if m > 1 else math.nan)
    return Share(int(x), int(n), m, p, se)


def _true(x) -> bool:
    """A flag read from a row or a CSV cell (True, "True")."""
    return x is True or x is np.True_ or str(x) == "True"


def quantity_class(row) -> str:
    """The kind of number a result row is, for the tables."""
    a, q = row["analysis"], row["quantity"]
    if q == "shift":
        return "shift crude->" + row["id"].split("_to_")[-1]
    if a == "crude":
        return {"hr": "crude HR", "km_rate": "crude KM rate",
                "km_median": "crude KM median (calibration)",
                "count": "deaths (calibration)"}.get(q, f"crude {q}")
    if a == "univariable":
        return ("univariable HR, covariate in cohort.toml" if _true(row.get("transcribed"))
                else "univariable HR, covariate not in cohort.toml")
    if a == "multivariable":
        return ("multivariable HR, treatment" if _true(row.get("contrast"))
                else "multivariable HR, covariate (cohort.toml effect)")
    if a == "iptw":
        return {"hr": "IPTW HR", "km_median": "IPTW weighted KM median",
                "weighted_group_size": "IPTW weighted group size"}.get(q, f"iptw {q}")
    if a == "imaging":
        return {"rate": "response rate (counts in cohort.toml)",
                "odds_ratio": "response odds ratio"}.get(q, f"imaging {q}")
    return f"{a} {q}"


def _judged(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with a verdict (not 'not estimable'): an undetermined number is judged and
    not flagged, so that a rate of 'not reproduced' is per number judged, as a reader of
    the verdicts meets them (counting it out of the denominator made both the false rate
    and the power look larger than the procedure makes them)."""
    return rows[rows["verdict"].isin(["reproduced", NOT_REPRODUCED, UNDETERMINED])]


def null_table(rows: pd.DataFrame, by=("kind", "class"), slip: str = "",
               role: str = "predicted") -> pd.DataFrame:
    """Share of clean predicted numbers (and shifts) judged "not reproduced", per ``by``;
    ``slip = INDEPENDENT``: the same for the control rows; ``role = "calibration"``: the
    same for the numbers cohort.toml is given (how closely the simulation returns them)."""
    clean = rows[(rows["slip"] == slip) & (rows["role"] == role)].copy()
    clean["class"] = clean.apply(quantity_class, axis=1)
    out = []
    for key, g in clean.groupby(list(by), sort=True):
        j = _judged(g)
        s = cluster_share(j["paper"].astype(str) + j["kind"], j["verdict"] == NOT_REPRODUCED)
        out.append(dict(zip(by, key if isinstance(key, tuple) else (key,)), judged=s.judged,
                        # (within 2 MC SE of a bound at R: neither judged nor hidden)
                        undetermined=int((g["verdict"] == UNDETERMINED).sum()),
                        not_estimable=int((g["verdict"] == "not estimable").sum()),
                        papers=s.papers, not_reproduced=s.flagged, rate=s.share, mcse=s.mcse,
                        z_spread=_z_spread(j["z"])))
    return pd.DataFrame(out)


def _z_spread(z) -> float:
    """Robust SD of the judged numbers' z (1.4826 MAD about 0; 1 when the reported numbers
    scatter around the simulated medians as much as the simulation spreads)."""
    z = np.asarray(z, float)
    z = z[np.isfinite(z)]
    return float(1.4826 * np.median(np.abs(z))) if z.size else math.nan


def power_table(rows: pd.DataFrame, by=("kind", "slip", "what")) -> pd.DataFrame:
    """Share of slipped numbers flagged, per kind of world, slip and what was judged (the
    slipped HR or its crude -> adjusted shift); the clean rows of the same numbers are the
    ``slip = "none"`` baseline."""
    sl = rows[~rows["slip"].isin(["", INDEPENDENT])].copy()
    base = rows[(rows["slip"] == "") & rows["id"].isin(set(sl["id"]))].copy()
    base["slip"] = "none"
    both = pd.concat([base, sl])
    both["what"] = np.where(both["quantity"] == "shift", "shift", "HR")
    both["number"] = both["id"].str.replace("os_hr_crude_to_", "os_hr_", regex=False)
    out = []
    for key, g in both.groupby(list(by), sort=True):
        j = _judged(g)
        s = cluster_share(j["paper"].astype(str) + j["kind"], j["verdict"] == NOT_REPRODUCED)
        out.append(dict(zip(by, key), judged=s.judged,
                        undetermined=int((g["verdict"] == UNDETERMINED).sum()),
                        flagged=s.flagged, power=s.share, mcse=s.mcse,
                        mean_size=float(g["size"].abs().mean())))
    return pd.DataFrame(out)


def to_markdown(df: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table of ``df`` (floats to ``digits`` decimals)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(rows: pd.DataFrame) -> str:
    """The markdown tables of a run's result rows: pooled and per-kind false rates, power."""
    rows = rows.copy()
    for c in ("slip", "role", "analysis", "quantity", "id"):
        rows[c] = rows[c].fillna("")
    pooled = null_table(rows.assign(all="all predicted numbers"), by=("kind", "all"))
    return "\n\n".join([
        "False 'not reproduced' rate (clean papers, predicted numbers), all numbers "
        "(rate = not_reproduced / judged; judged: every number with a verdict, the "
        "undetermined ones, within 2 Monte Carlo SEs of a bound at R, included as not "
        "flagged):",
        to_markdown(pooled), "Per kind of number:", to_markdown(null_table(rows)),
        "Calibration numbers (given to cohort.toml, judged apart from the predictions):",
        to_markdown(null_table(rows, role="calibration")),
        "Power to flag a planted slip:", to_markdown(power_table(rows))]
        + (["Control: numbers of an independent cohort of the same world, judged against "
            "each paper's draws:", to_markdown(null_table(rows, slip=INDEPENDENT))]
           if (rows["slip"] == INDEPENDENT).any() else []))


def main(argv=None) -> int:
    """``python -m tacebench.benchmarks.closed_loop.summary DIR/results.csv``: the tables."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tacebench.benchmarks.closed_loop.summary RESULTS_CSV")
        return 2
    print(report(pd.read_csv(args[0], keep_default_na=False, na_values=[""])))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
