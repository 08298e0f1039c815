"""Turn a pytest-benchmark JSON of the speed suite into the Markdown of ``docs/speed.md``.

    python -m pytest benchmarks/speed --benchmark-only --benchmark-json=speed.json
    python -m tacebench.benchmarks.speed.report speed.json > docs/speed.md
    python -m tacebench.benchmarks.speed.report speed.json --runs speed2.json speed3.json \
        > docs/speed.md   # with the spread of the main ratios over three runs

Each benchmark's ``extra_info`` says what it is (``case``), which side (``ours`` or
``reference``), the case of its reference (``ref``) and any target; the tables pair them
by those keys, so the ratios are always from one run.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from .report_ate import ate_section, rmst_section

#: Row labels, in table order.
REPLICATES = {
    "replicate_iptw": "IPTW replicate: cohort, logistic PS, ATE weights truncated 1/99, "
                      "weighted Cox (robust SE), weighted KM medians x2",
    "replicate_iptw_public": "IPTW replicate through the public DataFrame API "
                             "(`propensity_score` on the frame, `iptw_weights`, `cox_ph` "
                             "robust, `kaplan_meier` per arm; no cohort generation, see below)",
    "replicate_psm": "PSM replicate: cohort, logistic PS, 1:1 NN matching (caliper 0.2 SD "
                     "logit), Cox clustered on pair",
    "replicate_iptw_batch": "IPTW replicate, batched (`estimators.batch`, "
                            "`simulate.generate_cohort_batch`), per replicate",
    "replicate_psm_batch": "PSM replicate, batched (matching still one replicate at a time), "
                           "per replicate",
}
KERNELS = {
    "generate_without_ps": "generate cohort (simulate), without the exact true PS",
    "generate_with_ps": "generate cohort (simulate), with the exact true PS",
    "generate_batch": "generate cohorts, batched (`simulate.generate_cohort_batch`, without "
                      "the true PS), per cohort",
    "logistic": "logistic PS model, IRLS (vs statsmodels Logit)",
    "weights": "ATE weights truncated 1/99 (vs plain numpy)",
    "cox_breslow_untied": "weighted Cox, robust SE, Breslow, no tied deaths (vs lifelines)",
    "cox_efron_untied": "weighted Cox, robust SE, Efron, no tied deaths (vs lifelines)",
    "cox_breslow_tied": "weighted Cox, robust SE, Breslow, whole-month times (lifelines has "
                        "no Breslow)",
    "cox_efron_tied": "weighted Cox, robust SE, Efron, whole-month times (vs lifelines)",
    "cox_breslow_untied_batch": "weighted Cox, robust SE, Breslow, no tied deaths, batched "
                                "(`estimators.batch`), per replicate",
    "cox_efron_untied_batch": "weighted Cox, robust SE, Efron, no tied deaths, batched, "
                              "per replicate",
    "cox_breslow_tied_batch": "weighted Cox, robust SE, Breslow, whole-month times, batched, "
                              "per replicate",
    "cox_efron_tied_batch": "weighted Cox, robust SE, Efron, whole-month times, batched, "
                            "per replicate",
    "km": "weighted Kaplan-Meier + median (vs lifelines)",
    "logrank": "log-rank, 2 groups (vs lifelines)",
    "matching": "1:1 NN matching, caliper 0.2 SD logit (vs brute-force greedy)",
    "ebal_att": "entropy balancing, ATT, 19 covariates (vs BFGS on the dual)",
    "ebal_att_infeasible": "entropy balancing, ATT, 26 controls (target outside their hull): "
                           "time to report failure (vs BFGS on the dual)",
    "cbps_ate": "just-identified CBPS, ATE, 19 covariates (vs scipy root on the moments)",
    "matching_weights": "matching weights (vs plain numpy)",
    "mahalanobis_matching": "1:1 Mahalanobis matching, 4 covariates (vs per-pair scipy loop)",
    "optimal_matching": "optimal 1:1 pair matching, logit PS (R reference: solve_LSAP fixture)",
    "match_estimate": "matching estimate + Abadie-Imbens SE, ATT, 4 covariates",
}
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
PUBLIC_TARGET = 50
#: Ratios compared across runs by ``--runs``: (label, ours, reference, target).
SPREAD = (
    ("IPTW replicate through the public DataFrame API", "replicate_iptw_public",
     "replicate_iptw_public_ref", PUBLIC_TARGET),
    ("IPTW replicate, batched", "replicate_iptw_batch", "replicate_iptw_ref", 100),
    ("IPTW replicate, one at a time (kernels)", "replicate_iptw", "replicate_iptw_ref", 100),
)


def fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _cell(b: dict | None) -> str:
    if b is None:
        return "–"
    s = b["stats"]
    return (f"{fmt_time(s['median'])} [{fmt_time(s['q1'])}–{fmt_time(s['q3'])}], "
            f"min {fmt_time(s['min'])}")


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


_TIMES = ("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3")


def index(data: dict) -> dict[str, dict]:
    """Benchmarks by case, with the times of a call that runs ``per_call`` replicates
    divided by ``per_call`` (time per replicate)."""
    out = {}
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        case = info.get("case")
        if case:
            k = int(info.get("per_call", 1))
            if k > 1:
                stats = {key: (v / k if key in _TIMES else v) for key, v in b["stats"].items()}
                b = {**b, "stats": stats}
            out[case] = b
    return out


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


def header(data: dict) -> list[str]:
    mi = data.get("machine_info", {})
    tb = mi.get("tacebench", {})
    v = tb.get("versions", {})
    load0 = ", ".join(f"{x:.2f}" for x in tb.get("load_average_start", []))
    load1 = ", ".join(f"{x:.2f}" for x in tb.get("load_average_end", []))
    blas = tb.get("blas_threads", "?")
    if isinstance(blas, dict):
        blas = "/".join(sorted({str(v) for v in blas.values()})) + " (" + ", ".join(blas) + ")"
    lines = [
        "# Speed",
        "",
        "Latest figures of the speed suite (`benchmarks/speed/`, pytest-benchmark). "
        "Regenerate with:",
        "",
        "```bash",
        "python -m pytest benchmarks/speed --benchmark-only --benchmark-json=speed.json",
        "python -m tacebench.benchmarks.speed.report speed.json > docs/speed.md",
        "```",
        "",
        "Times are medians with the interquartile range in brackets and the fastest round "
        "(the best estimate of the cost on a quiet machine); a ratio is the reference's "
        "median over ours (and fastest over fastest), both from the same run. Every timed kernel is first "
        "checked against its reference (lifelines, statsmodels, R `coxph` fixtures, a "
        "brute-force matcher), so a fast but wrong kernel fails the suite instead of "
        "looking good.",
        "",
        "| | |",
        "|---|---|",
        f"| date | {data.get('datetime', '?')} |",
        f"| commit | {tb.get('commit', data.get('commit_info', {}).get('id', '?'))} |",
        f"| machine | {tb.get('cpu_model', mi.get('cpu', {}).get('brand_raw', '?'))}, "
        f"{tb.get('cpu_count', '?')} cores, {mi.get('system', '?')} |",
        f"| load average (1, 5, 15 min) | start {load0}; end {load1} |",
        f"| BLAS threads | {blas}; processes, not threads, run in parallel |",
        f"| allocator | {tb.get('allocator', '?')} |",
        "| versions | " + ", ".join(f"{k} {val}" for k, val in v.items()) + " |",
        "",
    ]
    return lines


def _pair_rows(ix: dict, labels: dict[str, str]) -> list[str]:
    rows = []
    for case, label in labels.items():
        ours = ix.get(case)
        if ours is None:
            continue
        info = ours.get("extra_info", {})
        ref = ix.get(info.get("ref") or "")
        med = ours["stats"]["median"]
        ratio = ref["stats"]["median"] / med if ref else math.nan
        targets, oks = [], []
        if "target_us" in info:
            targets.append(f"≤ {info['target_us']} µs")
            oks.append(med * 1e6 <= info["target_us"])
        if "target_ratio" in info:
            targets.append(f"≥ {info['target_ratio']}x")
            oks.append(bool(ratio >= info["target_ratio"]))
        ok = all(oks) if oks else None
        ratio_s = "–"
        if math.isfinite(ratio):
            ratio_min = ref["stats"]["min"] / ours["stats"]["min"]
            ratio_s = f"{ratio:.1f}x (min {ratio_min:.1f}x)"
        rows.append(f"| {label} | {_cell(ours)} | {_cell(ref)} | {ratio_s} | "
                    f"{', '.join(targets) or '–'} | {_met(ok)} |")
    return rows


def tables(data: dict) -> list[str]:
    ix = index(data)
    out = []
    head = ("| | tacebench | reference | ratio | target | |", "|---|---|---|---|---|---|")
    rows = _pair_rows(ix, REPLICATES)
    if rows:
        out += ["## One replicate, n = 423 (seed 000)", "",
                "Reference: the same pipeline from statsmodels `Logit` and lifelines "
                "`CoxPHFitter(robust=True)` / `KaplanMeierFitter`; both sides generate the "
                "cohort with `simulate.generate_cohort` (without the exact true PS). The "
                "public-API row and its reference instead start from the same cohort "
                "DataFrames (`Cohort.to_frame()`, built before timing).", "",
                *head, *rows, ""]
        out += _batched_split(ix)
    rows = _pair_rows(ix, KERNELS)
    if rows:
        out += ["## Kernels, n = 423", "", *head, *rows, ""]
        notes = [b["extra_info"] for b in data["benchmarks"]
                 if "robust_se_rel_error" in b.get("extra_info", {})]
        for info in notes:
            out.append(f"- `{info['case']}`: lifelines' robust SE differs from R's by "
                       f"{100 * info['robust_se_rel_error']:+.3f}% (its sandwich ignores tied "
                       "deaths); ours equals R's to 1e-8.")
        if notes:
            out.append("")
    out += ate_section(ix, fmt_time, _cell)
    out += rmst_section(ix, _pair_rows)
    out += scaling(data)
    out += parallel(ix)
    out += memory(ix)
    return out


def _batched_split(ix: dict) -> list[str]:
    """How much of a batched IPTW replicate is cohort generation, from this run's rows."""
    whole, gen = _median(ix, "replicate_iptw_batch"), _median(ix, "generate_batch")
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
            f"{PARALLEL_TARGET}x: {_met(ratio >= PARALLEL_TARGET)}); cold runs: {cold:.2f}x. "
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
        rows.append(f"| {label} | {_cell(b)} | {info['peak_traced_mb']:.1f} MB | "
                    f"{info['max_rss_mb']:.0f} MB |")
    if not rows:
        return []
    return ["## n = 100,000 in one cohort: time and peak memory", "",
            "Peak traced memory: tracemalloc peak during one call (numpy buffers included). "
            "Max RSS: the benchmark process's peak resident set so far (interpreter, "
            "libraries and every earlier benchmark included).", "",
            "| | time | peak traced | max RSS |", "|---|---|---|---|", *rows, ""]


