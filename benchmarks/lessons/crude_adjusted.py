"""Lesson 1 — crude vs adjusted: what IPTW fixes, and the confounder it cannot see.

Cohorts shaped like seed 000 (Yuan et al.: TACE 294 vs TACE+sorafenib 129, HCC with
extrahepatic spread), in three worlds (``worlds.toml``) whose arms have the same KM curves
(each world's treatment HR is calibrated to the paper's medians) but whose truths differ:
``published`` (little measured confounding), ``indication`` (the sicker patients got TACES)
and ``hidden`` (also a socioeconomic confounder in no dataset). Estimators, per cohort:

* crude Cox (``benchmarks.methods.cox``), target: the marginal HR (ATE);
* IPTW Cox, ATE weights truncated at the 1st/99th percentiles as in the paper, main-effects
  logistic PS on all 20 measured covariates, Lin–Wei robust SE
  (``benchmarks.methods.weighting``), target: the marginal HR (ATE);
* multivariable Cox on the same covariates, target: the conditional HR.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import _core as core
from . import worlds as worlds_
from . import figures as figs
from . import report as rep

LESSON = "crude-vs-adjusted"
TITLE = "Crude vs adjusted: what IPTW fixes, and what it cannot"
FULL_REPS, FAST_REPS = 400, 100
U = "u_socioeconomic"
METHODS = (("crude", "Crude Cox", "marginal HR (ATE)", "marginal_hr_ate"),
           ("iptw", "IPTW Cox (ATE, truncated 1/99)", "marginal HR (ATE)", "marginal_hr_ate"),
           ("multi", "Multivariable Cox", "conditional HR", "conditional_hr"))


def _configs(covs: list[str]) -> dict[str, dict]:
    from ..methods import validate_method

    return {"crude": validate_method("cox", {}),
            "iptw": validate_method("weighting", {"covariates": covs, "truncate": [1, 99]}),
            "multi": validate_method("cox", {"covariates": covs})}


def _fit_one(cols: dict, covs: list[str], cfg: dict, with_balance: bool) -> dict[str, float]:
    from ..methods import cox, weighting
    from ..methods._common import balance

    out = {}
    out.update(core.guarded(lambda: cox.fit(cols, cfg["crude"], None), "crude"))
    out.update(core.guarded(lambda: weighting.fit(cols, cfg["iptw"], None), "iptw"))
    out.update(core.guarded(lambda: cox.fit(cols, cfg["multi"], None), "multi"))
    if not with_balance:
        return out
    try:
        w, _ = weighting.weights(cols, cfg["iptw"])
    except ValueError:
        return out
    before = balance(cols, [*covs, U])
    after = balance(cols, [*covs, U], w)
    out.update({f"before_{k}": v for k, v in before.items()})
    out.update({f"after_{k}": v for k, v in after.items()})
    return out


def compute(seed: int, n_reps: int, *, cache=core._DEFAULT):
    """Replicates, truths and the example cohort of every world (memoised per seed, n).

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
        covs = core.measured_covariates(spec, cohort)
        cfg = _configs(covs)
        # balance (costly: 2 x 21 SMDs per cohort) only where a claim uses it
        df = core.replicate(plan, design, lambda cols: _fit_one(cols, covs, cfg, name == "hidden"))
        runs[name] = {"df": df, "truth": worlds_.true_hrs(plan), "plan": plan, "covs": covs}
    return study, worlds, runs, seed0


def _example(run: dict, seed0, extra: tuple[str, ...] = ()):
    """The first cohort of a world with its PS, IPTW weights and the balance table of the
    measured covariates (and of ``extra`` columns such as the unmeasured confounder)."""
    from tacebench.estimators.balance import balance_table
    from tacebench.estimators.propensity import propensity_score
    from tacebench.estimators.weights import iptw_weights
    from tacebench.simulate import generate_cohort

    cohort = generate_cohort(run["plan"], seed=seed0, with_ps=False)
    frame = cohort.to_frame()
    pm = propensity_score(frame, "treated", run["covs"])
    w = iptw_weights(pm.ps, frame["treated"], estimand="ATE", truncate=(1, 99))
    bt = balance_table(frame, "treated", [*run["covs"], *extra], weights=w)
    return cohort, frame, w, bt


