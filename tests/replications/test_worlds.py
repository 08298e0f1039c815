"""Worlds: overrides of cohort.toml as data, robustness labels and tipping points."""
import math
import shutil
import textwrap
import tomllib
from pathlib import Path

import pytest

from tacebench.replications.check import check_folder, load_study
from tacebench.replications.reproduce import reproduce
from tacebench.replications.robustness import (Robustness, WorldRun, robustness,
                                               with_worlds, world_build_problems, world_list)
from tacebench.replications.verdicts import Z_CRIT
from tacebench.replications.worlds import (CONFOUNDER_STRENGTHS, WorldError, apply_world,
                                           builtin_worlds, load_worlds)

FICTIONAL = Path(__file__).parent / "fictional_study"


def _folder(tmp_path, text):
    d = tmp_path / "study"
    shutil.copytree(FICTIONAL, d)
    (d / "worlds.toml").write_text(textwrap.dedent(text))
    return d


def _worlds_only(tmp_path, text):
    (tmp_path / "worlds.toml").write_text(textwrap.dedent(text))
    return tmp_path


def _raw():
    return tomllib.loads((FICTIONAL / "cohort.toml").read_text())


def test_set_and_append_apply_to_a_copy(tmp_path):
    (w,), problems = load_worlds(_worlds_only(tmp_path, 
        """
        [[worlds]]
        name = "w"
        why = "because"
        [worlds.set]
        "cohorts.main.censoring.follow_up" = 99
        [worlds.append]
        "cohorts.main.outcomes.os.effects" = [{ variable = "male", hr = 1.5 }]
        """))
    assert not problems
    raw = _raw()
    out = apply_world(raw, w)
    assert out["cohorts"]["main"]["censoring"]["follow_up"] == 99
    assert out["cohorts"]["main"]["outcomes"]["os"]["effects"][-1]["variable"] == "male"
    assert raw == _raw()                         # the original is untouched


def test_unset_removes_keys_and_list_items_before_set_and_append(tmp_path):
    (w,), problems = load_worlds(_worlds_only(tmp_path,
        """
        [[worlds]]
        name = "w"
        why = "because"
        unset = ["cohorts.main.censoring.follow_up",
                 "cohorts.main.outcomes.os.effects[variable=pvtt]"]
        [worlds.append]
        "cohorts.main.outcomes.os.effects" = [{ variable = "pvtt", hr = 1.5 }]
        """))
    assert not problems and w.unset == ("cohorts.main.censoring.follow_up",
                                        "cohorts.main.outcomes.os.effects[variable=pvtt]")
    raw = _raw()
    out = apply_world(raw, w)["cohorts"]["main"]
    assert "follow_up" not in out["censoring"]
    own = raw["cohorts"]["main"]["outcomes"]["os"]["effects"]
    assert out["outcomes"]["os"]["effects"] == [
        e for e in own if e["variable"] != "pvtt"] + [{"variable": "pvtt", "hr": 1.5}]
    assert raw == _raw()


def test_a_family_scales_the_appended_log_effects(tmp_path):
    ws, problems = load_worlds(_worlds_only(tmp_path, 
        """
        [[worlds]]
        name = "fam"
        why = "x"
        strength = [1.0, 0.5]
        [worlds.append]
        "cohorts.main.outcomes.os.effects" = [{ variable = "male", hr = 4.0 },
                                              { variable = "child_pugh", hr = [9.0] }]
        """))
    assert not problems and [w.strength for w in ws] == [0.5, 1.0]
    half = apply_world(_raw(), ws[0])["cohorts"]["main"]["outcomes"]["os"]["effects"]
    assert half[-2]["hr"] == pytest.approx(2.0) and half[-1]["hr"] == [pytest.approx(3.0)]
    assert ws[0].label == "fam k=0.5" and ws[0].family == "fam"


