"""Lesson 4 — immortal time: how "duration of sorafenib" manufactures a benefit.

Seed 002 reports, in its TACE+sorafenib arm, a hazard ratio of 0.9 per month of sorafenib
from a Cox model with the duration as a *baseline* covariate (Table 5). A patient must be
alive to accumulate months of therapy, so long durations belong to long survivors whatever
sorafenib does (Suissa 2008, Am J Epidemiol 167:492; Lévesque et al. 2010, BMJ 340:b5087).
Cohorts shaped like that arm (``worlds.toml``): in world ``null`` sorafenib duration has
no effect at all, in world ``benefit`` each month truly multiplies the hazard by 0.95.
Per cohort, on the 245 TACE+sorafenib patients (``benchmarks.methods.immortal``):

* naive Cox: observed months on sorafenib as a baseline covariate (the paper);
* time-varying Cox: cumulative months on sorafenib, updated at every death time
  (counting-process rows, robust SE clustered on patient);
* landmark Cox at 3 and 6 months: patients alive at the landmark, months on sorafenib
  before it, survival after it (Anderson, Cain & Gelber 1983) — null world only, because
  with a real effect that continues after the landmark it answers a different question.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import _core as core
from . import worlds as worlds_
from . import figures as figs
from . import report as rep

LESSON = "immortal-time"
TITLE = "Immortal time: how 'duration of sorafenib' manufactures a benefit"
FULL_REPS, FAST_REPS = 200, 70
ESTIMAND = "HR per month on sorafenib"
METHODS = (("naive", "Naive Cox, duration at baseline (paper)", {"variant": "naive_duration"}),
           ("tv", "Time-varying Cox, months so far", {"variant": "tv_duration"}),
           ("landmark3", "Landmark at 3 months", {"variant": "landmark", "landmark": 3.0}),
           ("landmark6", "Landmark at 6 months", {"variant": "landmark", "landmark": 6.0}))
LANDMARK_WORLDS = ("null",)
#: Per-cohort columns of the null world whose means the story reports.
PER_COHORT_NUMBERS = ("wait_months", "died_before_start", "start_at_tace", "dur_mean", "dur_sd",
                      "dur_median", "dur_q1", "dur_q3", "dur_under_1")
PAPER_TARGET = "os_hr_sorafenib_duration_sorafenib_arm_primary_multivariable"


def _methods_of(world: str):
    return [m for m in METHODS if not m[0].startswith("landmark") or world in LANDMARK_WORLDS]


def _fit_one(cols: dict, world: str) -> dict[str, float]:
    from ..methods import immortal, validate_method

    out = {}
    n1 = int(cols["treated"].sum())
    for m, _, opts in _methods_of(world):
        cfg = validate_method("immortal", opts)
        out.update(core.guarded(lambda: immortal.fit(cols, cfg, None), m))
        out[f"{m}_n"] = out.get(f"{m}_at_landmark", n1)
    z = cols["treated"] == 1
    start = cols["systemic_start"][z]
    started = np.isfinite(start)
    out["wait_months"] = float(start[started].mean())
    out["died_before_start"] = float(((~started) & (cols["os_event"][z] == 1)).mean())
    out["start_at_tace"] = float((start == 0).mean())
    out.update(observed_durations(cols["systemic_duration"][z][started]))
    return out


def observed_durations(months: np.ndarray) -> dict[str, float]:
    """Summary of the months on sorafenib as a cohort records them: the planned course cut
    short by death or censoring (patients who started only)."""
    if months.size < 2:
        return {}
    q1, median, q3 = np.percentile(months, [25, 50, 75])
    return {"dur_mean": float(months.mean()), "dur_sd": float(months.std(ddof=1)),
            "dur_median": float(median), "dur_q1": float(q1), "dur_q3": float(q3),
            "dur_under_1": float((months < 1).mean())}


def compute(seed: int, n_reps: int, *, cache=core._DEFAULT):
    """Replicates and truths of every world.

    ``cache``: where the result is kept (default :data:`_core.RUNS_CACHE`; ``None``
    recomputes).
    """
    seed, n_reps = core.check_seed(seed), core.check_reps(n_reps)
    return core.memo(cache, (LESSON, seed, n_reps), lambda: _compute(seed, n_reps))


def _compute(seed: int, n_reps: int):
    study, cohort, worlds = worlds_.load_worlds(LESSON)
    design = core.cohort_design(seed, n_reps)
    seed0 = core.first_cohort_seed(design)
    runs = {}
    for name, world in worlds.items():
        spec, plan = worlds_.world_plan(study, cohort, world)
        df = core.replicate(plan, design, lambda cols: _fit_one(cols, name))
        runs[name] = {"df": df, "plan": plan, "truth": {"hr_per_month": float(world.factors["hr_per_month"])},
                      "duration": spec.cohort(cohort).time_varying.duration}
    return study, worlds, runs, seed0


def _covered(est: np.ndarray, se: np.ndarray) -> np.ndarray:
    """1 where the 95% Wald interval contains HR 1, 0 where not, NaN where the fit failed."""
    ok = np.isfinite(est) & np.isfinite(se)
    return np.where(ok, core.covers(est, se, 0.0), np.nan)


def _claims(runs: dict, paper: float) -> list[core.Claim]:
    def bias(world, m):
        return core.bias_values(runs[world]["df"], m, runs[world]["truth"]["hr_per_month"])

    null = runs["null"]["df"]
    return [
        core.mean_claim("null_naive_spurious",
                        "With no true effect, the naive duration model still finds a protective "
                        "HR per month (log HR < 0).", null["naive"], upper=0.0),
        core.mean_claim("null_naive_like_paper",
                        f"Its HR per month is within 5% of the paper's {paper:g}: the published "
                        f"'benefit' of longer sorafenib is what immortal time alone produces.",
                        null["naive"] - math.log(paper), lower=-0.05, upper=0.05),
        core.share_claim("null_naive_ci_misses",
                        "Its 95% confidence intervals contain the true value 1 in fewer than "
                        "half of the cohorts: precise and wrong.",
                        _covered(null["naive"].to_numpy(float), null["naive_se"].to_numpy(float)),
                        upper=0.5),
        core.mean_claim("null_tv_unbiased",
                        "The time-varying Cox model finds no effect (log HR per month within "
                        "±0.02 of 0).", bias("null", "tv"), lower=-0.02, upper=0.02),
        core.mean_claim("null_landmark_unbiased",
                        "The 6-month landmark analysis finds no effect either (log HR within "
                        "±0.1 of 0; it is much less precise).", bias("null", "landmark6"),
                        lower=-0.1, upper=0.1),
        core.mean_claim("landmark_less_precise",
                        "The landmark analysis pays with precision: its standard error at 6 "
                        "months is more than twice that of the time-varying model.",
                        null["landmark6_se"] / null["tv_se"], lower=2.0),
        core.mean_claim("benefit_tv_recovers",
                        "When each month truly has HR 0.95, the time-varying model recovers it "
                        "(log HR within ±0.02 of the truth)…", bias("benefit", "tv"),
                        lower=-0.02, upper=0.02),
        core.mean_claim("benefit_naive_exaggerates",
                        "…while the naive model exaggerates it (its HR per month is further "
                        "below 1 than the truth).", bias("benefit", "naive"), upper=0.0),
    ]


def _story(res: core.LessonResult) -> list[str]:
    n = res.numbers
    lines = [f"Sorafenib starts {n['wait_months']:.2f} months after TACE on average among "
             f"those who start ({100 * n['start_at_tace']:.0f}% of the patients start at TACE "
             f"itself: their bars in the swimmer plot have no grey stretch), and "
             f"{100 * n['died_before_start']:.1f}% of the patients die before starting: the "
             f"naive model files them under 'zero months of sorafenib'.",
             f"Planned courses of sorafenib are drawn with mean {n['planned_mean']:g} (SD "
             f"{n['planned_sd']:g}) months; death and censoring cut them short, so the "
             f"recorded durations of those who start average {n['dur_mean']:.1f} (SD "
             f"{n['dur_sd']:.1f}) months, median {n['dur_median']:.1f} (IQR "
             f"{n['dur_q1']:.1f}–{n['dur_q3']:.1f}), and {100 * n['dur_under_1']:.0f}% are "
             f"under 1 month (means over cohorts). The paper: \"{n['paper_durations']}\", "
             "in patients who took sorafenib for more than 1 month."]
    for w, label in res.worlds.items():
        parts = [f"{e.label} {e.hr:.3f}" for e in res.estimates if e.world == w]
        lines.append(f"**{label}** (true {ESTIMAND} {res.truths[w]['hr_per_month']:.2f}): "
                     + "; ".join(parts) + ".")
    lines.append(f"The paper reported {n['paper_hr']:.2f} per month (Table 5, multivariable).")
    return lines


def _figures(worlds, runs, seed0, n_reps: int, out: Path) -> dict:
    from tacebench.simulate import generate_cohort

    cohort = generate_cohort(runs["null"]["plan"], seed=seed0, with_ps=False)
    c = cohort.columns
    z = c["treated"] == 1
    t, e = c["os_time"][z], c["os_event"][z]
    start, dur = c["systemic_start"][z], c["systemic_duration"][z]
    pick = np.random.default_rng(seed0).choice(t.size, 30, replace=False)
    pick = pick[np.argsort(t[pick])]
    paths = {"swimmer": figs.save(figs.swimmer_figure(
        t[pick], e[pick], start[pick], dur[pick], xmax=55,
        title="30 TACE+sorafenib patients of one simulated cohort (sorafenib has no effect)"),
        out / "figures" / f"{LESSON}-swimmer.png")}
    on = np.where(np.isfinite(start), dur, 0.0)
    groups = [("< 3 months", on < 3), ("3–12 months", (on >= 3) & (on < 12)), (">= 12 months", on >= 12)]
    curves = [figs.Curve(f"sorafenib {lab}", t[g], e[g], color=figs.ARM_COLORS[k])
              for k, (lab, g) in enumerate(groups)]
    paths["km"] = figs.save(figs.km_figure(
        [figs.Panel("Grouped by total months on sorafenib (known only at the end)", curves)],
        xmax=48, step=12, suptitle="A 'dose-response' that sorafenib did not cause (true effect: none)"),
        out / "figures" / f"{LESSON}-km.png")
    rows, reps = [], {}
    for w in worlds:
        df = runs[w]["df"]
        for m, label, _ in _methods_of(w):
            rows.append({"world": w, "method": m, "label": label, "truth": runs[w]["truth"]["hr_per_month"],
                         "hr": float(np.exp(df[m].mean())), "n_analysed": float(df[f"{m}_n"].mean()),
                         "emp_sd": float(df[m].std(ddof=1))})
            reps[(w, m)] = df[m].to_numpy(float)
    paths["estimates"] = figs.save(figs.estimates_figure(
        pd.DataFrame(rows), reps, title=f"Effect of each month on sorafenib, {n_reps} cohorts per world",
        xlabel="Hazard ratio of death per month on sorafenib (log scale)",
        groups={k: v.label for k, v in worlds.items()}), out / "figures" / f"{LESSON}-estimates.png")
    return paths


def summary(res: core.LessonResult) -> str:
    """The generated numbers block of the walkthrough (and of the report)."""
    return rep.summary_block(res, _story(res), scale="HR per month")


def run_lesson(seed: int = core.DEFAULT_SEED, out: str | Path = "teach-out", *,
               n_reps: int | None = None, fast: bool = False) -> core.LessonResult:
    """Run lesson 4 end to end (``fast``: :data:`FAST_REPS` cohorts per world)."""
    started = time.perf_counter()
    seed, out = core.check_seed(seed), core.check_out(out)
    n_reps = core.resolve_reps(n_reps, fast, FULL_REPS, FAST_REPS)
    study, worlds, runs, seed0 = compute(seed, n_reps)
    paper = float(core.published_target(study, PAPER_TARGET)["value"])
    null = runs["null"]["df"]
    planned = runs["null"]["duration"]
    numbers = {"paper_hr": paper, "planned_mean": planned.mean, "planned_sd": planned.sd,
               "paper_durations": planned.source,
               **{k: float(null[k].mean()) for k in PER_COHORT_NUMBERS}}
    ests = [core.summarise(runs[w]["df"], w, m, label, ESTIMAND, runs[w]["truth"]["hr_per_month"])
            for w in worlds for m, label, _ in _methods_of(w)]
    figures = _figures(worlds, runs, seed0, n_reps, out)
    res = core.LessonResult(LESSON, TITLE, study, seed, n_reps,
                            {w: dict(runs[w]["truth"]) for w in worlds}, tuple(ests),
                            tuple(_claims(runs, paper)), numbers,
                            {k: v.label for k, v in worlds.items()}, {}, figures)
    intro = (f"Seed 002 found HR {paper:g} per month of sorafenib. Here sorafenib does nothing, "
             "and the same analysis finds the same 'benefit'.")
    return core.finish(res, out, started, lambda r: rep.render_report(
        r, _story(r), intro=intro, scale="HR per month"))
