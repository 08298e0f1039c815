"""Lesson 3 — matching on the wrong variables: balance where it is easy, not where it matters.

Cohorts shaped like seed 002's unresectable cohort *before* matching: its 245
TACE+sorafenib patients and a pool of 735 TACE patients drawn from the published TACE-arm
distribution (``worlds.toml``). The paper matched 1:1 on sex, age (< 50 / >= 50), tumour
size (< 5 / >= 5 cm) and number (single / multiple); its matched Table 1 still shows PVTT,
AFP >= 400 and ECOG 2 imbalanced. Per cohort:

* exact 1:1 matching on those four variables, Cox clustered on pair
  (``benchmarks.methods.matching``, ``method = "exact"``) — the paper's design;
* the same matched cohort, Cox adjusted for PVTT — the paper's multivariable Table 2;
* 1:1 nearest-neighbour PS matching (caliper 0.2 SD of the logit PS; Austin 2011) on all
  eleven measured baseline variables;
* IPTW Cox with ATT weights from the same PS model.

Two worlds: OS depends on PVTT only (what the paper reports), or also on ECOG and AFP
(illustrative). Truth: the marginal HR among the treated (ATT); for the PVTT-adjusted Cox,
the conditional HR.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import _core as core
from . import worlds as worlds_
from . import figures as figs
from . import report as rep

LESSON = "wrong-matching-variables"
TITLE = "Matching on the wrong variables"
FULL_REPS, FAST_REPS = 400, 100
#: The paper's matching variables (as generated columns, with the published cut points) and
#: the baseline variables of its Table 1, as the binary columns the paper reports.
MATCH_ON = ("male", "age", "tumor_size", "multiple_nodules")
CUTS = {"age": [50.0], "tumor_size": [5.0]}
BANDS = {"age_ge50": ("age", 50.0), "size_ge5": ("tumor_size", 5.0), "afp_ge400": ("afp", 400.0)}
TABLE1 = ("male", "age_ge50", "size_ge5", "multiple_nodules", "pvtt", "afp_ge400", "ecog",
          "ascites", "cirrhosis", "extrahepatic_metastasis", "child_pugh")
MATCHED_BALANCE = ("male", "age_ge50", "size_ge5", "multiple_nodules")
LEFT_OVER = ("pvtt", "afp_ge400", "ecog")
METHODS = (("exact", "Exact matching on sex, age, size, number", "marginal HR (ATT)", "marginal_hr_att"),
           ("exact_pvtt", "Exact matching + Cox adjusted for PVTT (paper)", "conditional HR", "conditional_hr"),
           ("psm_all", "PS matching on all 11 variables", "marginal HR (ATT)", "marginal_hr_att"),
           ("iptw_att", "IPTW (ATT) on all 11 variables", "marginal HR (ATT)", "marginal_hr_att"))


def with_bands(cols: dict) -> dict:
    """The cohort columns plus the binary bands the paper's Table 1 reports."""
    out = dict(cols)
    for name, (src, cut) in BANDS.items():
        out[name] = (np.asarray(cols[src]) >= cut).astype(float)
    return out


def _configs() -> dict[str, dict]:
    from ..methods import validate_method

    exact = {"method": "exact", "on": list(MATCH_ON), "cut": CUTS,
             "balance": [*MATCHED_BALANCE, *LEFT_OVER]}
    return {"exact": validate_method("matching", exact),
            "exact_pvtt": validate_method("matching", {**exact, "adjust": ["pvtt"], "balance": []}),
            "psm_all": validate_method("matching", {"method": "nearest", "covariates": list(TABLE1),
                                                    "caliper": 0.2}),
            "iptw_att": validate_method("weighting", {"covariates": list(TABLE1), "weights": "ATT"})}


def _fit_one(cols: dict, rng: np.random.Generator, cfg: dict) -> dict[str, float]:
    from ..methods import matching, weighting
    from ..methods._common import balance

    data = with_bands(cols)
    out = {f"before_{k}": v for k, v in balance(data, [*MATCHED_BALANCE, *LEFT_OVER]).items()}
    # the same random draw of tied controls for both exact-matched analyses
    state = rng.bit_generator.state
    for m in ("exact", "exact_pvtt", "psm_all"):
        rng.bit_generator.state = state
        out.update(core.guarded(lambda: matching.fit(data, cfg[m], rng), m))
    out.update(core.guarded(lambda: weighting.fit(data, cfg["iptw_att"], None), "iptw_att"))
    n = cols["treated"].size
    for m in ("exact", "exact_pvtt", "psm_all"):
        if f"{m}_matched_sets" in out:
            out[f"{m}_n"] = n - out[f"{m}_dropped_treated"] - out[f"{m}_dropped_control"]
    out.update(iptw_att_n=n, n_treated=float(cols["treated"].sum()))
    return out


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
    cfg = _configs()
    runs = {}
    for name, world in worlds.items():
        _, plan = worlds_.world_plan(study, cohort, world)
        df = core.replicate(plan, design, lambda cols, rng: _fit_one(cols, rng, cfg), with_rng=True)
        runs[name] = {"df": df, "truth": worlds_.true_hrs(plan), "plan": plan}
    return study, worlds, runs, seed0