@pytest.mark.parametrize("text, key", [
    ('[[worlds]]\nname = "w"\n[worlds.set]\n"a.b" = 1', "worlds[0].why"),
    ('[[worlds]]\nname = "W x"\nwhy = "y"\n[worlds.set]\n"a.b" = 1', "worlds[0].name"),
    ('[[worlds]]\nname = "w"\nwhy = "y"', "worlds[0]"),
    ('[[worlds]]\nname = "w"\nwhy = "y"\nstrength = [0, 1]\n[worlds.append]\n"a" = [1]',
     "worlds[0].strength"),
    ('[[worlds]]\nname = "w"\nwhy = "y"\nstrength = [1]\n[worlds.set]\n"a" = 1',
     "worlds[0].strength"),
    ('[[worlds]]\nname = "w"\nwhy = "y"\nsurprise = 1\n[worlds.set]\n"a" = 1',
     "worlds[0].surprise"),
    ('[[worlds]]\nname = "w"\nwhy = "y"\nunset = "a.b"', "worlds[0].unset"),
    ('[[worlds]]\nname = "w"\nwhy = "y"\nunset = ["a.b"]\n[worlds.set]\n"a.b" = 1',
     "worlds[0].unset"),
    ('[[worlds]]\nname = "w"\nwhy = "y"\nunset = ["a[x"]', "worlds[0].a[x"),
    # a name of another type (an array was a TypeError: unhashable)
    ('[[worlds]]\nname = []\nwhy = "y"\n[worlds.set]\n"a.b" = 1', "worlds[0].name"),
    ('[[worlds]]\nname = {x = 1}\nwhy = "y"\n[worlds.set]\n"a.b" = 1', "worlds[0].name"),
])
def test_declaration_problems_name_the_key(tmp_path, text, key):
    _, problems = load_worlds(_worlds_only(tmp_path, text))
    assert key in {p.key for p in problems}, [str(p) for p in problems]


def test_check_applies_every_world_and_names_the_path(tmp_path):
    d = _folder(tmp_path, """
        [[worlds]]
        name = "typo"
        why = "a path that does not exist"
        [worlds.set]
        "cohorts.main.outcomes.os.effects[variable=nope].hr" = 2.0
        [[worlds]]
        name = "bad_value"
        why = "a value simulate refuses"
        [worlds.set]
        "cohorts.main.censoring.follow_up" = -5
    """)
    report = check_folder(d)
    keys = {p.key for p in report.errors}
    assert any(k.startswith("worlds[0].") for k in keys), keys
    assert "worlds[1]" in keys
    assert all(p.file.endswith("worlds.toml") for p in report.errors)


def test_an_appended_effect_of_one_arm_is_checked_against_the_arms(tmp_path):
    """A family appending an effect of one arm: a known arm builds, an unknown one is the
    world's problem naming the effect's key, its value and the arms."""
    d = _folder(tmp_path, """
        [[worlds]]
        name = "in_one_arm"
        why = "an effect of the treated arm only"
        strength = [0.5, 1.0]
        [worlds.append]
        "cohorts.main.outcomes.os.effects" = [{ variable = "age", hr = 1.02, arm = "TACE-L" }]
        [[worlds]]
        name = "in_no_arm"
        why = "a misspelt arm"
        [worlds.append]
        "cohorts.main.outcomes.os.effects" = [{ variable = "age", hr = 1.02, arm = "TACE-X" }]
    """)
    errors = check_folder(d).errors
    assert [p.key for p in errors] == ["worlds[1]"], [str(p) for p in errors]
    assert ("cohorts.main.outcomes.os.effects[4].arm: unknown arm 'TACE-X'; arms are "
            "['TACE', 'TACE-L']") in errors[0].message, errors[0].message


