"""Readings: alternatives the methods leave open, parsed, run on the same cohorts, chosen by
the paper's numbers and never by the number being judged."""
import math
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.replications.analysis.plan import parse_plan
from tacebench.replications.analysis.readings import MAX_READINGS
from tacebench.replications.check import load_study
from tacebench.replications.reading_choice import (choose_readings, is_reproduced,
                                                   number_loglik, strength)
from tacebench.replications.reproduce import ReadingColumn, reproduce

FICTIONAL = Path(__file__).parent / "fictional_study"

_IPTW = """
    [covariate_sets]
    ps = ["age>=60", "male"]
    ps2 = ["age>=60"]
    [[analyses]]
    name = "iptw"
    estimates = ["hr", "weighted_group_size"]
    [analyses.adjustment]
    method = "iptw"
    covariates = "ps"
    [[analyses]]
    name = "iptw_lm"
    population = { landmark = 3, endpoint = "os" }
    estimates = ["hr"]
    [analyses.adjustment]
    method = "iptw"
    covariates = "ps"
    [[analyses]]
    name = "psm"
    estimates = ["hr"]
    [analyses.adjustment]
    method = "psm"
    covariates = "ps"
"""


def _plan(tmp_path, text):
    p = tmp_path / "analysis.toml"
    p.write_text(textwrap.dedent(_IPTW) + textwrap.dedent(text))
    return parse_plan(p)


def test_groups_are_products_with_the_declared_reading_first(tmp_path):
    plan, problems = _plan(tmp_path, """
        [[readings]]
        option = "stabilized"
        values = [true, false]
        analyses = ["iptw", "iptw_lm"]
        why = "not stated"
        [[readings]]
        option = "covariates"
        values = ["ps", "ps2"]
        analyses = ["iptw_lm"]
        why = "one covariate named vaguely"
        [[readings]]
        option = "caliper_scale"
        values = ["logit_sd", "ps_sd"]
        analyses = ["psm"]
        why = "the scale of the caliper is not given"
    """)
    assert not problems, [str(p) for p in problems]
    g1, g2 = plan.readings
    assert g1.analyses == ("iptw", "iptw_lm") and len(g1.readings) == 4
    # reading 0 is what the analyses state: stabilized false (the default), covariates ps
    assert g1.readings[0].label == "stabilized=false, covariates=ps"
    assert g1.overrides(g1.readings[0], "iptw") == {"stabilized": False}
    assert set(g1.overrides(g1.readings[3], "iptw_lm")) == {"stabilized", "covariates"}
    assert g2.analyses == ("psm",) and [r.label for r in g2.readings] == [
        "caliper_scale=logit_sd", "caliper_scale=ps_sd"]


@pytest.mark.parametrize("entry, key, kind", [
    ('option = "stabilized"\nvalues = [true, false]\nanalyses = ["iptw"]', "why", "fill-me"),
    ('option = "stabilized"\nvalues = [true]\nanalyses = ["iptw"]\nwhy = "x"', "values",
     "fill-me"),
    ('option = "stabilised"\nvalues = [true, false]\nanalyses = ["iptw"]\nwhy = "x"',
     "option", "unknown-option"),
    ('option = "caliper"\nvalues = [0.1, 0.2]\nanalyses = ["iptw", "psm"]\nwhy = "x"',
     "option", "unknown-option"),
    ('option = "stabilized"\nvalues = [true, "yes"]\nanalyses = ["iptw"]\nwhy = "x"',
     "values[1]", "malformed"),
    ('option = "truncate"\nvalues = [[1, 99], [5, 95]]\nanalyses = ["iptw"]\nwhy = "x"',
     "values", "incompatible"),
    ('option = "stabilized"\nvalues = [true, false]\nanalyses = ["ipwt"]\nwhy = "x"',
     "analyses", "missing-analysis"),
    ('option = "covariates"\nvalues = ["ps", "nope"]\nanalyses = ["iptw"]\nwhy = "x"',
     "values[1]", "malformed"),
    ('option = "outcome_covariates"\nvalues = [[], ["age"]]\nanalyses = ["iptw"]\nwhy = "x"',
     "option", "unknown-option"),
])
def test_bad_declarations_name_the_key(tmp_path, entry, key, kind):
    _, problems = _plan(tmp_path, "[[readings]]\n" + entry + "\n")
    got = {(p.key, p.kind) for p in problems}
    assert (f"readings[0].{key}", kind) in got, got


