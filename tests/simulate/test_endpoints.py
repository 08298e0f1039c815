"""Time to progression and further response columns: invariants, calibration, validation.

The fixture is the small fictional study with ``outcomes.ttp`` and two further response
columns (a 6-month assessment following ``response``, and a liver response whose parent
is ``response``). Calibration bounds are stated where they are used: a generated share
differs from its published value by the Monte Carlo error of the generated cohorts and
of the fixed calibration sample (``CAL_PER_ARM`` patients per arm, on which the
thresholds are fitted), so ``|p_hat - p| <= 4 sqrt(p (1 - p) (1 / N + 1 / CAL_PER_ARM))``.
"""
from __future__ import annotations

import copy
import tomllib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacebench import simulate
from tacebench.estimators import kaplan_meier
from tacebench.simulate.calibration_cohort import CAL_PER_ARM
from tacebench.simulate.io import spec_from_dict
from tacebench.simulate.spec import SpecError
from tacebench.simulate.study import spec_hash

from .conftest import SPECS

SIX_MONTHS = {"Control": [0.02, 0.18, 0.25, 0.55], "Combo": [0.04, 0.26, 0.3, 0.4]}
LIVER = {"Control": [0.3, 0.7], "Combo": [0.45, 0.55]}


def endpoints_dict() -> dict:
    with open(SPECS / "small.toml", "rb") as fh:
        d = tomllib.load(fh)
    main = d["cohorts"]["main"]
    main["outcomes"]["ttp"] = {"calibrate": [{"arm": "Control", "kind": "median", "value": 5.0},
                                             {"arm": "Combo", "kind": "rate", "time": 6, "value": 0.55}]}
    main["response_columns"] = {
        "response_6m": {"follows": "response", "assessment_time": 6.0, "correlation": 0.7,
                        "rationale": "test", "arms": {k: {"proportions": v} for k, v in SIX_MONTHS.items()}},
        "response_liver": {"parent": "response", "correlation": 0.6, "rationale": "test",
                           "levels": ["CR/PR", "SD/PD"],
                           "arms": {"Control": {"counts": [40, 90]}, "Combo": {"counts": [40, 50]}}},
    }
    return d


@pytest.fixture(scope="module")
def plan():
    return simulate.compile_plan(spec_from_dict(endpoints_dict()))


def _spec_error(d) -> str:
    with pytest.raises(SpecError) as exc:
        spec_from_dict(d, source="cohort.toml")
    return str(exc.value)


# -- invariants (hypothesis over seeds) ----------------------------------------------------

@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_ttp_pfs_os_consistent_on_every_patient(plan, seed):
    c = simulate.generate_cohort(plan, seed=seed, with_ps=False).columns
    # TTP and PFS end follow-up at the same time min(T_P, T_D, C) ...
    np.testing.assert_array_equal(c["ttp_time"], c["pfs_time"])
    assert np.all(c["pfs_time"] <= c["os_time"])
    # ... a progression is a PFS event; a PFS event that is no progression is a death
    assert np.all(c["ttp_event"] <= c["pfs_event"])
    died_first = (c["pfs_event"] == 1) & (c["ttp_event"] == 0)
    assert np.all(c["os_event"][died_first] == 1)
    np.testing.assert_array_equal(c["os_time"][died_first], c["pfs_time"][died_first])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_six_month_response_keeps_progression(plan, seed):
    c = simulate.generate_cohort(plan, seed=seed, with_ps=False).columns
    pd3, r6 = c["response"] == 3, c["response_6m"]
    assessed = r6 >= 0
    assert np.all(r6[pd3 & assessed] == 3)     # PD at 3 months is PD at 6 months
    assert set(np.unique(c["response_liver"])) <= {-1, 0, 1}


