"""Calibration rows carry simulate's calibration check; a cohort whose calibration misses
a target has its verdicts marked."""
from __future__ import annotations

import shutil

from tacebench.replications.check import load_study
from tacebench.replications.report import StudyReport, render
from tacebench.replications.reproduce import reproduce
from tacebench.simulate.studies import resolve_study


def _folder(tmp_path, hazards: str, administrative_only: bool = False):
    src = resolve_study("len_sora_pd1_ehm")
    dst = tmp_path / f"seed004_{hazards}"
    shutil.copytree(src, dst)
    cohort = dst / "cohort.toml"
    text = cohort.read_text(encoding="utf-8")
    assert 'hazards = "arm_specific"' in text
    text = text.replace('hazards = "arm_specific"', f'hazards = "{hazards}"')
    if administrative_only:     # no loss to follow-up: more patients at risk at 24 months
        lines = text.splitlines()
        at = lines.index('loss_rate = "calibrate"')
        assert lines[at + 1].startswith("median_followup = ")
        lines[at:at + 2] = ["loss_rate = 0.0"]
        text = "\n".join(lines) + "\n"
    cohort.write_text(text, encoding="utf-8")
    return dst


def test_arm_specific_seed_004_has_no_misfit():
    # (the checks are the set-up's: no added replicates, which would take a third longer)
    res = reproduce(load_study("len_sora_pd1_ehm"), reps=4, seed=1, decompose_reps=0,
                    max_reps=4)
    cal = [t for t in res.targets if t.role == "calibration" and t.calibration]
    assert {t.id for t in cal} >= {"os_rate24m_sora_pd_1_crude", "os_rate24m_len_pd_1_crude", "os_hr_crude",
                                   "pfs_hr_crude"}
    assert all("within" in t.calibration and "MISFIT" not in t.calibration for t in cal)
    assert not res.misfits and not any(t.misfit for t in res.targets)


def test_proportional_seed_004_is_flagged(tmp_path):
    """One HR for both arms misses the 24-month rates: the summary says so and the
    verdicts on cohort main are marked. Under administrative censoring only: with the
    seed's loss to follow-up (calibrated to its 16.5-month median follow-up) the 24-month
    MCSE at the study's n grows to about 4 points and covers the 3.6-point miss."""
    res = reproduce(load_study(_folder(tmp_path, "proportional", administrative_only=True)), reps=4, seed=1,
                    decompose_reps=0)
    by = {t.id: t for t in res.targets}
    assert "MISFIT" in by["os_rate24m_sora_pd_1_crude"].calibration
    assert len(res.misfits) == 1 and res.misfits[0].startswith("main: ") and "24-month rate" in res.misfits[0]
    judged = [t for t in res.targets if t.id in res.draw_ids]
    assert judged and all(t.misfit for t in judged)
    text = render([StudyReport(res.study_id, res.title, result=res)])
    assert "† calibration misfit (main: " in text and "reproduced †" in text.replace("(borderline) †", "†")
    assert res.to_dict()["calibration_misfits"] == list(res.misfits)


def test_an_unmeasurable_check_says_why_not_inf():
    """A calibration check past follow-up (simulate now marks it never within, with a
    reason) showed 'cal. residual +inf, MISFIT: beyond rounding 0.05 + MCSE inf'."""
    from types import SimpleNamespace

    from tacebench.replications.summaries import calibration_note, misfit_text

    ch = SimpleNamespace(kind="rate", time=70.0, endpoint="os", arm="TACE", residual=0.008,
                         rounding=0.0005, mcse=float("inf"), within=False,
                         reason="70-month rate at or beyond the end of follow-up (65 months)")
    assert calibration_note(ch) == ("cal. MISFIT: 70-month rate at or beyond the end of "
                                    "follow-up (65 months)")
    assert misfit_text(ch) == "os TACE: 70-month rate at or beyond the end of follow-up (65 months)"