def test_where_the_propensity_model_is_fitted_is_a_reading(tmp_path):
    """Whole-cohort weights or weights refitted in a landmark population: a choice of
    method the paper may leave open, varied like any other."""
    plan, problems = _plan(tmp_path, """
        [[readings]]
        option = "fit_on"
        values = ["population", "cohort"]
        analyses = ["iptw_lm"]
        why = "one propensity model, or one refitted among the landmark survivors"
    """)
    assert not problems
    (g,) = plan.readings
    assert [r.label for r in g.readings] == ["fit_on=population", "fit_on=cohort"]
    assert g.overrides(g.readings[1], "iptw_lm") == {"fit_on": "cohort"}


def test_truncation_none_and_too_many_readings(tmp_path):
    plan, problems = _plan(tmp_path, """
        [[readings]]
        option = "truncate"
        values = ["none", [1, 99]]
        analyses = ["iptw"]
        why = "x"
    """)
    assert not problems and plan.readings[0].readings[1].label == "truncate=[1, 99]"
    many = "\n".join(f"""
        [[readings]]
        option = "{o}"
        values = {v}
        analyses = ["psm"]
        why = "x"
    """ for o, v in [("caliper", [0.2, 0.1, 0.05, 0.25]),
                     ("caliper_scale", '["logit_sd", "ps_sd", "raw"]'),
                     ("order", '["data", "random", "largest", "smallest"]'),
                     ("replace", "[false, true]")])
    _, problems = _plan(tmp_path, many)
    assert [p.kind for p in problems] == ["too-many-readings"]
    assert str(4 * 3 * 4 * 2) in problems.items[0].message and MAX_READINGS < 96


def test_number_loglik_prefers_the_distribution_holding_the_number():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 400), rng.normal(3, 1, 400)
    assert number_loglik(a, 0.1) > number_loglik(b, 0.1) + 3
    # replicates without an estimate lower the likelihood by their share
    half = a.copy()
    half[::2] = np.nan
    assert number_loglik(half, 0.1) < number_loglik(a, 0.1)
    assert number_loglik(np.full(10, np.nan), 0.0) == -math.inf
    # identical draws printed exactly: finite, and a coarser printed number is likelier
    same = np.full(50, 2.0)
    assert math.isfinite(number_loglik(same, 2.0))
    assert number_loglik(same, 2.3, 0.5) > number_loglik(same, 2.3, 0.05)


def test_strength_labels_follow_kass_raftery():
    assert [strength(math.log(x)) for x in (1.0, 2.9, 3.1, 19, 21, 149, 151)] == [
        "weak", "weak", "positive", "positive", "strong", "strong", "very strong"]


class _G:                       # a minimal reading group for choose_readings
    def __init__(self, k):
        from tacebench.replications.analysis.readings import Reading, ReadingChoice
        self.readings = tuple(Reading(i, (i,), f"r{i}") for i in range(k))
        self.choices = (ReadingChoice("x", tuple(range(k)), tuple(f"{i}" for i in range(k)),
                                      ("a",), "why"),)
        self.analyses = ("a",)
        self.name = "x (a)"


def _columns(draws_by_target):
    cols, blocks = [], []
    for t, per_reading in draws_by_target.items():
        for r, d in enumerate(per_reading):
            cols.append(ReadingColumn(0, r, t, len(blocks)))
            blocks.append(d)
    return cols, np.column_stack(blocks)


