"""Verdict stability (issue 4): two runs with different seeds at the default R agree on
every verdict except targets within 0.5 robust SD of an interval end in either run
(reported as borderline). Long: marked slow (``pytest -m slow``)."""
import pytest

from replications.reproduce import DEFAULT_REPS, reproduce
from replications.study import load_study

SEED_IDS = ("tace_sorafenib_ehs", "tace_regorafenib", "tace_sorafenib_matched",
            "tace_mtt_pd1_lung", "len_sora_pd1_ehm")


@pytest.mark.slow
@pytest.mark.parametrize("sid", SEED_IDS)
def test_verdicts_agree_across_seeds_except_borderline(sid):
    study = load_study(sid)
    a = reproduce(study, reps=DEFAULT_REPS, seed=101, n_jobs=2, decompose_reps=0)
    b = reproduce(study, reps=DEFAULT_REPS, seed=202, n_jobs=2, decompose_reps=0)
    flips = []
    for ta, tb in zip(a.targets, b.targets):
        assert ta.id == tb.id
        if ta.verdict != tb.verdict and not (ta.borderline or tb.borderline):
            flips.append((ta.id, ta.verdict, ta.z, tb.verdict, tb.z))
    for sa, sb in zip(a.shifts, b.shifts):
        if sa.verdict != sb.verdict and not (sa.borderline or sb.borderline):
            flips.append((sa.id, sa.verdict, sa.z, sb.verdict, sb.z))
    assert not flips, flips
