"""Verdict stability: two runs with different seeds at the default R agree on
every verdict except targets whose z lies within 0.5 of the critical value 1.96 in either
run (reported as borderline). ``undetermined`` (z within Monte Carlo error of the critical
value after the added replicates) takes part like a verdict: it may differ from the other
run's only there; ``not estimable`` in one run only is never explained. The seed-study
check is long: marked slow (``pytest -m slow``); the rule itself is checked fast on
constructed results.

The borderline band is recomputed here from z, not read from the results' flag, so a
flag that were always set could not make the check pass; and the verdict must agree with
z (reproduced <=> |z| <= 1.96).
"""
import types

import pytest

from tacebench.replications.reproduce import DEFAULT_REPS, reproduce
from tacebench.replications.check import load_study
from tacebench.replications.verdicts import BORDERLINE_Z, Z_CRIT

SEED_IDS = ("tace_sorafenib_ehs", "tace_regorafenib", "tace_sorafenib_matched",
            "tace_mtt_pd1_lung", "len_sora_pd1_ehm")


def near_boundary(z: float) -> bool:
    return abs(abs(z) - Z_CRIT) < BORDERLINE_Z


def incoherent(rows) -> list:
    """Results whose verdict or borderline flag disagrees with their z."""
    bad = []
    for x in rows:
        if x.verdict in ("not estimable", "undetermined"):
            continue
        if (x.verdict == "reproduced") != (abs(x.z) <= Z_CRIT) or \
                x.borderline != near_boundary(x.z):
            bad.append((x.id, x.verdict, x.z, x.borderline))
    return bad


def unexplained_flips(a_rows, b_rows) -> list:
    """Verdicts that differ between two runs although neither z is near the boundary."""
    flips = []
    for ta, tb in zip(a_rows, b_rows):
        assert ta.id == tb.id
        if ta.verdict == tb.verdict:
            continue
        estimable = "not estimable" not in {ta.verdict, tb.verdict}
        if not estimable or not (near_boundary(ta.z) or near_boundary(tb.z)):
            flips.append((ta.id, ta.verdict, ta.z, tb.verdict, tb.z))
    return flips


def _r(id, verdict, z, borderline=None):
    return types.SimpleNamespace(id=id, verdict=verdict, z=z,
                                 borderline=near_boundary(z) if borderline is None
                                 else borderline)


def test_flip_rule_on_constructed_results():
    a = [_r("near", "reproduced", 1.80), _r("far", "reproduced", 1.20),
         _r("gone", "reproduced", 0.3), _r("same", "not reproduced", 3.0),
         _r("open", "undetermined", 2.01), _r("open_far", "undetermined", 0.9)]
    b = [_r("near", "not reproduced", 2.05), _r("far", "not reproduced", 2.6),
         _r("gone", "not estimable", float("nan")), _r("same", "not reproduced", 2.2),
         _r("open", "not reproduced", 2.29), _r("open_far", "reproduced", 0.5)]
    assert [f[0] for f in unexplained_flips(a, b)] == ["far", "gone", "open_far"]
    assert incoherent(a + b) == []
    # a flag that disagrees with z, or a verdict that disagrees with z, is caught
    assert incoherent([_r("x", "reproduced", 0.1, borderline=True),
                       _r("y", "reproduced", 2.1)]) == [("x", "reproduced", 0.1, True),
                                                       ("y", "reproduced", 2.1, True)]


@pytest.mark.slow
@pytest.mark.parametrize("sid", SEED_IDS)
def test_verdicts_agree_across_seeds_except_borderline(sid):
    study = load_study(sid)
    a = reproduce(study, reps=DEFAULT_REPS, seed=101, n_jobs=2, decompose_reps=0)
    b = reproduce(study, reps=DEFAULT_REPS, seed=202, n_jobs=2, decompose_reps=0)
    for run in (a, b):
        assert not incoherent((*run.targets, *run.shifts))
    flips = unexplained_flips(a.targets, b.targets) + unexplained_flips(a.shifts, b.shifts)
    assert not flips, flips