def test_a_number_is_never_judged_under_a_reading_it_chose_itself():
    rng = np.random.default_rng(2)
    n = 300
    # one reading-dependent number: reading 1 fits it, but nothing else says so
    cols, draws = _columns({"t": [rng.normal(0, 1, n), rng.normal(5, 1, n)]})
    res, judged = choose_readings([_G(2)], cols, draws, {"t": (5.0, "identity", 0.0)})
    assert res[0].preferred == 1 and judged["t"] == (0, 0)
    # two more numbers that favour reading 1 move it, and each other
    cols, draws = _columns({
        "t": [rng.normal(0, 1, n), rng.normal(5, 1, n)],
        "u": [rng.normal(0, 1, n), rng.normal(4, 1, n)],
        "v": [rng.normal(10, 1, n), rng.normal(20, 1, n)]})
    nums = {"t": (5.0, "identity", 0.0), "u": (4.0, "identity", 0.0),
            "v": (20.0, "identity", 0.0)}
    res, judged = choose_readings([_G(2)], cols, draws, nums)
    assert judged == {"t": (0, 1), "u": (0, 1), "v": (0, 1)}
    assert res[0].per_choice[0][:2] == ("x", "1") and res[0].strength == "very strong"


def test_repeated_numbers_count_once_and_equal_draws_are_not_reading_dependent():
    rng = np.random.default_rng(3)
    x0, x1 = rng.normal(0, 1, 200), rng.normal(1, 1, 200)
    same = rng.normal(2, 1, 200)
    cols, draws = _columns({"a": [x0, x1], "a_abstract": [x0, x1], "km": [same, same]})
    nums = {k: (0.9, "identity", 0.05) for k in ("a", "a_abstract", "km")}
    res, judged = choose_readings([_G(2)], cols, draws, nums)
    assert res[0].numbers == ("a",) and set(res[0].dependent) == {"a", "a_abstract"}
    # a and its repeat are one number: the other "numbers" are only itself -> declared
    assert judged["a"] == judged["a_abstract"] == judged["km"] == (0, 0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(-3, 3))
def test_relabelling_readings_does_not_change_the_choice(seed, y):
    rng = np.random.default_rng(seed)
    per = [rng.normal(m, 1, 100) for m in (0.0, 1.0, -1.0)]
    cols, draws = _columns({"t": per, "u": [p + 0.5 for p in per]})
    nums = {"t": (y, "identity", 0.0), "u": (y + 0.5, "identity", 0.0)}
    res, _ = choose_readings([_G(3)], cols, draws, nums)
    perm = [2, 0, 1]
    cols2, draws2 = _columns({"t": [per[i] for i in perm],
                              "u": [per[i] + 0.5 for i in perm]})
    res2, _ = choose_readings([_G(3)], cols2, draws2, nums)
    assert perm[res2[0].preferred] == res[0].preferred
    assert sorted(s.loglik for s in res[0].scores) == pytest.approx(
        sorted(s.loglik for s in res2[0].scores))


@pytest.fixture(scope="module")
def misread_study(tmp_path_factory):
    """The fictional study with its stabilized weights declared unstabilized, and the
    stabilization left open as a reading."""
    d = tmp_path_factory.mktemp("misread") / "fictional"
    shutil.copytree(FICTIONAL, d)
    p = d / "analysis.toml"
    text = p.read_text()
    assert "stabilized = true" in text
    p.write_text(text.replace("stabilized = true", "stabilized = false") + textwrap.dedent("""
        [[readings]]
        option = "stabilized"
        values = [false, true]
        analyses = ["iptw"]
        why = "the methods say IPTW without saying whether the weights were stabilized"
    """))
    return load_study(d)


@pytest.fixture(scope="module")
def misread(misread_study):
    """The misread study's run."""
    return reproduce(misread_study, reps=60, seed=5, decompose_reps=0)


