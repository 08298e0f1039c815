"""The speed report's target table (each issue target with the number it is judged on) and
the spread of the main ratios over several runs of the suite."""
from __future__ import annotations

import math

from .report_format import fmt_time, index, median_of, met
from .report_sections import EXPONENT_SLACK, NLOGN_KERNELS, PARALLEL_TARGET, SCALING, exponent

PUBLIC_TARGET = 50
#: Ratios compared across runs by ``--runs``: (label, ours, reference, target).
SPREAD = (
    ("IPTW replicate through the public DataFrame API", "replicate_iptw_public",
     "replicate_iptw_public_ref", PUBLIC_TARGET),
    ("IPTW replicate, batched", "replicate_iptw_batch", "replicate_iptw_ref", 100),
    ("IPTW replicate, one at a time (kernels)", "replicate_iptw", "replicate_iptw_ref", 100),
)


def summary(data: dict) -> list[str]:
    """The issue's targets, each with the number it is judged on."""
    ix = index(data)
    rows = []

    def row(target: str, value: str, ok: bool | None):
        rows.append(f"| {target} | {value} | {met(ok)} |")

    iptw, iptw_ref = median_of(ix, "replicate_iptw"), median_of(ix, "replicate_iptw_ref")
    if math.isfinite(iptw):
        row("IPTW replicate, n = 423: ≤ 0.5 ms", fmt_time(iptw), iptw <= 5e-4)
    if math.isfinite(iptw) and math.isfinite(iptw_ref):
        ratio = iptw_ref / iptw
        row("IPTW replicate ≥ 100x faster than lifelines + statsmodels", f"{ratio:.0f}x",
            ratio >= 100)
    pub, pub_ref = median_of(ix, "replicate_iptw_public"), median_of(ix, "replicate_iptw_public_ref")
    if math.isfinite(pub) and math.isfinite(pub_ref):
        ratio = pub_ref / pub
        row(f"IPTW replicate through the public DataFrame API ≥ {PUBLIC_TARGET}x faster than "
            "lifelines + statsmodels", f"{ratio:.0f}x ({fmt_time(pub)})", ratio >= PUBLIC_TARGET)
    iptw_b = median_of(ix, "replicate_iptw_batch")
    if math.isfinite(iptw_b):
        row("IPTW replicate, batched, n = 423: ≤ 0.5 ms", fmt_time(iptw_b), iptw_b <= 5e-4)
    if math.isfinite(iptw_b) and math.isfinite(iptw_ref):
        ratio = iptw_ref / iptw_b
        row("IPTW replicate, batched, ≥ 100x faster than lifelines + statsmodels",
            f"{ratio:.0f}x", ratio >= 100)
    psm = median_of(ix, "replicate_psm")
    if math.isfinite(psm):
        row("PSM replicate, n = 423: ≤ 1 ms", fmt_time(psm), psm <= 1e-3)
    psm_b = median_of(ix, "replicate_psm_batch")
    if math.isfinite(psm_b):
        row("PSM replicate, batched, n = 423: ≤ 1 ms", fmt_time(psm_b), psm_b <= 1e-3)
    for ties, limit in (("breslow", 120e-6), ("efron", 300e-6)):
        for kind in ("untied", "tied"):
            for suffix, how in (("", ""), ("_batch", ", batched")):
                t = median_of(ix, f"cox_{ties}_{kind}{suffix}")
                if math.isfinite(t):
                    row(f"weighted Cox + robust SE, {ties.capitalize()}, {kind} times{how}: "
                        f"≤ {limit * 1e6:.0f} µs", fmt_time(t), t <= limit)
    pairs = ix.get("runner_pairs")
    if pairs is not None:
        ratio = pairs["extra_info"]["ratio"]
        row("n_jobs = 2 ≥ 1.8x the throughput of n_jobs = 1 (2,000 replicates)",
            f"{ratio:.2f}x", ratio >= PARALLEL_TARGET)
    for kernel in NLOGN_KERNELS:
        pts = sorted((b["extra_info"]["n"], b["stats"]["min"]) for b in data["benchmarks"]
                     if b.get("extra_info", {}).get("case") == f"scaling_{kernel}")
        if pts:
            k, k_ref = exponent([n for n, _ in pts], [t for _, t in pts])
            row(f"{SCALING[kernel]} is O(n log n) (k fitted over n = 1,000 ... 100,000)",
                f"k = {k:.2f} (n log n: {k_ref:.2f})", k <= k_ref + EXPONENT_SLACK)
    mem = ix.get("memory_replicate")
    if mem is not None:
        row("n = 100,000 in one cohort without excess memory (peak MB reported)",
            f"{mem['extra_info']['peak_traced_mb']:.0f} MB traced peak, "
            f"{fmt_time(mem['stats']['median'])}", None)
    if not rows:
        return []
    return ["## Speed targets", "", "| target | measured | |", "|---|---|---|", *rows, ""]


def _loads(data: dict) -> str:
    tb = data.get("machine_info", {}).get("tacebench", {})
    start, end = tb.get("load_average_start") or [], tb.get("load_average_end") or []
    if not (start and end):
        return "?"
    return f"{start[0]:.2f} → {end[0]:.2f}"


def spread(runs: list[dict]) -> list[str]:
    """Each ratio of ``SPREAD`` in every run (median over median, as the tables), with its
    range and the 1-minute load average at the start and end of the run."""
    if len(runs) < 2:
        return []
    rows = []
    for label, case, ref, target in SPREAD:
        ratios = []
        for data in runs:
            ix = index(data)
            a, b = median_of(ix, case), median_of(ix, ref)
            ratios.append(b / a if math.isfinite(a) and math.isfinite(b) else math.nan)
        got = [r for r in ratios if math.isfinite(r)]
        if not got:
            continue
        cells = " | ".join("–" if not math.isfinite(r) else f"{r:.0f}x" for r in ratios)
        rows.append(f"| {label} | {cells} | {min(got):.0f}-{max(got):.0f}x | ≥ {target}x | "
                    f"{met(min(got) >= target) if len(got) == len(runs) else '–'} |")
    if not rows:
        return []
    k = len(runs)
    return [f"## Spread over {k} runs", "",
            "The same ratios (reference median over ours) in each of the runs given to the "
            "report; the first run is the one the tables above come from. A target counts as "
            "met here only when every run meets it. Load average (1 min) at start → end of "
            "each run: " + "; ".join(f"run {i + 1}: {_loads(d)}" for i, d in enumerate(runs)) +
            ".", "",
            "| ratio | " + " | ".join(f"run {i + 1}" for i in range(k)) +
            " | range | target | every run |",
            "|---|" + "---|" * (k + 3), *rows, ""]