def _bias(runs, world, m):
    key = {k: t for k, _, _, t in METHODS}[m]
    return core.bias_values(runs[world]["df"], m, runs[world]["truth"][key])


def _claims(runs: dict) -> list[core.Claim]:
    df = runs["published"]["df"]
    worst_matched = max(MATCHED_BALANCE, key=lambda c: df[f"exact_smd_{c}"].mean())
    least_left = min(LEFT_OVER, key=lambda c: df[f"exact_smd_{c}"].mean())
    return [
        core.mean_claim("matched_variables_balanced",
                        "Exact matching balances the four matching variables perfectly (mean "
                        "|SMD| after matching below 0.01 for each).",
                        df[f"exact_smd_{worst_matched}"], lower=-0.01, upper=0.01),
        core.mean_claim("others_left_imbalanced",
                        "It leaves PVTT, AFP >= 400 and ECOG 2 as imbalanced as before (each "
                        "keeps a mean |SMD| above 0.1).", df[f"exact_smd_{least_left}"], lower=0.1),
        core.mean_claim("published_exact_towards_null",
                        "When PVTT is prognostic (as published), the exact-matched HR is closer "
                        "to 1 than the HR that adjusts for every measured variable (IPTW, next "
                        "statement): more TACE+sorafenib patients have PVTT, which hides part "
                        "of the benefit.", runs["published"]["df"]["exact"]
                        - runs["published"]["df"]["iptw_att"], lower=0.0),
        core.mean_claim("published_adjusted_close",
                        "IPTW on all measured variables lands within 10% of the truth.",
                        _bias(runs, "published", "iptw_att"), lower=-0.1, upper=0.1),
        core.mean_claim("published_pvtt_adjustment_close",
                        "Adjusting the matched analysis for PVTT, as the paper's Table 2 did, "
                        "brings it within 10% of the conditional HR when PVTT is the only "
                        "prognostic factor.", _bias(runs, "published", "exact_pvtt"),
                        lower=-0.1, upper=0.1),
        core.mean_claim("ecog_afp_exact_close",
                        "When ECOG and AFP are prognostic too, the imbalances pull in opposite "
                        "directions (fewer ECOG 2, more PVTT and high AFP among the treated) and "
                        "the exact-matched HR happens to land within 10% of the truth.",
                        _bias(runs, "ecog_afp", "exact"), lower=-0.1, upper=0.1),
        core.mean_claim("ecog_afp_pvtt_adjustment_misleads",
                        "…and adjusting the matched analysis for PVTT alone, as the paper did, "
                        "then overstates the benefit (its HR is further below 1 than the "
                        "conditional HR).", _bias(runs, "ecog_afp", "exact_pvtt"), upper=0.0),
    ]


def _story(res: core.LessonResult) -> list[str]:
    n = res.numbers
    lines = [f"After exact matching {n['kept_treated']:.1f} of {n['n_treated']:.0f} "
             f"TACE+sorafenib patients on average find a partner; mean |SMD| after matching: "
             + ", ".join(f"{c} {n[f'smd_after_{c}']:.2f} (before {n[f'smd_before_{c}']:.2f})"
                         for c in LEFT_OVER) + "; matching variables 0."]
    for w, label in res.worlds.items():
        parts = [f"{res.estimate(w, m).label} {res.estimate(w, m).hr:.2f}" for m, *_ in METHODS]
        lines.append(f"**{label}**: true ATT HR {res.truths[w]['marginal_hr_att']:.2f}, "
                     f"conditional HR {res.truths[w]['conditional_hr']:.2f}; " + "; ".join(parts) + ".")
    lines.append(f"The paper reported {n['paper_crude']:.2f} for the matched comparison and "
                 f"{n['paper_adjusted']:.2f} after adjusting for PVTT.")
    return lines