def test_the_numbers_pick_the_reading_the_paper_used(misread):
    (g,) = misread.readings
    assert g.preferred_label == "stabilized=true" and g.strength == "very strong"
    by = {t.id: t for t in misread.targets}
    for tid in ("n_tace_iptw", "n_tace_l_iptw"):
        t = by[tid]
        # judged under the reading the other numbers favour, reproduced only there
        assert (t.reading, t.reading_declared) == ("stabilized=true", False)
        assert t.verdict == "reproduced" and t.reproduced_under == ("stabilized=true",)
    # targets of other analyses carry no reading
    assert by["os_hr_crude"].reading == "" and by["os_hr_crude"].reproduced_under is None
    frame = g.to_frame()
    assert list(frame.label) == ["stabilized=false", "stabilized=true"]
    assert frame.preferred.tolist() == [False, True]


def test_readings_leave_the_declared_draws_unchanged(misread):
    """The declared reading's columns equal a run without readings (same seed): a reading
    never changes another reading's draws."""
    plain = reproduce(load_study(FICTIONAL), reps=60, seed=5, decompose_reps=0)
    n = len(plain.draw_ids)
    # the fictional study declares stabilized = true: its iptw columns are the reading's
    ids = list(misread.draw_ids)
    iptw = {t.id for t in misread.targets if t.analysis == "iptw"}
    assert len(iptw) >= 3
    for j, tid in enumerate(plain.draw_ids):
        if tid in iptw:
            k = ids.index(f"reading:iptw:stabilized=true:{tid}")
            np.testing.assert_array_equal(misread.draws[:, k], plain.draws[:, j])
        else:
            np.testing.assert_array_equal(misread.draws[:, ids.index(tid)],
                                          plain.draws[:, j])
    assert n < len(ids)


def test_a_number_no_reading_produces_does_not_decide():
    """A misfit number 30 SDs from every reading, slightly nearer reading 1's tail, against
    two numbers that fit reading 0: reading 0 is preferred (without the contamination
    component the far number's squared distance would decide)."""
    rng = np.random.default_rng(4)
    n = 300
    x = rng.normal(0, 1, n)
    cols, draws = _columns({
        "far": [x, x + 0.5],
        "a": [rng.normal(0, 1, n), rng.normal(1.5, 1, n)],
        "b": [rng.normal(0, 1, n), rng.normal(1.5, 1, n)]})
    nums = {"far": (30.0, "identity", 0.0), "a": (0.0, "identity", 0.0),
            "b": (0.1, "identity", 0.0)}
    res, judged = choose_readings([_G(2)], cols, draws, nums)
    assert res[0].preferred == 0
    far = draws[:, [0, 1]]
    assert number_loglik(far[:, 1], 30.0) - number_loglik(far[:, 0], 30.0) > 10


def test_a_reading_counts_a_number_reproduced_as_its_verdict_does():
    """A reading's "distinct numbers reproduced" uses the verdicts' rule, printed rounding
    included: a number printed as 1.00 whose 1.00 lies just below the central 95% of a
    reading's draws, but whose 1.005 lies inside, is reproduced by its verdict under that
    reading, and so counted by the reading's score."""
    from scipy import special
    from tacebench.replications.verdicts import judge, midrank_cdf
    # log-normal quantiles whose 2.5% point is 1.0025, between 1.00 and 1.005
    z = special.ndtri(np.linspace(0.0005, 0.9995, 1000))
    x0 = np.exp(math.log(1.2) + (math.log(1.2) - math.log(1.0025)) / 1.96 * z)
    x1 = x0 * 1.3
    number = (1.0, "log", 0.005)
    assert midrank_cdf(np.log(x0), 0.0) < 0.025 < midrank_cdf(np.log(x0), math.log(1.005))
    cols, draws = _columns({"hr": [x0, x1]})
    res, _ = choose_readings([_G(2)], cols, draws, {"hr": number})
    assert [s.reproduced for s in res[0].scores] == [
        int(judge(d, *number[:2], half_unit=number[2]).verdict == "reproduced")
        for d in (x0, x1)] == [1, 0]