def _median(ix: dict, case: str) -> float:
    b = ix.get(case)
    return b["stats"]["median"] if b else math.nan


def summary(data: dict) -> list[str]:
    """The issue's targets, each with the number it is judged on."""
    ix = index(data)
    rows = []

    def row(target: str, value: str, ok: bool | None):
        rows.append(f"| {target} | {value} | {_met(ok)} |")

    iptw, iptw_ref = _median(ix, "replicate_iptw"), _median(ix, "replicate_iptw_ref")
    if math.isfinite(iptw):
        row("IPTW replicate, n = 423: ≤ 0.5 ms", fmt_time(iptw), iptw <= 5e-4)
    if math.isfinite(iptw) and math.isfinite(iptw_ref):
        ratio = iptw_ref / iptw
        row("IPTW replicate ≥ 100x faster than lifelines + statsmodels", f"{ratio:.0f}x",
            ratio >= 100)
    pub, pub_ref = _median(ix, "replicate_iptw_public"), _median(ix, "replicate_iptw_public_ref")
    if math.isfinite(pub) and math.isfinite(pub_ref):
        ratio = pub_ref / pub
        row(f"IPTW replicate through the public DataFrame API ≥ {PUBLIC_TARGET}x faster than "
            "lifelines + statsmodels", f"{ratio:.0f}x ({fmt_time(pub)})", ratio >= PUBLIC_TARGET)
    iptw_b = _median(ix, "replicate_iptw_batch")
    if math.isfinite(iptw_b):
        row("IPTW replicate, batched, n = 423: ≤ 0.5 ms", fmt_time(iptw_b), iptw_b <= 5e-4)
    if math.isfinite(iptw_b) and math.isfinite(iptw_ref):
        ratio = iptw_ref / iptw_b
        row("IPTW replicate, batched, ≥ 100x faster than lifelines + statsmodels",
            f"{ratio:.0f}x", ratio >= 100)
    psm = _median(ix, "replicate_psm")
    if math.isfinite(psm):
        row("PSM replicate, n = 423: ≤ 1 ms", fmt_time(psm), psm <= 1e-3)
    psm_b = _median(ix, "replicate_psm_batch")
    if math.isfinite(psm_b):
        row("PSM replicate, batched, n = 423: ≤ 1 ms", fmt_time(psm_b), psm_b <= 1e-3)
    for ties, limit in (("breslow", 120e-6), ("efron", 300e-6)):
        for kind in ("untied", "tied"):
            for suffix, how in (("", ""), ("_batch", ", batched")):
                t = _median(ix, f"cox_{ties}_{kind}{suffix}")
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


