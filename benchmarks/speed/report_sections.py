"""Sections of the speed report after the main tables: the batched split, scaling with n,
the study runner's n_jobs throughput and the n = 100,000 memory rows."""
from __future__ import annotations

import math

import numpy as np

from .report_format import cell, fmt_time, median_of, met

SCALING = {
    "cox": "weighted Cox, robust SE (Breslow)",
    "km": "weighted KM + median",
    "logistic": "logistic PS model (20 coefficients)",
    "generate": "generate cohort (no true PS)",
    "replicate": "full IPTW replicate",
}
NLOGN_KERNELS = ("cox", "km")
#: A kernel "is O(n log n)" here when its fitted exponent exceeds that of n log n over the
#: same sizes by less than this (an O(n^2) step would add about 1).
EXPONENT_SLACK = 0.15
FIT_FROM = 1_000
PARALLEL_TARGET = 1.8


def exponent(ns: list[int], times: list[float]) -> tuple[float, float]:
    """Least-squares slope of log(time) on log(n) for n >= FIT_FROM, and the slope that
    n log n itself has over the same sizes."""
    sel = [(n, t) for n, t in zip(ns, times) if n >= FIT_FROM]
    if len(sel) < 2:
        return math.nan, math.nan
    x = np.log([n for n, _ in sel])
    k = float(np.polyfit(x, np.log([t for _, t in sel]), 1)[0])
    k_ref = float(np.polyfit(x, np.log([n * math.log(n) for n, _ in sel]), 1)[0])
    return k, k_ref


def batched_split(ix: dict) -> list[str]:
    """How much of a batched IPTW replicate is cohort generation, from this run's rows."""
    whole, gen = median_of(ix, "replicate_iptw_batch"), median_of(ix, "generate_batch")
    if not (math.isfinite(whole) and math.isfinite(gen)):
        return []
    return [f"Of the batched IPTW replicate's {fmt_time(whole)}, generating the cohort takes "
            f"{fmt_time(gen)} (row \"generate cohorts, batched\" below) and the analysis "
            f"(logistic PS model, weights, Cox, two KM medians) the other "
            f"{fmt_time(whole - gen)}.", ""]


def scaling(data: dict) -> list[str]:
    by_kernel: dict[str, dict[int, dict]] = {}
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        if str(info.get("case", "")).startswith("scaling_"):
            by_kernel.setdefault(info["kernel"], {})[int(info["n"])] = b
    if not by_kernel:
        return []
    sizes = sorted({n for v in by_kernel.values() for n in v})
    out = ["## Scaling with n (one cohort of n patients)", "",
           "Cells: median time. Exponent k: least-squares slope of log(fastest round) on "
           f"log(n) for n ≥ {FIT_FROM:,} (the fastest round, because interference from other "
           "jobs only ever adds time); n log n itself has the slope in the next column over "
           f"the same sizes. A kernel is judged O(n log n) when k ≤ that slope + "
           f"{EXPONENT_SLACK}. Past ~30,000 rows the working arrays leave the CPU caches, "
           "which steepens every kernel's curve a little.", "",
           "| kernel | " + " | ".join(f"n={n:,}" for n in sizes) +
           " | k | n log n | O(n log n)? |",
           "|---|" + "---|" * (len(sizes) + 3)]
    for kernel, label in SCALING.items():
        got = by_kernel.get(kernel)
        if not got:
            continue
        ns = sorted(got)
        k, k_ref = exponent(ns, [got[n]["stats"]["min"] for n in ns])
        verdict = "–"
        if kernel in NLOGN_KERNELS and math.isfinite(k):
            verdict = "yes" if k <= k_ref + EXPONENT_SLACK else "**no**"
        cells = [fmt_time(got[n]["stats"]["median"]) if n in got else "–" for n in sizes]
        out.append(f"| {label} | " + " | ".join(cells) +
                   f" | {k:.2f} | {k_ref:.2f} | {verdict} |")
    return out + [""]


def parallel(ix: dict) -> list[str]:
    b = ix.get("runner_pairs")
    if b is None:
        return []
    info = b["extra_info"]
    reps = info["reps"]
    out = ["## Study runner throughput, n_jobs = 1 vs 2", "",
           f"{reps:,} replicates of one seed-000 scenario with the IPTW method "
           "(`benchmarks.runner.run_study`, results written to disk). Each round runs the "
           "batch with n_jobs = 1 and then 2, so that both see the same load; timed rounds "
           "reuse the workers started by an untimed warm-up (`cold`, start-up included).", "",
           "| n_jobs | seconds per batch (rounds) | replicates / s (median) | cold run |",
           "|---|---|---|---|"]
    for n in (1, 2):
        secs = info[f"seconds_n_jobs_{n}"]
        out.append(f"| {n} | {', '.join(f'{x:.2f}' for x in secs)} | "
                   f"{reps / float(np.median(secs)):,.0f} | "
                   f"{info[f'cold_seconds_n_jobs_{n}']:.2f} s |")
    ratio = info["ratio"]
    cold = info["cold_seconds_n_jobs_1"] / info["cold_seconds_n_jobs_2"]
    out += ["", f"Throughput ratio n_jobs=2 / n_jobs=1, median over rounds: **{ratio:.2f}x** "
            f"(per round: {', '.join(f'{r:.2f}' for r in info['ratios'])}; target ≥ "
            f"{PARALLEL_TARGET}x: {met(ratio >= PARALLEL_TARGET)}); cold runs: {cold:.2f}x. "
            f"Replicates whose PS model did not converge: {info.get('not_converged', '–')}."]
    return out + [""]


def memory(ix: dict) -> list[str]:
    rows = []
    for case, label in (("memory_replicate", "full IPTW replicate (generate + analyse)"),
                        ("memory_generate_with_true_ps", "generate cohort with the exact true PS")):
        b = ix.get(case)
        if b is None:
            continue
        info = b["extra_info"]
        rows.append(f"| {label} | {cell(b)} | {info['peak_traced_mb']:.1f} MB | "
                    f"{info['max_rss_mb']:.0f} MB |")
    if not rows:
        return []
    return ["## n = 100,000 in one cohort: time and peak memory", "",
            "Peak traced memory: tracemalloc peak during one call (numpy buffers included). "
            "Max RSS: the benchmark process's peak resident set so far (interpreter, "
            "libraries and every earlier benchmark included).", "",
            "| | time | peak traced | max RSS |", "|---|---|---|---|", *rows, ""]