def test_a_count_of_people_is_exact_and_a_weighted_one_is_rounded():
    """An unweighted count or group size printed as 82 is exactly 82 (y* = y): a half unit
    of 0.5 let 82 stand for 81.5, and 'reproduced under 4/6 readings' counted readings
    whose draws only reach 81.5; a weighted group size printed as 296 is rounded."""
    from tacebench.replications.reading_choice import printed_half_unit
    from tacebench.replications.targets.model import Target
    from tacebench.replications.verdicts import judge
    n = Target("n_a_psm", "psm", "group_size", "predicted", "table 1", "(n=82)", arm="A",
               value=82.0, printed=(("value", "82"),))
    deaths = Target("os_deaths_a", "crude", "rate", "predicted", "text", "seven died",
                    count=7.0, printed=(("count", "seven"),))
    weighted = Target("n_a_iptw", "iptw", "weighted_group_size", "predicted", "table 1",
                      "(n=296)", arm="A", value=296.0, weighted=True,
                      printed=(("value", "296"),))
    assert printed_half_unit(n, "group_size") == 0.0
    assert printed_half_unit(deaths, "count") == 0.0
    assert printed_half_unit(weighted, "weighted_group_size") == 0.5
    # matched arms of 70..81 patients: 82 is beyond every draw, 81.5 was inside
    draws = np.repeat(np.arange(70.0, 82.0), 20)
    assert judge(draws, 82.0, half_unit=printed_half_unit(n, "group_size")).verdict == \
        "not reproduced"


def test_reasons_are_those_of_the_reading_a_number_is_judged_under(misread_study, misread):
    """A number judged under a reading other than the declared one gives the reasons of
    that reading's missing draws: 10 replicates without a value there, 11 under the
    declared reading, say 'in 10' (the reason said 'in 11' with 10 draws missing)."""
    from tacebench.replications.reproduce import prepare
    from tacebench.replications.summaries import summarise
    from tacebench.replications.notes import note_lines
    study = misread_study
    _, plan = prepare(study, 5)
    draws = misread.draws.copy()
    tid, alt = "n_tace_iptw", "reading:iptw:stabilized=true:n_tace_iptw"
    draws[:10, list(misread.draw_ids).index(alt)] = np.nan
    draws[:11, list(misread.draw_ids).index(tid)] = np.nan
    fails = {(alt, "no value"): 10, (tid, "no value"): 11}
    res = summarise(study, plan, draws, {}, reps=misread.reps, seed=5, elapsed=0.0,
                    failures=fails)
    t = next(x for x in res.targets if x.id == tid)
    assert (t.reading, t.reading_declared) == ("stabilized=true", False)
    assert t.reason == f"estimable {misread.reps - 10}/{misread.reps}: no value in 10"
    # study notes are the declared run's: they say so for an analysis with readings
    line, = note_lines({"iptw: note: propensity model separated": 7}, 200,
                       declared={"iptw": "stabilized=false"})
    assert line.startswith("Note: iptw (declared reading stabilized=false): propensity")


def test_a_shift_is_judged_with_the_rounding_of_its_printed_ends(misread_study, misread):
    """A shift between HRs printed as 0.72 and 0.70 stands for every log ratio their
    rounding allows, [log(0.695 / 0.725), log(0.705 / 0.715)]: with the simulated shifts'
    2.5% point between log(0.70 / 0.72) and that interval's upper end, the printed
    shift is reproduced (it was judged as the point log(0.70 / 0.72) alone)."""
    from scipy import special
    from tacebench.replications.printed_shift import shift_printed
    from tacebench.replications.reproduce import prepare
    from tacebench.replications.summaries import summarise
    study = misread_study
    s = next(x for x in study.targets.shifts if x.id == "os_hr_crude_to_iptw")
    lo, hi = shift_printed(s, study.targets[s.from_], study.targets[s.to])
    assert (lo, hi) == pytest.approx((math.log(0.695 / 0.725), math.log(0.705 / 0.715)))
    assert s.reported == pytest.approx(math.log(0.70 / 0.72)) and lo < s.reported < hi
    # an inverted ``to`` end (B vs A against A vs B) and a linear shift, likewise
    from types import SimpleNamespace
    a, b = study.targets[s.from_], study.targets[s.to]
    assert shift_printed(SimpleNamespace(scale="log", orientation=-1), a, b) == pytest.approx(
        (-math.log(0.705) - math.log(0.725), -math.log(0.695) - math.log(0.715)))
    assert shift_printed(SimpleNamespace(scale="linear", orientation=1), a, b) == pytest.approx(
        (0.695 - 0.725, 0.705 - 0.715))
    _, plan = prepare(study, 5)
    draws = misread.draws.copy()
    R = draws.shape[0]
    ids = list(misread.draw_ids)
    q025 = s.reported + 0.1 * (hi - s.reported)    # just above the printed point
    shift = q025 + 0.01 * (1.96 + special.ndtri(np.linspace(0.001, 0.999, R)))
    draws[:, ids.index("os_hr_crude")] = 1.0
    for c in ("os_hr_iptw", "reading:iptw:stabilized=true:os_hr_iptw"):
        draws[:, ids.index(c)] = np.exp(shift)
    res = summarise(study, plan, draws, {}, reps=R, seed=5, elapsed=0.0)
    r = next(x for x in res.shifts if x.id == s.id)
    assert r.lo > s.reported and r.verdict == "reproduced"