NOTES = """## How to read these numbers

- Two ways to run a replicate. *One at a time*: the one-replicate kernels
  (`fit_logistic`, `fit_cox`, `fit_km`, ...) on one cohort from `generate_cohort`, as
  the study runner and `tacebench replicate` do today. *Batched*: `estimators.batch` and
  `simulate.generate_cohort_batch` on 64 replicates per call (a runner chunk's size),
  reported per replicate (the call's time over 64). Every batched replicate equals the
  one-at-a-time replicate with the same seed (cohort bit for bit, log HR and SE to 1e-12,
  medians exactly; the suite checks this before timing), and its numbers do not depend on
  the batch it is in.
- Where the batched replicate's time goes beyond the split above (profiled, not timed by
  the suite): about half of the cohort is drawing its random numbers (6,768 standard
  normals per cohort, fixed by the seed streams), and most of the analysis is the logistic
  PS model (20 coefficients, 6-7 Newton iterations, an n x 20 x 20 product each).
- The suite, the `tacebench` command and the study runner's workers raise glibc's malloc
  trim/mmap thresholds (`estimators.batch.tune_allocator`, row "allocator" above): with
  the defaults, freed array memory went back to the OS and the next batch faulted it in
  again. `TACEBENCH_MALLOC_TUNE=0 python -m pytest benchmarks/speed ...` measures glibc's
  defaults for comparison; the one-at-a-time kernels do not depend on it.
- The machine is shared: other jobs run on its two cores while the suite runs (see the
  load averages above). Scheduling delays inflate wall-clock medians of calls that take
  a millisecond or more much more than those of short kernels. Two processes gain
  nothing over one when other jobs already fill both cores (the kernel also shares CPU
  between sessions, not processes), so the n_jobs ratio is only meaningful on a quiet
  machine. Compare ratios from one run; rerun on a quiet machine for absolute figures.
- The public-API row times what a user writes: a cohort DataFrame in,
  `propensity_score(frame, "treated", covariates)` (the design matrix built and validated
  from the frame, `child_pugh` a pandas Categorical), `iptw_weights`, `cox_ph(...,
  robust=True)` and `kaplan_meier` per arm, each validating its input. Its reference is the
  statsmodels + lifelines pipeline reading the same frames (`public_api.py`); neither side
  generates the cohort, so this ratio is that of the analyses alone.
- The other replicate pipelines include cohort generation (the same `simulate` call on both
  sides), so the ratio understates the estimators' own speed-up.
- Neither the replicate benchmarks nor the study runner compute the exact true propensity
  score (`with_ps=False`; no method reads it, and it is most of a cohort's generation
  time, see the two "generate cohort" rows).
- lifelines' `CoxPHFitter` has no Breslow option; without tied deaths Efron and Breslow
  coincide, so the untied Breslow row is compared with it too.
- The reference pipelines are timed at their default convergence settings, which is what
  a user runs; the correctness guards rerun them tightly (`pipelines.TIGHT`). At its
  defaults lifelines stops where the log-likelihood changes by less than 1e-7, up to
  ~3e-5 from the maximum on the log-HR scale (seed 1: 0.012849 against 0.012881, where
  R's `coxph` and tacebench agree to 1e-13); tightened, still up to ~1e-7 away.
"""


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
            a, b = _median(ix, case), _median(ix, ref)
            ratios.append(b / a if math.isfinite(a) and math.isfinite(b) else math.nan)
        got = [r for r in ratios if math.isfinite(r)]
        if not got:
            continue
        cells = " | ".join("–" if not math.isfinite(r) else f"{r:.0f}x" for r in ratios)
        rows.append(f"| {label} | {cells} | {min(got):.0f}-{max(got):.0f}x | ≥ {target}x | "
                    f"{_met(min(got) >= target) if len(got) == len(runs) else '–'} |")
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


def render(data: dict, runs: list[dict] | None = None) -> str:
    lines = header(data) + summary(data) + tables(data) + spread([data, *(runs or [])]) + [NOTES]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="pytest-benchmark JSON (--benchmark-json)")
    parser.add_argument("--runs", type=Path, nargs="+", default=[], metavar="JSON",
                        help="further runs of the suite: adds the spread of the main ratios "
                             "over all runs")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    loaded = []
    for path in [args.json, *args.runs]:
        try:
            loaded.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            parser.error(f"json: cannot read {path}: {exc}")
    data, runs = loaded[0], loaded[1:]
    text = render(data, runs)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