def test_ttp_is_the_progression_time_without_censoring():
    """With follow-up long enough that only death censors, TTP >= PFS = min(TTP, death)."""
    d = endpoints_dict()
    d["cohorts"]["main"]["censoring"] = {"accrual": 0.0, "follow_up": 1e6}
    c = simulate.generate_cohort(spec_from_dict(d), seed=3, with_ps=False).columns
    assert np.all(c["pfs_event"] == 1)                              # nobody is censored
    prog = c["ttp_event"] == 1
    np.testing.assert_array_equal(c["pfs_time"][prog], c["ttp_time"][prog])
    assert np.all(c["pfs_time"][prog] <= c["os_time"][prog])        # progressed, then death
    np.testing.assert_array_equal(c["pfs_time"][~prog], c["os_time"][~prog])  # died first


# -- calibration -------------------------------------------------------------------------

def _share_bound(p: float, n: int) -> float:
    return 4 * np.sqrt(p * (1 - p) * (1 / n + 1 / CAL_PER_ARM))


def test_response_columns_reproduce_per_arm_distributions(plan):
    batch = simulate.generate_cohort_batch(plan, range(600))
    arm = batch.columns["arm"]
    for col, published in (("response_6m", SIX_MONTHS),
                           ("response_liver", {"Control": [40 / 130, 90 / 130], "Combo": [40 / 90, 50 / 90]})):
        r = batch.columns[col]
        for a, label in enumerate(plan.arm_labels):
            got = r[arm == a]
            got = got[got >= 0]
            probs = np.asarray(published[label]) / np.sum(published[label])
            for k, p in enumerate(probs):
                assert abs(np.mean(got == k) - p) <= _share_bound(p, got.size), (col, label, k)


def test_liver_response_misses_the_uncounted_patients(plan):
    """Counts below the arm's n leave the rest unassessed (130 of 150, 90 of 100)."""
    batch = simulate.generate_cohort_batch(plan, range(400))
    arm, r = batch.columns["arm"], batch.columns["response_liver"]
    for a, q in ((0, 20 / 150), (1, 10 / 100)):
        miss = np.mean(r[arm == a] < 0)
        assert abs(miss - q) <= _share_bound(q, r[arm == a].size)


def test_organ_response_is_correlated_with_its_parent(plan):
    batch = simulate.generate_cohort_batch(plan, range(200))
    r, liver = batch.columns["response"].ravel(), batch.columns["response_liver"].ravel()
    ok = (r >= 0) & (liver >= 0)
    responder, liver_responder = r[ok] <= 1, liver[ok] == 0
    assert liver_responder[responder].mean() > liver_responder[~responder].mean() + 0.1


def test_ttp_calibration_matches_the_pooled_kaplan_meier(plan):
    """The KM limit the fit uses (deaths censor TTP) is what a KM of TTP gives on many
    patients: the pooled KM at each target time lies within 4 SE (+ the grid's 1e-3)
    of the fitted value."""
    batch = simulate.generate_cohort_batch(plan, range(400))
    arm = batch.columns["arm"]
    for entry, tgt in zip(plan.report["ttp"]["targets"], plan.spec.ttp.calibrate):
        m = arm == plan.arm_labels.index(tgt.arm)
        km = kaplan_meier(batch.columns["ttp_time"][m], batch.columns["ttp_event"][m])
        t = tgt.value if tgt.kind == "median" else tgt.time
        s = km.survival_at([t])
        assert abs(s.survival[0] - entry["fitted_survival"]) <= 4 * s.se[0] + 1e-3


def test_ttp_targets_alone_are_met_when_compatible():
    """A TTP target in one arm and a PFS target in the other (one progression time, with
    the treatment HR) are both met: the joint fit is exact when the targets allow it."""
    d = endpoints_dict()
    d["cohorts"]["main"]["outcomes"]["pfs"]["calibrate"] = [{"arm": "Combo", "kind": "median", "value": 6.0}]
    d["cohorts"]["main"]["outcomes"]["ttp"]["calibrate"].pop()
    p = simulate.compile_plan(spec_from_dict(d), cache=None)
    for entry, tgt in zip(p.report["ttp"]["targets"], p.spec.ttp.calibrate):
        goal = 0.5 if tgt.kind == "median" else tgt.value
        assert entry["fitted_survival"] == pytest.approx(goal, abs=0.005)
    assert p.report["pfs"]["targets"][0]["fitted"] == pytest.approx(6.0, abs=0.01)   # PFS median