def test_the_table_shows_the_reported_number_as_printed(misread):
    """The 'reported' column shows the printed text: 13.97 months and 62.73% were shown as
    14.0 and 62.7% (the float at the kind's default precision)."""
    from dataclasses import replace
    from tacebench.replications.reading_choice import reported_text
    from tacebench.replications.result_rows import target_rows
    from tacebench.replications.targets.model import Target
    median = Target("os_median_a", "crude", "km_median", "predicted", "text", "13.97 months",
                    value=13.97, printed=(("value", "13.97"),))
    rate = Target("orr_a", "crude", "rate", "predicted", "text", "62.73%", value=0.6273,
                  percent_scale=True, printed=(("value", "62.73"),))
    deaths = Target("os_deaths_a", "crude", "rate", "predicted", "text", "seven died",
                    count=7.0, printed=(("count", "seven"),))
    assert [reported_text(median, "km_median"), reported_text(rate, "rate"),
            reported_text(deaths, "count")] == ["13.97", "62.73%", ""]
    by = {t.id: t for t in misread.targets}
    assert by["os_hr_iptw"].reported_text == "0.70"
    res = replace(misread, targets=tuple(replace(t, reported_text="0.700")
                                         if t.id == "os_hr_iptw" else t
                                         for t in misread.targets))
    row = next(r for r in target_rows(res) if r[0] == "os_hr_iptw")
    assert row[2] == "0.700"


def test_a_verdict_another_reading_reverses_with_weak_evidence_is_contested():
    """Seed 003's n_mtt_and_pd_l_1_stabilized_iptw: NOT reproduced under the reading the
    other numbers favour, reproduced under one they favour almost as much (LR 2.5): the
    verdict rests on a choice the numbers cannot make."""
    rng = np.random.default_rng(5)
    n = 400
    t_draws = [rng.normal(0, 1, n), rng.normal(3, 1, n)]       # 2.9: outside r0, inside r1
    weak = [rng.normal(0, 1, n), rng.normal(0.3, 1, n)]        # 0.0 barely prefers r0
    cols, draws = _columns({"t": t_draws, "u": weak})
    nums = {"t": (2.9, "identity", 0.0), "u": (0.0, "identity", 0.0)}
    res, judged = choose_readings([_G(2)], cols, draws, nums)
    assert judged["t"] == (0, 0)
    assert dict(res[0].contested) == {"t": (1,)}
    # when the other numbers rule reading 1 out (LR far above 3), nothing is contested
    strong = [rng.normal(0, 1, n), rng.normal(6, 1, n)]
    cols, draws = _columns({"t": t_draws, "u": weak, "v": strong})
    nums["v"] = (0.0, "identity", 0.0)
    res, judged = choose_readings([_G(2)], cols, draws, nums)
    assert judged["t"] == (0, 0) and "t" not in dict(res[0].contested)


