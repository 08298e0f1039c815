"""Predicted numbers tied to a calibration input: found by the rank correlation of their
draws, counted among the predicted numbers and said apart."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tacebench.replications.accounting import account, accounting_frame
from tacebench.replications.ties import MIN_COMMON, TIED_RHO, _scores, tied_numbers


def _draws(seed=0, n=200):
    rng = np.random.default_rng(seed)
    crude = rng.normal(0.0, 0.2, n)                 # a crude covariate log-HR (an input)
    return crude, rng.normal(size=n)


def test_a_number_that_moves_with_an_input_is_tied_and_one_that_does_not_is_not():
    """Seed 000: a covariate's IPTW-weighted univariable HR against its crude HR (rank
    correlation 0.92 over 400 replicates) is a narrow test of the calibration input."""
    crude, noise = _draws()
    draws = {"crude": crude,
             "weighted": np.exp(crude + 0.04 * noise),     # a ratio: its scale is no matter
             "free": crude + 0.4 * noise,
             "opposed": -2.0 * crude + 0.04 * noise}
    got = tied_numbers(["weighted", "free", "opposed"], ["crude"], draws)
    assert set(got) == {"weighted", "opposed"}
    assert got["weighted"][0] == "crude" and got["weighted"][1] >= TIED_RHO
    assert got["opposed"][1] <= -TIED_RHO
    want = stats.spearmanr(draws["weighted"], crude).statistic
    assert got["weighted"][1] == pytest.approx(want, abs=1e-12)
    # the strongest of several inputs is named
    other = crude + 0.1 * _draws(seed=1)[1]
    got = tied_numbers(["weighted"], ["other", "crude"], {**draws, "other": other})
    assert got["weighted"][0] == "crude"


def test_replicates_where_either_is_not_estimable_are_left_out():
    crude, noise = _draws()
    weighted = crude + 0.04 * noise
    weighted[:50] = np.nan                       # (a median not reached, say)
    scrambled = crude.copy()
    scrambled[:50] = np.random.default_rng(3).permutation(scrambled[:50])
    got = tied_numbers(["w"], ["c"], {"w": weighted, "c": scrambled})
    want = stats.spearmanr(weighted[50:], scrambled[50:]).statistic
    assert got["w"][1] == pytest.approx(want, abs=1e-12)
    # too few replicates estimable for both: no correlation is read
    few = np.full_like(weighted, np.nan)
    few[:MIN_COMMON - 1] = crude[:MIN_COMMON - 1]
    assert tied_numbers(["w"], ["c"], {"w": few, "c": crude}) == {}
    short = slice(0, MIN_COMMON - 1)              # (a run of fewer replicates than that)
    assert tied_numbers(["w"], ["c"], {"w": crude[short] * 2, "c": crude[short]}) == {}
    # a constant input and ids without draws are skipped
    assert tied_numbers(["w", "gone"], ["k", "absent"],
                        {"w": weighted, "k": np.ones_like(crude)}) == {}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.integers(5, 300), st.sampled_from([0, 1, 2]))
def test_scores_give_spearmans_correlation_with_ties(seed, n, digits):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n), digits)
    y = np.round(x + rng.normal(size=n), digits)
    sx, sy = _scores(x), _scores(y)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        assert sx is None or sy is None
        return
    r = stats.rankdata(x)
    r -= r.mean()
    np.testing.assert_allclose(sx, r / np.sqrt(r @ r), rtol=0, atol=1e-15)
    assert sx @ sy == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


def _result(columns, roles, verdicts):
    from types import SimpleNamespace

    ids = [f"t{k}" for k in range(len(columns))]
    targets = [SimpleNamespace(id=i, role=r, reported=float(k), verdict=v, spec_gap=False)
               for k, (i, r, v) in enumerate(zip(ids, roles, verdicts))]
    return SimpleNamespace(study_id="s", targets=targets, shifts=(),
                           draws=np.column_stack(columns), draw_ids=ids)


def test_the_accounting_counts_tied_numbers_among_the_predicted_and_says_so():
    crude, noise = _draws()
    cols = [crude, crude + 0.04 * noise, crude + 0.05 * noise, crude + 0.4 * noise,
            crude + 0.03 * noise]
    a = account(_result(cols, ["calibration", "predicted", "predicted", "predicted",
                               "predicted"],
                        ["reproduced", "reproduced", "not reproduced", "reproduced",
                         "undetermined"]))
    # still predictions (counted there); the undetermined one is not judged, so not listed
    assert a.predicted == {"reproduced": 2, "not reproduced": 1, "undetermined": 1}
    assert set(a.tied) == {"t1", "t2"} and a.tied["t1"][0] == "t0"
    assert a.tied_not_reproduced == 1
    assert ("2 of these are tied to a calibration input (rank correlation of draws >= 0.9: "
            "their verdict tests mainly the paper's difference from that input, 1 of them "
            "not reproduced)") in a.sentence()
    assert accounting_frame([a, a])["predicted_tied"].tolist() == [2, 2, 4]
    # nothing tied: nothing said
    b = account(_result([crude, crude + 0.4 * noise], ["calibration", "predicted"],
                        ["reproduced", "reproduced"]))
    assert b.tied == {} and "tied" not in b.sentence()


def test_the_target_table_names_the_input_a_tied_number_moves_with():
    from dataclasses import replace
    from pathlib import Path

    from tacebench.replications.check import load_study
    from tacebench.replications.reproduce import reproduce
    from tacebench.replications.result_rows import target_rows

    study = load_study(Path(__file__).parent / "fictional_study")
    res = reproduce(study, reps=20, seed=2, decompose_reps=0)
    pred = next(t.id for t in res.targets if t.role == "predicted" and t.id in res.draw_ids)
    tied = replace(res, accounting=replace(res.accounting, tied={pred: ["some_input", 0.93]}))
    notes = {row[0]: row[-1] for row in target_rows(tied, width=None)}
    assert notes[pred].startswith("tied to some_input (rank corr. 0.93)")
    assert not any("tied to" in n for n in {row[0]: row[-1] for row in target_rows(
        res, width=None)}.values())
