"""Numbers the shipped studies' comments state about their generated cohorts are carried
by a run: the comment quotes them and the same run gives them (same seeds, same rounding)."""
from __future__ import annotations

import numpy as np

from tacebench import simulate
from tacebench.estimators import cox_ph, kaplan_meier
from tacebench.simulate.studies import resolve_study

SEED = 20240917


def _comment(study: str) -> str:
    text = (resolve_study(study) / "cohort.toml").read_text()
    return " ".join(line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#"))


def _batch(study: str, n: int):
    return _batch_of(study, None, n)


def _batch_of(study: str, cohort: str | None, n: int):
    plan = simulate.compile_plan(study, cohort)
    return plan, simulate.generate_cohort_batch(plan, np.random.SeedSequence(SEED).spawn(n)).columns


def test_hbv_markers_drawn_independently_as_the_comment_says():
    _, c = _batch("len_sora_pd1_ehm", 1000)
    neg = c["hbsag"] == 0
    high, treated = (neg & (c["high_hbv_dna"] == 1)).mean(), (neg & (c["antiviral"] == 1)).mean()
    said = _comment("len_sora_pd1_ehm")
    assert f"{100 * high:.1f}% of patients are HBsAg-negative with HBV DNA > 2000 IU/mL" in said
    assert f"{100 * treated:.1f}% are HBsAg-negative on antiviral therapy" in said


def test_regorafenib_dose_pfs_hr_of_the_cohorts_as_the_comment_says():
    _, c = _batch("tace_regorafenib", 1000)
    dose = c["regorafenib_high_dose"].reshape(-1)
    known = ~np.isnan(dose)
    hr = {}
    for ep in ("pfs", "ttp"):
        fit = cox_ph(c[f"{ep}_time"].reshape(-1)[known], c[f"{ep}_event"].reshape(-1)[known], dose[known][:, None])
        hr[ep] = float(np.exp(fit.coef[0]))
    said = _comment("tace_regorafenib")
    assert f"({known.sum():,} patients with a known dose" in said
    assert f"PFS HR {hr['pfs']:.3f} (log SE" in said and f"(deaths censored) {hr['ttp']:.3f}" in said


def test_mtt_follow_up_without_loss_as_the_comment_says():
    plan, c = _batch("tace_mtt_pd1_lung", 400)
    arm = plan.arm_labels.index("TACE, MTT and (PD-[L]1)")
    med = np.array([kaplan_meier(t[a == arm], 1 - e[a == arm]).median().estimate
                    for t, e, a in zip(c["os_time"], c["os_event"], c["arm"])])
    said = _comment("tace_mtt_pd1_lung")
    assert f"arm {np.median(med):.1f} months (mean {med.mean():.1f}" in said
    other = plan.arm_labels.index("MTT and (PD-[L]1)")
    unreached = np.mean([np.isinf(kaplan_meier(t[a == other], 1 - e[a == other]).median().estimate)
                         for t, e, a in zip(c["os_time"], c["os_event"], c["arm"])])
    assert f"it is not reached in {100 * unreached:.0f}% of cohorts" in said


def test_sorafenib_arm_censored_before_the_inclusion_month_as_the_comment_says():
    """Seed 002's censoring ignores its inclusion (``min_months = 1``): the comment and
    docs/cohort-spec.md state how many of the arm are censored before they met it."""
    plan, c = _batch_of("tace_sorafenib_matched", "primary", 100)
    treated = c["treated"] == 1
    start, time, event = c["systemic_start"], c["os_time"], c["os_event"]
    before_start = treated & ~np.isfinite(start)
    within = treated & np.isfinite(start) & (event == 0) & (time < start + 1.0)
    n, k, k0 = int(treated.sum()), int((before_start | within).sum()), int(before_start.sum())
    said = _comment("tace_sorafenib_matched")
    assert (f"over 100 generated cohorts {k} of the arm's {n:,} patients ({100 * k / n:.1f}%) are "
            f"censored before a month on sorafenib, {k0} of them before their start") in said
    # every one of them is censored (a death waits for the month: left truncation)
    assert not (treated & (event == 1) & ~(time >= np.where(np.isfinite(start), start, 0) + 1.0)).any()