# -- no change for cohorts without the new keys --------------------------------------------

def test_cohorts_without_new_columns_draw_as_before():
    d = endpoints_dict()
    main = d["cohorts"]["main"]
    del main["missing"]                     # its draws come after the response columns
    base = copy.deepcopy(d)
    del base["cohorts"]["main"]["response_columns"], base["cohorts"]["main"]["outcomes"]["ttp"]
    with_new = simulate.generate_cohort(spec_from_dict(d), seed=11).columns
    without = simulate.generate_cohort(spec_from_dict(base), seed=11).columns
    assert set(with_new) - set(without) == {"ttp_time", "ttp_event", "response_6m", "response_liver"}
    for k, v in without.items():
        if k not in ("pfs_time", "pfs_event"):   # the progression fit now includes TTP targets
            np.testing.assert_array_equal(with_new[k], v, err_msg=k)


# -- validation and hash ------------------------------------------------------------------

@pytest.mark.parametrize("edit, key, words", [
    (lambda c: c["response_columns"]["response_6m"].pop("correlation"),
     "response_columns.response_6m.correlation", "is required"),
    (lambda c: c["response_columns"]["response_6m"].update(rationale=" "),
     "response_columns.response_6m.rationale", "state why"),
    (lambda c: c["response_columns"]["response_6m"].update(parent="response"),
     "response_columns.response_6m.follows", "exactly one"),
    (lambda c: c["response_columns"]["response_liver"].update(parent="response_9m"),
     "response_columns.response_liver.parent", "unknown column 'response_9m'"),
    (lambda c: c["response_columns"]["response_6m"].update(assessment_time=2.0),
     "response_columns.response_6m.assessment_time", "not after"),
    (lambda c: c["response_columns"]["response_6m"]["arms"]["Combo"].update(proportions=[0.3, 0.3, 0.3, 0.1]),
     "response_columns.response_6m.arms.Combo", "below the"),
    (lambda c: c["response_columns"].update(liver={**c["response_columns"]["response_liver"]}),
     "response_columns.liver.name", "response_<name>"),
    (lambda c: c["response_columns"]["response_6m"].update(correlation=1.5),
     "response_columns.response_6m.correlation", "(-1, 1)"),
    (lambda c: c["response_columns"]["response_6m"].update(lag=1),
     "response_columns.response_6m", "unknown key(s) ['lag']"),
    (lambda c: c["outcomes"]["ttp"]["calibrate"][0].update(arm="Nope"),
     "outcomes.ttp.calibrate[0].arm", "unknown arm 'Nope'"),
    (lambda c: c["outcomes"].pop("pfs"), "outcomes.ttp", "give outcomes.pfs"),
])
def test_bad_new_keys_name_file_key_and_value(edit, key, words):
    d = endpoints_dict()
    edit(d["cohorts"]["main"])
    msg = _spec_error(d)
    assert f"cohort.toml: cohorts.main.{key}" in msg and words in msg, msg


def test_new_keys_are_part_of_the_plan_hash():
    def h(edit):
        d = endpoints_dict()
        edit(d["cohorts"]["main"])
        return spec_hash(spec_from_dict(d).cohort())

    base = h(lambda c: None)
    assert h(lambda c: c["response_columns"]["response_6m"].update(correlation=0.5)) != base
    assert h(lambda c: c["outcomes"]["ttp"]["calibrate"][0].update(value=5.5)) != base
    assert h(lambda c: c["response_columns"]["response_liver"].update(parent="os")) != base
    # a rationale or source is a quote: it does not change the generating model
    assert h(lambda c: c["response_columns"]["response_6m"].update(rationale="other words")) == base


def test_frame_labels_the_response_columns(plan):
    f = simulate.generate_cohort(plan, seed=1).to_frame()
    assert list(f["response_6m"].cat.categories) == ["CR", "PR", "SD", "PD"]
    assert list(f["response_liver"].cat.categories) == ["CR/PR", "SD/PD"]
    raw = simulate.generate_cohort(plan, seed=1).columns["response_liver"]
    assert f["response_liver"].isna().sum() == np.sum(raw < 0)