def test_a_number_never_estimable_under_a_reading_leaves_the_others_to_choose():
    """Under reading 1 number ``t`` has no estimate in any replicate (log-likelihood
    -inf). Leaving ``t`` out, the others still score reading 1 (``u`` and ``v`` favour
    it): the leave-one-out total is theirs, not ``-inf - -inf``, which was NaN and made
    every comparison false."""
    rng = np.random.default_rng(5)
    n = 300
    cols, draws = _columns({
        "t": [rng.normal(5, 1, n), np.full(n, np.nan)],
        "u": [rng.normal(0, 1, n), rng.normal(4, 1, n)],
        "v": [rng.normal(10, 1, n), rng.normal(20, 1, n)]})
    nums = {"t": (5.0, "identity", 0.0), "u": (4.0, "identity", 0.0),
            "v": (20.0, "identity", 0.0)}
    res, judged = choose_readings([_G(2)], cols, draws, nums)
    assert res[0].preferred == 0 and math.isinf(res[0].scores[1].loglik)
    assert judged["t"] == (0, 1)            # the others favour reading 1 strongly
    assert judged["u"] == judged["v"] == (0, 0)


def test_a_verdict_the_others_cannot_choose_for_is_contested():
    """Leaving ``t`` out, each reading loses one other number's every estimate (``u``
    under reading 0, ``v`` under reading 1): the others score both ``-inf`` and favour
    neither. ``t`` is judged under the declared reading, and its verdict, which reading 1
    reverses, is contested (``-inf - -inf`` was NaN: a RuntimeWarning, and no reading
    counted as favoured about as much)."""
    rng = np.random.default_rng(7)
    n = 300
    cols, draws = _columns({"t": [rng.normal(5, 1, n), rng.normal(0, 1, n)],
                            "u": [np.full(n, np.nan), rng.normal(4, 1, n)],
                            "v": [rng.normal(10, 1, n), np.full(n, np.nan)]})
    nums = {"t": (5.0, "identity", 0.0), "u": (4.0, "identity", 0.0),
            "v": (10.0, "identity", 0.0)}
    res, judged = choose_readings([_G(2)], cols, draws, nums)
    assert judged["t"] == (0, 0)
    assert dict(res[0].contested).get("t") == (1,)


def test_no_reading_gives_every_number_an_estimate():
    rng = np.random.default_rng(6)
    n = 200
    cols, draws = _columns({"t": [rng.normal(5, 1, n), np.full(n, np.nan)],
                            "u": [np.full(n, np.nan), rng.normal(4, 1, n)]})
    res, judged = choose_readings([_G(2)], cols, draws, {"t": (5.0, "identity", 0.0),
                                                         "u": (4.0, "identity", 0.0)})
    # no favoured reading overall; each number is judged where the other has estimates
    assert res[0].log_lr == 0.0 and judged == {"t": (0, 1), "u": (0, 0)}


def test_choose_readings_hands_back_each_verdict_it_judged():
    """judge_readings asks is_reproduced of the numbers choose_readings already judged
    (each class's first number under each reading): choose_readings hands those back,
    keyed by (column, target id), equal to is_reproduced of that column."""
    rng = np.random.default_rng(5)
    x0, x1, x2 = rng.normal(0, 1, 200), rng.normal(1, 1, 200), rng.normal(0.9, 0.3, 200)
    cols, draws = _columns({"a": [x0, x1, x2], "a_abstract": [x0, x1, x2],
                            "b": [x1, x0, x2]})
    nums = {"a": (0.9, "identity", 0.05), "a_abstract": (0.9, "identity", 0.05),
            "b": (0.2, "identity", 0.05)}
    reproduced = {}
    choose_readings([_G(3)], cols, draws, nums, reproduced)
    at = {(c.target, c.reading): c.column for c in cols}
    assert set(reproduced) == {(at["a", r], "a") for r in range(3)} | {
        (at["b", r], "b") for r in range(3)}
    for (column, tid), found in reproduced.items():
        assert found == is_reproduced(draws[:, column], nums[tid])
    assert {found for found in reproduced.values()} == {True, False}
