"""The ``docs/speed.md`` section comparing ``survival_ate`` with R ``riskRegression::ate``.

Ours from the suite's JSON (``bench_ate.py``, cases ``ate_<name>``); R's from the committed
``reference/ate_survival/timing.json`` (``timing.R``), whose date and load average are
printed with the table, since the two are not one run.
"""
from __future__ import annotations

import json
from pathlib import Path

TIMING = Path(__file__).resolve().parent / "reference" / "ate_survival" / "timing.json"
LABELS = {
    "all": "g-formula + IPTW + AIPTW, risks, differences and ratios at 3 horizons, IF SEs",
    "gformula": "g-formula (standardized Cox) alone",
    "iptw": "IPTW with censoring weights alone",
    "aiptw": "AIPTW (doubly robust) alone",
}


def ate_section(ix: dict, fmt_time, cell) -> list[str]:
    """Rows ``| label | ours | R | ratio |`` for the cases present in ``ix``."""
    if not any(f"ate_{k}" in ix for k in LABELS) or not TIMING.exists():
        return []
    r = json.loads(TIMING.read_text())
    meta = r.get("_meta", {})
    rows = []
    for key, label in LABELS.items():
        ours = ix.get(f"ate_{key}")
        if ours is None or key not in r:
            continue
        s, ref = ours["stats"], r[key]
        ref_cell = (f"{fmt_time(ref['median'])} [{fmt_time(ref['q1'])}–"
                    f"{fmt_time(ref['q3'])}], min {fmt_time(ref['min'])}")
        rows.append(f"| {label} | {cell(ours)} | {ref_cell} | {ref['median'] / s['median']:.1f}x "
                    f"(min {ref['min'] / s['min']:.1f}x) |")
    load = str(meta.get("load_average", "?")).split()[:3]
    return [
        "## Marginal survival contrasts vs R riskRegression::ate, n = 300", "",
        "`survival_ate` on the fixture `tests/reference/ate_survival` (Cox outcome and "
        "censoring models, logistic treatment model, horizons 6/12/24 months), models "
        "fitted inside each call on both sides, each case first checked against ate's "
        "values (risks to 1e-6, SEs to 1e-4 relative). R: "
        f"{meta.get('R', '?')}, riskRegression {meta.get('riskRegression', '?')}, "
        f"`system.time` of 25 calls after 3 untimed, measured {meta.get('date', '?')} at "
        f"load average {' '.join(load)} (`benchmarks/speed/reference/ate_survival/timing.R`;"
        " not the same run as our column).", "",
        "| | tacebench | R riskRegression::ate | ratio |", "|---|---|---|---|", *rows, ""]


RMST_LABELS = {
    f"rmst_{key}": label.replace("risks, differences and ratios", "RMSTs and differences")
    for key, label in LABELS.items()}


def rmst_section(ix: dict, pair_rows) -> list[str]:
    """``survival_rmst`` against the risks at every event time then summed (one run)."""
    rows = pair_rows(ix, RMST_LABELS)
    if not rows:
        return []
    return ["## RMST differences, n = 300", "",
            "`survival_rmst` on the same fixture (horizons 6/12/24 months) against the direct "
            "way (`bench_ate.ref_rmst`): `survival_ate` at every event time before 24 months "
            "(risks and their n x K influence functions), then the RMST's step-function sums. "
            "Ours contracts the influence functions with the step widths inside each "
            "estimator. Each pair first agrees (RMSTs to 1e-10, SEs to 1e-8 relative).", "",
            "| | tacebench | reference | ratio | target | |", "|---|---|---|---|---|---|",
            *rows, ""]