def test_worlds_built_on_threads_report_as_built_one_after_the_other(tmp_path):
    """check builds the worlds two at a time: the same problems, in the worlds' order, as
    one after the other, a world that builds between two that do not."""
    d = _folder(tmp_path, """
        [[worlds]]
        name = "steep"
        why = "an HR per year of age meant per decade"
        [worlds.append]
        "cohorts.main.outcomes.os.effects" = [{ variable = "age", hr = 1000.0 }]
        [[worlds]]
        name = "fine"
        why = "an effect of the treated arm only"
        [worlds.append]
        "cohorts.main.outcomes.os.effects" = [{ variable = "age", hr = 1.02, arm = "TACE-L" }]
        [[worlds]]
        name = "steeper"
        why = "the same, stronger"
        [worlds.append]
        "cohorts.main.outcomes.os.effects" = [{ variable = "age", hr = 2000.0 }]
    """)
    study = load_study(d)
    one_by_one = world_build_problems(study, "declared", threads=0)
    assert [p.key for p in one_by_one] == ["worlds[0]", "worlds[2]"], [str(p) for p in one_by_one]
    assert "2000 per 1 unit(s) of age" in one_by_one[1].message, one_by_one[1].message
    told = []
    assert [str(p) for p in world_build_problems(study, "declared", threads=2,
                                                 progress=lambda k, n: told.append((k, n)))] == [
        str(p) for p in one_by_one]
    assert told == [(0, 3), (1, 3), (2, 3), (3, 3)]   # what check's progress bar is told


def test_a_selector_two_arms_entries_match_is_the_worlds_error_naming_the_key(tmp_path):
    """Effects of one covariate per arm: ``[variable=multiple]`` matched the first entry and
    set it silently; now the world's error names the path and the key that tells the
    entries apart, and ``[variable=multiple,arm=...]`` sets the one meant."""
    d = _folder(tmp_path, """
        [[worlds]]
        name = "one_arm"
        why = "the treated arm's effect of multiple nodules stronger"
        [worlds.set]
        "cohorts.main.outcomes.os.effects[variable=multiple,arm=\\"TACE-L\\"].hr" = 1.6
        [[worlds]]
        name = "ambiguous"
        why = "the same, the arm not said"
        [worlds.set]
        "cohorts.main.outcomes.os.effects[variable=multiple].hr" = 1.6
    """)
    cohort = d / "cohort.toml"
    one = '  { variable = "multiple", hr = 1.3 },\n'
    text = cohort.read_text()
    assert one in text
    cohort.write_text(text.replace(one, '  { variable = "multiple", hr = 1.2, arm = "TACE" },\n'
                                        '  { variable = "multiple", hr = 1.4, arm = "TACE-L" },\n'))
    errors = check_folder(d).errors
    assert [p.key for p in errors] == ["worlds[1].cohorts.main.outcomes.os.effects"
                                       "[variable=multiple].hr"], [str(p) for p in errors]
    assert ("2 items match [variable=multiple]: add a key that tells them apart (arm)"
            in errors[0].message), errors[0].message
    (w,), _ = load_worlds(_worlds_only(tmp_path, """
        [[worlds]]
        name = "one_arm"
        why = "y"
        [worlds.set]
        "cohorts.main.outcomes.os.effects[variable=multiple,arm=\\"TACE-L\\"].hr" = 1.6
    """))
    out = apply_world(tomllib.loads(cohort.read_text()), w)
    assert [e["hr"] for e in out["cohorts"]["main"]["outcomes"]["os"]["effects"][3:5]] == [
        1.2, 1.6]


def test_bad_paths_raise_with_the_path():
    from tacebench.replications.worlds import World
    for path in ("cohorts.main.nope.x", "cohorts.main.variables[999].name",
                 "cohorts.main.variables[name=nope].name"):
        with pytest.raises(WorldError) as info:
            apply_world(_raw(), World("w", "y", {path: 1}))
        assert path in str(info.value)


