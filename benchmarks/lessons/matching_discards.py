"""Lesson 2 — matching throws patients away: how many, at what price, and for which estimand.

Cohorts shaped like seed 004 (Len+PD-1 102 vs Sora+PD-1 127, HCC with extrahepatic
metastasis). The paper's propensity model (12 dichotomised covariates, ``analysis.toml``)
and its 1:1 nearest-neighbour matching with a caliper of 0.2 SD of the propensity score
(MatchIt defaults: SD over all patients, largest score first) are repeated on every cohort,
next to estimators that keep every patient. Per cohort:

* crude Cox, all patients;
* PS matching 1:1 with the caliper, Cox clustered on matched pair
  (:func:`estimators.matching.matched_cox`) — the paper's analysis;
* the same matching without a caliper (every treated patient keeps a partner);
* IPTW Cox with ATE and with ATT weights (``benchmarks.methods.weighting``).

The truths are the marginal HRs of :func:`simulate.truth.true_estimands` for the whole
cohort (ATE) and for the Len+PD-1 patients (ATT), under the cohorts' own censoring
(:func:`.worlds.true_hrs`).
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

LESSON = "matching-discards"
TITLE = "Matching throws patients away"
FULL_REPS, FAST_REPS = 400, 100
#: The paper's propensity covariates, as cohort columns: (name, source column, cut) where a
#: cut dichotomises ``x >= cut`` (the paper's "> 60" etc.; see cohort.toml on the bins).
PS_COVARIATES = (("age_gt60", "age", 60.0), ("male", "male", None), ("alt_gt40", "alt", 40.0),
                 ("ast_gt40", "ast", 40.0), ("hbsag", "hbsag", None),
                 ("metastasis_organs", "metastasis_organs", None),
                 ("metastasis_sites_gt5", "metastasis_sites_gt5", None),
                 ("tumor_size_gt10", "tumor_size", 10.0),
                 ("tumor_number_gt3", "tumor_number_gt3", None),
                 ("pvtt_type", "pvtt_type", None), ("afp_gt400", "afp", 400.0),
                 ("tace", "tace", None))
CATEGORICAL = ("metastasis_organs", "pvtt_type")
CALIPER = dict(caliper=0.2, caliper_scale="ps_sd", caliper_sd="overall", order="largest")
METHODS = (("crude", "Crude Cox (everyone)", "marginal HR (ATE)", "marginal_hr_ate"),
           ("psm", "PS matching 1:1, caliper 0.2 SD", "marginal HR (ATT)", "marginal_hr_att"),
           ("psm_nocal", "PS matching 1:1, no caliper", "marginal HR (ATT)", "marginal_hr_att"),
           ("iptw_ate", "IPTW Cox, ATE weights", "marginal HR (ATE)", "marginal_hr_ate"),
           ("iptw_att", "IPTW Cox, ATT weights", "marginal HR (ATT)", "marginal_hr_att"))


def ps_columns(cols: dict) -> dict:
    """The paper's PS covariates as columns; categorical codes as integers so that
    :func:`benchmarks.methods.design` expands them into indicators."""
    out = {"treated": cols["treated"]}
    for name, src, cut in PS_COVARIATES:
        x = np.asarray(cols[src])
        out[name] = (x >= cut).astype(float) if cut is not None else (
            x.astype(np.int64) if name in CATEGORICAL else x)
    return out


def _fit_one(cols: dict) -> dict[str, float]:
    from tacebench.estimators.matching import matched_cox
    from tacebench.estimators.matching_nearest import match_nearest

    from ..methods import cox, validate_method, weighting
    from ..methods._common import propensity

    names = [n for n, _, _ in PS_COVARIATES]
    data = {**cols, **ps_columns(cols)}
    z = cols["treated"]
    n1, n = int(z.sum()), z.size
    out = core.guarded(lambda: cox.fit(data, validate_method("cox", {}), None), "crude")
    out.update(crude_n=n, n_treated=n1)
    for key in ("ATE", "ATT"):
        cfg = validate_method("weighting", {"covariates": names, "weights": key})
        m = f"iptw_{key.lower()}"
        out.update(core.guarded(lambda: weighting.fit(data, cfg, None), m))
        out[f"{m}_n"] = n
    try:
        ps, _ = propensity(data, names)
    except ValueError:
        return out
    for m, kw in (("psm", CALIPER), ("psm_nocal", {**CALIPER, "caliper": None})):
        mr = match_nearest(ps, z, **kw)
        fit = matched_cox(cols["os_time"], cols["os_event"], mr)
        if m == "psm":  # who is discarded: propensity of dropped minus kept, per arm
            kept = np.zeros(n, bool)
            kept[mr.rows] = True
            for arm, lab in ((1, "treated"), (0, "control")):
                a, b = ps[(z == arm) & ~kept], ps[(z == arm) & kept]
                out[f"drop_minus_kept_ps_{lab}"] = a.mean() - b.mean() if a.size and b.size else np.nan
        out.update({m: float(fit.coef[0]), f"{m}_se": float(fit.robust_se[0]),
                    f"{m}_n": float(mr.rows.size),
                    f"{m}_kept_treated": mr.n_matched["treated"] / n1,
                    f"{m}_kept_control": mr.n_matched["control"] / (n - n1),
                    f"{m}_kept": mr.rows.size / n})
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
    world = worlds["published"]
    _, plan = worlds_.world_plan(study, cohort, world)
    df = core.replicate(plan, design, _fit_one)
    return study, worlds, {"published": {"df": df, "truth": worlds_.true_hrs(plan), "plan": plan}}, seed0


def _claims(run: dict) -> list[core.Claim]:
    df, tr = run["df"], run["truth"]
    return [
        core.mean_claim("cohort_kept",
                        "1:1 caliper matching analyses less than 80% of the cohort.",
                        df["psm_kept"], upper=0.8),
        core.mean_claim("treated_dropped",
                        "It also drops Len+PD-1 patients who have no close Sora+PD-1 partner "
                        "(under 90% of them are kept), so the matched patients are not the "
                        "treated population any more.", df["psm_kept_treated"], upper=0.9),
        core.mean_claim("dropped_controls_low_ps",
                        "The discarded Sora+PD-1 patients have lower propensity scores than the "
                        "kept ones: they look least like Len+PD-1 patients.",
                        df["drop_minus_kept_ps_control"], upper=0.0),
        core.mean_claim("dropped_treated_high_ps",
                        "The discarded Len+PD-1 patients have higher propensity scores than the "
                        "kept ones: no comparable control exists for them.",
                        df["drop_minus_kept_ps_treated"], lower=0.0),
        core.mean_claim("ci_wider_than_crude",
                        "The matched analysis reports a standard error at least 10% larger "
                        "than the crude analysis of everyone (ratio of SEs > 1.1).",
                        df["psm_se"] / df["crude_se"], lower=1.1),
        core.mean_claim("ci_wider_than_iptw",
                        "Its reported standard error is also larger than that of IPTW (ATE), "
                        "which keeps every patient (ratio > 1).",
                        df["psm_se"] / df["iptw_ate_se"], lower=1.0),
        core.mean_claim("crude_too_optimistic",
                        "The crude HR of everyone is further below 1 than the truth (log-HR "
                        "bias < 0): the Len+PD-1 patients more often had 5 or fewer "
                        "metastatic sites and less often PVTT type III-IV.", core.bias_values(df, "crude", tr["marginal_hr_ate"]),
                        upper=0.0),
        core.mean_claim("matched_close",
                        "The caliper-matched HR is within 10% of the true ATT hazard ratio.",
                        core.bias_values(df, "psm", tr["marginal_hr_att"]), lower=-0.1, upper=0.1),
        core.mean_claim("no_caliper_narrower",
                        "Without a caliper more patients are kept and the reported SE is smaller "
                        "(ratio to the caliper-matched SE < 1)…", df["psm_nocal_se"] / df["psm_se"],
                        upper=1.0),
        core.mean_claim("no_caliper_drifts_to_crude",
                        "…but the poorly matched pairs bring back part of the crude bias: the "
                        "HR is further below 1 than with the caliper.", df["psm_nocal"] - df["psm"], upper=0.0),
        core.exact_claim("ate_att_coincide_here",
                         "In this world the marginal ATE and ATT hazard ratios happen to "
                         "coincide (log difference under 0.01). This is a finding of these "
                         "cohorts, not a consequence of the treatment's common conditional HR: "
                         "a marginal HR depends on the spread of risk in the population it "
                         "averages over, and the Len+PD-1 patients' risks are spread much like "
                         "everyone's.",
                         float(np.log(tr["marginal_hr_ate"] / tr["marginal_hr_att"])),
                         lower=-0.01, upper=0.01),
    ]


def _story(res: core.LessonResult) -> list[str]:
    n = res.numbers
    psm, crude = res.estimate("published", "psm"), res.estimate("published", "crude")
    ate, att = res.estimate("published", "iptw_ate"), res.estimate("published", "iptw_att")
    return [
        f"Matching keeps {n['kept_total']:.0f} of {n['cohort_n']:.0f} patients "
        f"({100 * n['kept_fraction']:.0f}%): {n['kept_treated']:.0f} of {n['n_treated']:.0f} "
        f"Len+PD-1 and {n['kept_control']:.0f} of {n['n_control']:.0f} Sora+PD-1 patients on "
        f"average (the paper kept {n['paper_kept_treated']:.0f} + {n['paper_kept_control']:.0f}).",
        f"Precision: the matched log-HR has empirical SD {psm.emp_sd:.3f} and mean reported SE "
        f"{psm.mean_se:.3f}; the crude analysis of everyone {crude.emp_sd:.3f} / {crude.mean_se:.3f} "
        f"(mean HR {crude.hr:.2f}, truth {crude.truth:.2f}); IPTW-ATE "
        f"{ate.emp_sd:.3f} / {ate.mean_se:.3f}; IPTW-ATT {att.emp_sd:.3f} / {att.mean_se:.3f} "
        f"(its weights leave an effective sample of {n['ess_att']:.0f} of {n['cohort_n']:.0f}).",
        f"Without a caliper every treated patient is matched ({n['nocal_kept_total']:.0f} "
        f"patients kept) and the mean HR is {res.estimate('published', 'psm_nocal').hr:.2f} "
        f"(with the caliper {psm.hr:.2f}, truth {psm.truth:.2f}).",
        f"ATE vs ATT: the treatment multiplies each patient's hazard by the conditional HR "
        f"{n['truth_conditional']:.3f}; the true marginal HR is {n['truth_ate']:.3f} for "
        f"everyone and {n['truth_att']:.3f} for the Len+PD-1 patients under the cohorts' "
        f"censoring ({n['truth_ate_uncensored']:.3f} and {n['truth_att_uncensored']:.3f} with "
        f"every patient followed until death); on the absolute scale the 12-month survival gain is "
        f"{100 * n['surv_diff_ate']:.1f} vs {100 * n['surv_diff_att']:.1f} percentage points.",
    ]


def _figures(run: dict, seed0, n_reps: int, out: Path, numbers: dict) -> dict:
    from tacebench.estimators.matching_nearest import match_nearest
    from tacebench.estimators.propensity import propensity_score
    from tacebench.simulate import generate_cohort

    cohort = generate_cohort(run["plan"], seed=seed0, with_ps=False)
    ctrl, trt = core.arm_names(cohort)
    cols = cohort.columns
    frame = pd.DataFrame(ps_columns(cols))
    names = [n for n, _, _ in PS_COVARIATES]
    pm = propensity_score(frame, "treated", names, categorical=list(CATEGORICAL))
    z = cols["treated"]
    mr = match_nearest(pm.ps, z, **CALIPER)
    kept = np.zeros(z.size, bool)
    kept[mr.rows] = True
    paths = {"ps": figs.save(figs.matching_figure(pm.ps, z, kept, control=ctrl, treated_label=trt),
                             out / "figures" / f"{LESSON}-ps.png")}
    t, e = cols["os_time"], cols["os_event"]
    c0, c1 = figs.ARM_COLORS[:2]
    panels = [figs.Panel(f"Entire cohort (n = {z.size})",
                         [figs.Curve(ctrl, t[z == 0], e[z == 0], color=c0),
                          figs.Curve(trt, t[z == 1], e[z == 1], color=c1)]),
              figs.Panel(f"PS-matched cohort (n = {kept.sum()})",
                         [figs.Curve(ctrl, t[kept & (z == 0)], e[kept & (z == 0)], color=c0),
                          figs.Curve(trt, t[kept & (z == 1)], e[kept & (z == 1)], color=c1)])]
    paths["km"] = figs.save(figs.km_figure(panels, xmax=30, xlabel="Months since start of treatment",
                                           suptitle="One simulated cohort shaped like seed 004"),
                            out / "figures" / f"{LESSON}-km.png")
    df = run["df"]
    rows = [{"world": "published", "method": m, "label": label, "truth": run["truth"][key],
             "hr": float(np.exp(df[m].mean())), "n_analysed": float(df[f"{m}_n"].mean()),
             "emp_sd": float(df[m].std(ddof=1))} for m, label, _, key in METHODS]
    reps = {("published", m): df[m].to_numpy(float) for m, *_ in METHODS}
    paths["estimates"] = figs.save(
        figs.estimates_figure(pd.DataFrame(rows), reps, title=(
            f"Len+PD-1 vs Sora+PD-1 over {n_reps} cohorts: n = patients analysed, "
            f"SD = spread of the log-HR"), xlabel="Hazard ratio of death, Len+PD-1 vs Sora+PD-1 (log scale)",
            groups={"published": "Seed 004 as published"}),
        out / "figures" / f"{LESSON}-estimates.png")
    return paths


def summary(res: core.LessonResult) -> str:
    """The generated numbers block of the walkthrough (and of the report)."""
    return rep.summary_block(res, _story(res))


def run_lesson(seed: int = core.DEFAULT_SEED, out: str | Path = "teach-out", *,
               n_reps: int | None = None, fast: bool = False) -> core.LessonResult:
    """Run lesson 2 end to end (``fast``: :data:`FAST_REPS` cohorts, else :data:`FULL_REPS`)."""
    started = time.perf_counter()
    seed, out = core.check_seed(seed), core.check_out(out)
    n_reps = core.resolve_reps(n_reps, fast, FULL_REPS, FAST_REPS)
    study, worlds, runs, seed0 = compute(seed, n_reps)
    run = runs["published"]
    df, tr = run["df"], run["truth"]
    n1, n_all = int(df["n_treated"].iloc[0]), int(df["crude_n"].iloc[0])
    numbers = {
        "cohort_n": n_all, "n_treated": float(n1), "n_control": float(n_all - n1),
        "kept_total": float(df["psm_n"].mean()), "kept_fraction": float(df["psm_kept"].mean()),
        "kept_treated": float(df["psm_kept_treated"].mean() * n1),
        "kept_control": float(df["psm_kept_control"].mean() * (n_all - n1)),
        "nocal_kept_total": float(df["psm_nocal_n"].mean()),
        "paper_kept_treated": float(core.published_target(study, "n_len_pd_1_psm")["value"]),
        "paper_kept_control": float(core.published_target(study, "n_sora_pd_1_psm")["value"]),
        "ess_att": float(df["iptw_att_ess"].mean()),
        "truth_ate": tr["marginal_hr_ate"], "truth_att": tr["marginal_hr_att"],
        "truth_ate_uncensored": tr["marginal_hr_ate_uncensored"],
        "truth_att_uncensored": tr["marginal_hr_att_uncensored"],
        "truth_conditional": tr["conditional_hr"],
        "surv_diff_ate": tr["survival_difference_ate"], "surv_diff_att": tr["survival_difference_att"],
    }
    ests = [core.summarise(df, "published", m, label, estimand, tr[key])
            for m, label, estimand, key in METHODS]
    figures = _figures(run, seed0, n_reps, out, numbers)
    res = core.LessonResult(LESSON, TITLE, study, seed, n_reps, {"published": dict(tr)},
                            tuple(ests), tuple(_claims(run)), numbers,
                            {k: v.label for k, v in worlds.items()}, {}, figures)
    intro = (f"The paper matched {numbers['paper_kept_treated']:.0f} of its {n1} Len+PD-1 "
             f"patients to {numbers['paper_kept_control']:.0f} of {n_all - n1} Sora+PD-1 "
             "patients. What does discarding the rest cost, and what does the matched HR "
             "estimate?")
    return core.finish(res, out, started, lambda r: rep.render_report(r, _story(r), intro=intro))
