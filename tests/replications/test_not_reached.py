"""A median printed as not reached ("NR"): parsed as such and judged by how often the
simulated median is not reached."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.replications.analysis.compile import reported_value
from tacebench.replications.targets import parse_targets
from tacebench.replications.verdicts import ALPHA, Z_CRIT, judge

QUOTE = ("median OS was not reached (NR; 95% CI 20.4-NR) with TACE-L and 14.0 months "
         "(95% CI 9.1-not reached) with TACE")


def median(**kw):
    return {"id": "os_median_tace_l_crude", "analysis": "crude", "quantity": "km_median",
            "endpoint": "os", "arm": "TACE-L", "value": "NR", "role": "predicted",
            "where": "text", "source": QUOTE, **kw}


def parse(*targets):
    return parse_targets({"study": {"id": "demo"}, "targets": list(targets)})


def problems(*targets):
    with pytest.raises(ValueError) as info:
        parse(*targets)
    return info.value.problems


def test_nr_value_and_nr_upper_bound_are_parsed():
    t = parse(median(ci=[20.4, "NR"])).targets[0]
    assert t.value is None and set(t.not_reached) == {"value", "ci_hi"}
    assert t.ci == (20.4, math.inf)
    assert reported_value(t) == (math.inf, "km_median")
    u = parse(median(value=14.0, arm="TACE", id="os_median_tace_crude", ci=[9.1, "not reached"])).targets[0]
    assert u.value == 14.0 and u.not_reached == ("ci_hi",)


@pytest.mark.parametrize("target, key, words", [
    (median(quantity="hr", contrast=["TACE-L", "TACE"]), "targets[0].value", "only a km_median"),
    (median(source="median OS 14.0 months with TACE"), "targets[0].value", "not printed"),
    (median(value=14.0, ci=["NR", 20.4]), "targets[0].ci", "two finite numbers"),
    (median(value="not yet"), "targets[0].value", "finite number"),
])
def test_bad_not_reached_names_key_and_value(target, key, words):
    found = [p for p in problems(target) if p.key == key]
    assert found and words in found[0].message, problems(target)


def draws(q: float, n: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(20.0, 3.0, n)
    x[: int(round(q * n))] = np.inf
    return x


@pytest.mark.parametrize("q, verdict", [(0.0, "not reproduced"), (0.02, "not reproduced"),
                                        (0.03, "reproduced"), (0.3, "reproduced"),
                                        (0.8, "reproduced")])
def test_nr_is_reproduced_iff_not_reached_in_at_least_alpha_over_two(q, verdict):
    j = judge(draws(q), math.inf, "identity")
    assert j.verdict == verdict
    assert j.position == pytest.approx(1 - q)
    assert (abs(j.z) <= Z_CRIT) == (verdict == "reproduced")
    assert "median not reached in" in j.reason


def test_not_estimable_replicates_are_left_out():
    x = draws(0.1)
    x[-20:] = np.nan                    # 180 estimable, 20 of them not reached
    j = judge(x, math.inf, "identity")
    assert j.n_estimable == 180 and j.position == pytest.approx(1 - 20 / 180)


def test_near_the_bound_is_flagged():
    j = judge(draws(0.025, n=400), math.inf, "identity")
    assert j.near_boundary


@settings(max_examples=50, deadline=None)
@given(k=st.integers(0, 200))
def test_verdict_is_monotone_in_the_share_not_reached(k):
    j = judge(draws(k / 200), math.inf, "identity")
    assert (j.verdict == "reproduced") == (k / 200 >= ALPHA / 2)
    assert j.z >= 0


@pytest.mark.slow
def test_nr_target_runs_end_to_end(tmp_path):
    """A predicted NR median of a short-follow-up analysis flows through check, the
    reproduction and the report (printed as NR, judged by the share not reached)."""
    import shutil
    from pathlib import Path

    from tacebench.replications.check import load_study
    from tacebench.replications.report import StudyReport, render
    from tacebench.replications.reproduce import reproduce

    folder = tmp_path / "study"
    shutil.copytree(Path(__file__).parent / "fictional_study", folder)
    with open(folder / "targets.toml", "a") as fh:
        fh.write('\n[[targets]]\nid = "os_median_tace_l_psm"\nanalysis = "psm"\n'
                 'quantity = "km_median"\nendpoint = "os"\narm = "TACE-L"\nvalue = "NR"\n'
                 'role = "predicted"\nwhere = "text"\n'
                 'source = "after matching the median OS was not reached with TACE-L"\n')
    study = load_study(folder)
    # 80 replicates: with none reaching NR, q = 0 lies beyond 2 MC SE of 0.025 (decided)
    res = reproduce(study, reps=80, seed=3, decompose_reps=0, max_reps=80)
    t = {t.id: t for t in res.targets}["os_median_tace_l_psm"]
    assert math.isinf(t.reported) and "median not reached in" in t.reason
    # the generator's TACE-L median is 19 months with follow-up to 60: NR is implausible
    assert t.verdict == "not reproduced" and t.position == 1.0
    row = [line for line in render([StudyReport(study.id, result=res)]).splitlines()
           if "os_median_tace_l_psm" in line]
    assert row and "NR" in row[0], row