def test_builtin_confounder_family_only_for_two_arm_cohorts():
    ws = [w for w in builtin_worlds(_raw()) if w.family == "unmeasured_confounder"]
    assert [w.strength for w in ws] == list(CONFOUNDER_STRENGTHS)
    u = apply_world(_raw(), ws[-1])["cohorts"]["main"]["unmeasured"]
    assert u["treatment_or"] == u["os_hr"] == CONFOUNDER_STRENGTHS[-1]
    one_arm = _raw()
    one_arm["cohorts"]["main"]["arms"] = one_arm["cohorts"]["main"]["arms"][:1]
    assert builtin_worlds(one_arm) == ()


def _run(name, family, k, verdicts):
    return WorldRun(name, name if k is None else f"{family} k={k:g}", "why", family, k,
                    False, verdicts, {})


def test_robustness_labels_and_tipping_point_interpolate_z():
    base = {"a": ("reproduced", 1.0, 0.0), "b": ("not reproduced", 3.0, 0.0),
            "c": ("not estimable", math.nan, math.nan)}
    runs = [_run("f_k0.5", "f", 0.5, {"a": ("reproduced", 1.5, 0), "b": ("not reproduced", 2.5, 0)}),
            _run("f_k1", "f", 1.0, {"a": ("not reproduced", 2.46, 0),
                                   "b": ("not reproduced", 2.2, 0)}),
            _run("other", None, None, {"a": ("reproduced", 0.0, 0),
                                      "b": ("reproduced", 1.0, 0)})]
    rob = robustness(base, runs)
    assert rob["a"].label == "assumption-dependent" and rob["a"].flipped_by == ("f k=1",)
    (tip,) = rob["a"].tipping
    # z goes 1.5 -> 2.46 between k = 0.5 and 1: 1.96 is crossed at k = 0.5 + 0.46/0.96 * 0.5
    assert tip.k == pytest.approx(0.5 + 0.5 * (Z_CRIT - 1.5) / 0.96)
    assert tip.between == (0.5, 1.0)
    assert rob["b"].label == "assumption-dependent" and rob["b"].flipped_by == ("other",)
    assert math.isinf(rob["b"].tipping[0].k) and "> 1" in rob["b"].tipping[0].text()
    assert rob["c"].label == "not judged"


def test_an_undetermined_member_places_the_tipping_point_but_is_not_judged():
    """The own world grew R and reproduced z = -1.74; at k = 1.2 (R = 200) the number is
    undetermined at z = -1.74, at k = 1.5 not reproduced at -2.58: the crossing lies
    between 1.2 and 1.5, not between the own world and 1.5 (which read k = 1.13), and the
    verdict is judged in one world of two."""
    base = {"a": ("reproduced", -1.737, 0.0)}
    runs = [_run("f_k1.2", "f", 1.2, {"a": ("undetermined", -1.742, 0)}),
            _run("f_k1.5", "f", 1.5, {"a": ("not reproduced", -2.580, 0)})]
    (tip,) = robustness(base, runs)["a"].tipping
    assert tip.between == (1.2, 1.5)
    assert tip.k == pytest.approx(1.2 + 0.3 * (Z_CRIT - 1.742) / (2.580 - 1.742))
    assert robustness(base, runs)["a"].worlds_judged == 1


def test_an_undetermined_member_beyond_the_critical_value_places_nothing():
    base = {"a": ("reproduced", 1.0, 0.0)}
    runs = [_run("f_k1", "f", 1.0, {"a": ("undetermined", 2.0, 0)}),
            _run("f_k2", "f", 2.0, {"a": ("not reproduced", 3.0, 0)})]
    (tip,) = robustness(base, runs)["a"].tipping
    assert tip.between == (0.0, 2.0)


def test_a_family_judged_nowhere_says_so_instead_of_beyond_its_last_member():
    """Every member undetermined: '> 3' would claim no member flips the verdict."""
    base = {"a": ("reproduced", -1.74, 0.0)}
    runs = [_run(f"c_k{k}", "c", k, {"a": ("undetermined", -1.8, 0)}) for k in (1.5, 2, 3)]
    (tip,) = robustness(base, runs)["a"].tipping
    assert not tip.judged and tip.text() == "c: not judged"
    assert robustness(base, runs)["a"].label == "untested"
    assert robustness(base, runs)["a"].worlds_judged == 0