def _claims(worlds_runs: dict, ests: dict) -> list[core.Claim]:
    def bias(world, m):
        run = worlds_runs[world]
        key = dict((k, t) for k, _, _, t in METHODS)[m]
        return core.bias_values(run["df"], m, run["truth"][key])

    hid = worlds_runs["hidden"]["df"]
    covs = worlds_runs["hidden"]["covs"]
    means = {c: hid[f"after_smd_{c}"].mean() for c in covs}
    worst = max(means, key=means.get)
    return [
        core.mean_claim("published_crude_close",
                        "As published, the imbalances of Table 1 barely matter: the crude HR "
                        "is within 10% (0.1 on the log scale) of the true marginal HR.",
                        bias("published", "crude"), lower=-0.1, upper=0.1),
        core.mean_claim("indication_crude_towards_null",
                        "With confounding by indication the crude HR is closer to 1 than the "
                        "truth (log-HR bias > 0): the sicker TACES patients make TACES look "
                        "worse than it is.", bias("indication", "crude"), lower=0.0),
        core.mean_claim("indication_iptw_close",
                        "IPTW on the measured covariates removes that bias: its HR is within "
                        "10% of the true marginal HR.", bias("indication", "iptw"),
                        lower=-0.1, upper=0.1),
        core.mean_claim("hidden_measured_balanced",
                        f"With the hidden confounder, weighting still balances every measured "
                        f"covariate (the worst, {worst}, has mean |SMD| < 0.1 after weighting).",
                        hid[f"after_smd_{worst}"], upper=0.1),
        core.mean_claim("hidden_u_imbalanced",
                        "…but not the unmeasured one: u_socioeconomic keeps a mean |SMD| above "
                        "0.2 after weighting.", hid[f"after_smd_{U}"], lower=0.2),
        core.exact_claim("hidden_truth_closer_to_one",
                         "The hidden confounder explains part of the survival difference, so "
                         "the true marginal HR is closer to 1 than in the world without it "
                         "(difference of log truths > 0).",
                         float(np.log(worlds_runs["hidden"]["truth"]["marginal_hr_ate"]
                                      / worlds_runs["indication"]["truth"]["marginal_hr_ate"])),
                         lower=0.0),
        core.mean_claim("hidden_iptw_too_optimistic",
                        "So IPTW overstates the benefit: its HR lies further below 1 than the "
                        "true marginal HR (log-HR bias < 0).", bias("hidden", "iptw"), upper=0.0),
        core.smaller_bias_claim(
            "hidden_crude_less_biased",
            "In this world the crude HR is even closer to the truth than the IPTW HR (smaller "
            "absolute log-HR bias): the hidden confounder's pull towards benefit partly "
            "cancels the measured confounders' pull against it, and weighting removes only "
            "the latter.", hid["crude"], hid["iptw"],
            float(np.log(worlds_runs["hidden"]["truth"]["marginal_hr_ate"]))),
    ]


def _story(res: core.LessonResult) -> list[str]:
    lines = []
    for w, label in res.worlds.items():
        c, i, m = (res.estimate(w, k) for k in ("crude", "iptw", "multi"))
        lines.append(f"**{label}**: true marginal HR {c.truth:.2f}; crude {c.hr:.2f}, IPTW "
                     f"{i.hr:.2f}; multivariable Cox {m.hr:.2f} against its own target, the "
                     f"conditional HR {m.truth:.2f}. Crude 95% CIs cover the truth in "
                     f"{100 * c.coverage:.0f}% of cohorts, IPTW ones in {100 * i.coverage:.0f}%.")
    n = res.numbers
    lines.append(f"In the hidden world u_socioeconomic has |SMD| {n['u_smd_before']:.2f} "
                 f"before and {n['u_smd_after']:.2f} after weighting (mean over cohorts); the "
                 f"largest measured |SMD| after weighting averages {n['max_measured_smd_after']:.2f}.")
    return lines


