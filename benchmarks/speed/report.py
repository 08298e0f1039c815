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

from .report_ate import ate_section, rmst_section
from .report_format import cell, fmt_time, index, met
from .report_sections import batched_split, memory, parallel, scaling
from .report_summary import spread, summary

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
        rows.append(f"| {label} | {cell(ours)} | {cell(ref)} | {ratio_s} | "
                    f"{', '.join(targets) or '–'} | {met(ok)} |")
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
        out += batched_split(ix)
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
    out += ate_section(ix, fmt_time, cell)
    out += rmst_section(ix, _pair_rows)
    out += scaling(data)
    out += parallel(ix)
    out += memory(ix)
    return out


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


def render(data: dict, runs: list[dict] | None = None, versus: dict | None = None) -> str:
    lines = header(data) + summary(data) + tables(data) + spread([data, *(runs or [])])
    if versus is not None:  # whole commands against an earlier commit (speed.versus)
        from .versus import report as versus_report

        lines += ["## Whole commands against the code before the one-package change", "",
                  versus_report(versus), ""]
    return "\n".join(lines + [NOTES]).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="pytest-benchmark JSON (--benchmark-json)")
    parser.add_argument("--runs", type=Path, nargs="+", default=[], metavar="JSON",
                        help="further runs of the suite: adds the spread of the main ratios "
                             "over all runs")
    parser.add_argument("--versus", type=Path, metavar="JSON",
                        help="a run of benchmarks.speed.versus: adds its table")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    loaded = []
    for path in [args.json, *args.runs, *([args.versus] if args.versus else [])]:
        try:
            loaded.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            parser.error(f"json: cannot read {path}: {exc}")
    versus = loaded.pop() if args.versus else None
    data, runs = loaded[0], loaded[1:]
    text = render(data, runs, versus)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