def test_robust_when_every_world_agrees():
    rob = robustness({"a": ("reproduced", 0.1, 0)},
                     [_run("x", None, None, {"a": ("reproduced", 0.5, 0)})])
    assert rob["a"] == Robustness("a", "robust", "reproduced", (), (), 1)


def test_worlds_end_to_end_on_the_same_seeds(tmp_path):
    d = _folder(tmp_path, """
        [[worlds]]
        name = "strong_pvtt"
        why = "the PVTT effect doubled on the log scale"
        [worlds.set]
        "cohorts.main.outcomes.os.effects[variable=pvtt].hr" = 4.0
    """)
    study = load_study(d)
    assert [w.name for w in world_list(study, "declared")] == ["strong_pvtt"]
    assert len(world_list(study, "all")) == 1 + len(builtin_worlds(study.cohort_raw))
    assert world_list(study, "none") == ()
    base = reproduce(study, reps=30, seed=3, decompose_reps=0)
    res = with_worlds(study, base, reproduce, "declared", reps=30, seed=3)
    (w,) = res.worlds
    assert w.name == "strong_pvtt" and set(w.verdicts) == set(res.robustness)
    assert {r.label for r in res.robustness.values()} <= {
        "robust", "assumption-dependent", "unsettled", "not judged", "untested"}
    # calibration targets are refitted in the world: their medians stay near the paper's
    by = {t.id: t for t in base.targets}
    for tid in ("os_median_tace_crude", "os_median_tace_l_crude"):
        assert abs(w.verdicts[tid][2] - by[tid].reported) < 3 * by[tid].robust_sd + 0.5
    # the study's own result is unchanged by attaching worlds
    assert [t.verdict for t in res.targets] == [t.verdict for t in base.targets]
    with pytest.raises(ValueError, match="worlds must be one of"):
        world_list(study, "some")


def test_a_world_undetermined_on_the_other_side_of_the_bound_is_no_robustness():
    """Reproduced in the own world (z 1.5) and in one world (z 1.0); undetermined in
    another with z 2.08, past 1.96: not robust but unsettled, leaning there. The same
    world undetermined at z 1.94 (on the own world's side) leaves it robust."""
    from tacebench.replications.robustness import WorldRun, robustness

    def world(name, verdict, z):
        return WorldRun(name, name, "", None, None, False, {"x": (verdict, z, 0.0)}, {})

    base = {"x": ("reproduced", 1.5, 0.0)}
    got = robustness(base, [world("a", "reproduced", 1.0), world("b", "undetermined", 2.08)])
    assert (got["x"].label, got["x"].leaning, got["x"].worlds_judged) == ("unsettled",
                                                                           ("b",), 1)
    got = robustness(base, [world("a", "reproduced", 1.0), world("b", "undetermined", 1.94)])
    assert (got["x"].label, got["x"].leaning) == ("robust", ())
    # and the other way round: not reproduced (z 2.5), undetermined at z 1.9 leans over
    got = robustness({"x": ("not reproduced", 2.5, 0.0)},
                     [world("b", "undetermined", 1.9)])
    assert got["x"].label == "unsettled"


def test_seed_002s_world_of_the_inclusion_removes_it_and_changes_nothing_else():
    """The world that reads the inclusion criteria as the unresectable cohort's alone
    removes the recurrent cohort's inclusion and changes nothing else."""
    from tacebench.simulate.overrides import load_cohort_raw

    own = load_cohort_raw("tace_sorafenib_matched")["cohorts"]
    world = load_cohort_raw("tace_sorafenib_matched@inclusion_in_unresectable_cohort_only")["cohorts"]
    assert "inclusion" in own["recurrent"]["time_varying"]
    del own["recurrent"]["time_varying"]["inclusion"]
    assert world == own