def _figures(worlds, runs, seed0, n_reps: int, out: Path) -> tuple[dict, dict]:
    import pandas as pd

    ind = runs["indication"]
    cohort, frame, w, bt = _example(ind, seed0)
    ctrl, trt = core.arm_names(cohort)
    z = frame["treated"].to_numpy()
    t, e = frame["os_time"].to_numpy(), frame["os_event"].to_numpy()
    tr = ind["truth"]

    def curves(weights):
        return [figs.Curve(ctrl, t[z == 0], e[z == 0], None if weights is None else weights[z == 0],
                           figs.ARM_COLORS[0]),
                figs.Curve(trt, t[z == 1], e[z == 1], None if weights is None else weights[z == 1],
                           figs.ARM_COLORS[1])]
    refs = [(tr["median_control_ate"], figs.ARM_COLORS[0], f"true median if all {ctrl}"),
            (tr["median_treated_ate"], figs.ARM_COLORS[1], f"true median if all {trt}")]
    km = figs.km_figure([figs.Panel("Crude (as observed)", curves(None), refs),
                         figs.Panel("IPTW-weighted (ATE)", curves(w), refs)],
                        xmax=36, suptitle=f"One simulated cohort, world '{worlds['indication'].label}'")
    paths = {"km": figs.save(km, out / "figures" / f"{LESSON}-km.png")}

    _, _, _, hid_bt = _example(runs["hidden"], seed0, (U,))
    smd = hid_bt.smd(weighted=False).to_frame("before IPTW").join(
        hid_bt.smd(weighted=True).to_frame("after IPTW"))
    smd = smd.rename(index={U: f"{U} (unmeasured)"})
    love = figs.love_figure(smd, title="Balance before and after IPTW\n(one cohort of the hidden-confounder world)",
                            before="before IPTW", after="after IPTW",
                            highlight=[f"{U} (unmeasured)"],
                            highlight_note="red: not in the data, so not in the propensity model")
    paths["love"] = figs.save(love, out / "figures" / f"{LESSON}-love.png")

    rows, reps = [], {}
    for name in worlds:
        df = runs[name]["df"]
        for m, label, _, key in METHODS:
            rows.append({"world": name, "method": m, "label": label, "truth": runs[name]["truth"][key],
                         "hr": float(np.exp(np.nanmean(df[m]))), "n_analysed": np.nan,
                         "emp_sd": float(np.nanstd(df[m], ddof=1))})
            reps[(name, m)] = df[m].to_numpy(float)
    est = figs.estimates_figure(pd.DataFrame(rows), reps,
                                title=f"TACES vs TACE: estimates over {n_reps} cohorts per world",
                                xlabel="Hazard ratio of death, TACES vs TACE (log scale)",
                                groups={k: v.label for k, v in worlds.items()})
    paths["estimates"] = figs.save(est, out / "figures" / f"{LESSON}-estimates.png")
    return paths, {"table1": rep.table_one(bt, control=ctrl, treated=trt, weighted="IPTW")}


def summary(res: core.LessonResult) -> str:
    """The generated numbers block of the walkthrough (and of the report)."""
    return rep.summary_block(res, _story(res))


def run_lesson(seed: int = core.DEFAULT_SEED, out: str | Path = "teach-out", *,
               n_reps: int | None = None, fast: bool = False) -> core.LessonResult:
    """Run lesson 1 end to end: numbers, claims, figures and ``OUT/crude-vs-adjusted-report.md``.

    ``fast`` uses :data:`FAST_REPS` cohorts per world instead of :data:`FULL_REPS`
    (``n_reps`` overrides both).
    """
    started = time.perf_counter()
    seed, out = core.check_seed(seed), core.check_out(out)
    n = core.resolve_reps(n_reps, fast, FULL_REPS, FAST_REPS)
    study, worlds, runs, seed0 = compute(seed, n)
    ests = [core.summarise(runs[w]["df"], w, m, label, estimand, runs[w]["truth"][key])
            for w in worlds for m, label, estimand, key in METHODS]
    hid = runs["hidden"]["df"]
    covs = runs["hidden"]["covs"]
    numbers = {"u_smd_before": float(hid[f"before_smd_{U}"].mean()),
               "u_smd_after": float(hid[f"after_smd_{U}"].mean()),
               "max_measured_smd_after": float(max(hid[f"after_smd_{c}"].mean() for c in covs)),
               **{f"truth_{w}_{k}": float(v) for w in worlds for k, v in runs[w]["truth"].items()}}
    figures, tables = _figures(worlds, runs, seed0, n, out)
    res = core.LessonResult(LESSON, TITLE, study, seed, n,
                            {w: dict(runs[w]["truth"]) for w in worlds}, tuple(ests),
                            tuple(_claims(runs, ests)), numbers,
                            {k: v.label for k, v in worlds.items()}, tables, figures)
    intro = ("Three worlds, one dataset: in each world the two arms have the KM curves the paper "
             "published, but the truth behind them differs. Which estimator finds it?")
    extra = ("## Table 1 of one cohort (confounding-by-indication world)\n\n"
             + rep.markdown_table(tables["table1"]) + "\n")
    return core.finish(res, out, started,
                       lambda r: rep.render_report(r, _story(r), intro=intro, extra=extra))