def _figures(worlds, runs, seed0, n_reps: int, out: Path) -> tuple[dict, dict]:
    from tacebench.estimators.balance import balance_table
    from tacebench.simulate import generate_cohort

    from ..methods import matching

    run = runs["published"]
    rng = np.random.default_rng(seed0)
    cohort = generate_cohort(run["plan"], seed=rng, with_ps=False)
    ctrl, trt = core.arm_names(cohort)
    data = with_bands(cohort.columns)
    m = matching.match(data, _configs()["exact"], rng)
    frame = pd.DataFrame({k: data[k] for k in ("treated", *TABLE1)})
    bt = balance_table(frame, "treated", list(TABLE1), weights=m.weights)
    smd = bt.smd(weighted=False).to_frame("before matching").join(
        bt.smd(weighted=True).to_frame("after exact matching"))
    paths = {"love": figs.save(figs.love_figure(
        smd, title=(f"Balance before and after exact matching on sex, age, size and number\n"
                    f"(one cohort: {int(data['treated'].sum())} treated, "
                    f"{int((1 - data['treated']).sum())} TACE-pool patients)"),
        before="before matching", after="after exact matching", highlight=list(LEFT_OVER),
        highlight_note="red: imbalanced in the paper's matched Table 1"),
        out / "figures" / f"{LESSON}-love.png")}
    t, e, z = data["os_time"], data["os_event"], data["treated"]
    c0, c1 = figs.ARM_COLORS[:2]
    panels = []
    for title, mm in (("Exact-matched on sex, age, size, number", m),
                      ("PS-matched on all 11 variables", matching.match(data, _configs()["psm_all"], rng))):
        kept = np.zeros(z.size, bool)
        kept[mm.rows] = True
        panels.append(figs.Panel(f"{title} (n = {kept.sum()})",
                                 [figs.Curve(ctrl, t[kept & (z == 0)], e[kept & (z == 0)], color=c0),
                                  figs.Curve(trt, t[kept & (z == 1)], e[kept & (z == 1)], color=c1)]))
    paths["km"] = figs.save(figs.km_figure(panels, xmax=48, step=12, xlabel="Months since diagnosis",
                                           suptitle="One simulated cohort shaped like seed 002 (world: as published)"),
                            out / "figures" / f"{LESSON}-km.png")
    rows, reps = [], {}
    for w in worlds:
        df = runs[w]["df"]
        for m_, label, _, key in METHODS:
            rows.append({"world": w, "method": m_, "label": label, "truth": runs[w]["truth"][key],
                         "hr": float(np.exp(df[m_].mean())), "n_analysed": float(df[f"{m_}_n"].mean()),
                         "emp_sd": float(df[m_].std(ddof=1))})
            reps[(w, m_)] = df[m_].to_numpy(float)
    paths["estimates"] = figs.save(figs.estimates_figure(
        pd.DataFrame(rows), reps, title=f"TACE+sorafenib vs TACE over {n_reps} cohorts per world",
        xlabel="Hazard ratio of death, TACE+sorafenib vs TACE (log scale)",
        groups={k: v.label for k, v in worlds.items()}), out / "figures" / f"{LESSON}-estimates.png")
    table1 = rep.table_one(bt, control=ctrl, treated=trt, weighted="matched")
    return paths, {"table1": table1}


def summary(res: core.LessonResult) -> str:
    """The generated numbers block of the walkthrough (and of the report)."""
    return rep.summary_block(res, _story(res))


def run_lesson(seed: int = core.DEFAULT_SEED, out: str | Path = "teach-out", *,
               n_reps: int | None = None, fast: bool = False) -> core.LessonResult:
    """Run lesson 3 end to end (``fast``: :data:`FAST_REPS` cohorts per world)."""
    started = time.perf_counter()
    seed, out = core.check_seed(seed), core.check_out(out)
    n_reps = core.resolve_reps(n_reps, fast, FULL_REPS, FAST_REPS)
    study, worlds, runs, seed0 = compute(seed, n_reps)
    df = runs["published"]["df"]
    n1 = float(df["n_treated"].iloc[0])
    numbers = {"n_treated": n1, "kept_treated": n1 - float(df["exact_dropped_treated"].mean()),
               "paper_crude": float(core.published_target(study, "os_hr_crude_primary")["value"]),
               "paper_adjusted": float(core.published_target(study, "os_hr_multivariable_primary")["value"])}
    for c in (*MATCHED_BALANCE, *LEFT_OVER):
        numbers[f"smd_before_{c}"] = float(df[f"before_smd_{c}"].mean())
        numbers[f"smd_after_{c}"] = float(df[f"exact_smd_{c}"].mean())
    ests = [core.summarise(runs[w]["df"], w, m, label, estimand, runs[w]["truth"][key])
            for w in worlds for m, label, estimand, key in METHODS]
    figures, tables = _figures(worlds, runs, seed0, n_reps, out)
    res = core.LessonResult(LESSON, TITLE, study, seed, n_reps,
                            {w: dict(runs[w]["truth"]) for w in worlds}, tuple(ests),
                            tuple(_claims(runs)), numbers, {k: v.label for k, v in worlds.items()},
                            tables, figures)
    intro = ("The paper matched on the variables that were easy to match, not on those that "
             "predict death. Which imbalances survive, and does it matter?")
    extra = ("## Table 1 of one cohort, before and after exact matching\n\n"
             + rep.markdown_table(tables["table1"]) + "\n")
    return core.finish(res, out, started,
                       lambda r: rep.render_report(r, _story(r), intro=intro, extra=extra))
