"""Overrides of a parsed cohort.toml, and a study's declared world as a benchmark base."""

import numpy as np
import pytest

from tacebench.simulate.cohort import compile_plan, generate_cohort
from tacebench.simulate.io import find_study, spec_from_dict
from tacebench.simulate.overrides import OverrideError, apply_overrides, load_cohort_raw
from tacebench.simulate.table1 import read_cohort_toml


def _raw():
    """Seed 000's cohort.toml as parsed, its Table 1 file expanded (the table is data only)."""
    return read_cohort_toml(find_study("tace_sorafenib_ehs"))


def test_a_declared_world_is_the_cohort_file_with_its_overrides():
    raw = load_cohort_raw("tace_sorafenib_ehs@multivariable_column")
    os_ = raw["cohorts"]["main"]["outcomes"]["os"]
    assert os_["associations"] == [] and [e["variable"] for e in os_["effects"]][:2] == [
        "ecog", "tumor_size"]
    assert load_cohort_raw("tace_sorafenib_ehs") == _raw()


@pytest.mark.parametrize("base, match", [
    ("tace_sorafenib_ehs@nope", "no world 'nope'"),
    ("len_sora_pd1_ehm@x", "worlds.toml does not exist"),
])
def test_unknown_worlds_are_named(base, match):
    with pytest.raises(ValueError, match=match):
        load_cohort_raw(base)


def test_overrides_never_create_intermediate_tables_and_scale_appended_effects():
    with pytest.raises(OverrideError, match="no key 'nope'"):
        apply_overrides(_raw(), {"cohorts.main.nope.x": 1})
    out = apply_overrides(_raw(), append={"cohorts.main.outcomes.os.effects": [
        {"variable": "male", "hr": 4.0}]}, strength=0.5)
    assert out["cohorts"]["main"]["outcomes"]["os"]["effects"][-1]["hr"] == pytest.approx(2.0)


@pytest.mark.slow
def test_the_world_draws_what_its_overrides_say():
    """A world equal to a cohort file draws that file's cohorts bit for bit."""
    raw = load_cohort_raw("tace_sorafenib_ehs@multivariable_column")
    same = apply_overrides(raw, {})
    a = generate_cohort(compile_plan(spec_from_dict(raw), "main", cache=None), seed=3)
    b = generate_cohort(compile_plan(spec_from_dict(same), "main", cache=None), seed=3)
    assert all(np.array_equal(a.columns[k], b.columns[k], equal_nan=True) for k in a.columns)


def test_a_key_that_is_not_a_bare_word_is_written_in_double_quotes():
    """An arm label such as "TACE+regorafenib" is a key of ``arms``: quoted, as TOML writes
    it, a world sets it without replacing the whole arm table."""
    from tacebench.simulate.overrides import ItemMatch, OverrideError, apply_overrides, parse_path

    raw = {"variables": [{"name": "dose", "arms": {"TACE+regorafenib": {"count": 26}}}]}
    path = 'variables[name=dose].arms."TACE+regorafenib".count'
    assert parse_path(path) == ["variables", ItemMatch((("name", "dose"),)), "arms",
                                "TACE+regorafenib", "count"]
    out = apply_overrides(raw, set={path: 25})
    assert out["variables"][0]["arms"]["TACE+regorafenib"]["count"] == 25
    assert raw["variables"][0]["arms"]["TACE+regorafenib"]["count"] == 26
    with pytest.raises(OverrideError, match="not closed"):
        parse_path('variables.arms."TACE+regorafenib.count')


def _per_arm():
    """A covariate with an effect entry per arm (seed 002's within-arm effects) beside one
    of the whole cohort."""
    return {"effects": [{"variable": "tumor_size", "arm": "TACE", "hr": 1.06},
                        {"variable": "tumor_size", "arm": "TACE+sorafenib", "hr": 2.09},
                        {"variable": "afp", "hr": 1.5}]}


def test_a_selector_of_several_keys_picks_one_arms_entry():
    out = apply_overrides(_per_arm(), {
        'effects[variable=tumor_size,arm="TACE+sorafenib"].hr': 1.54,
        "effects[variable=afp].hr": 1.2})
    assert [e["hr"] for e in out["effects"]] == [1.06, 1.54, 1.2]
    # a comma inside double quotes belongs to the value
    raw = {"effects": [{"variable": "x", "arm": "a,b", "hr": 2.0}]}
    assert apply_overrides(raw, {'effects[variable=x,arm="a,b"].hr': 3.0})["effects"][0][
        "hr"] == 3.0


def test_unset_removes_a_key_an_index_or_the_one_item_a_selector_picks():
    out = apply_overrides(_per_arm(), unset=['effects[variable=tumor_size,arm="TACE"]',
                                             "effects[variable=afp].hr"])
    assert out["effects"] == [{"variable": "tumor_size", "arm": "TACE+sorafenib", "hr": 2.09},
                              {"variable": "afp"}]
    assert apply_overrides(_per_arm(), unset=["effects[0]"])["effects"] == _per_arm()[
        "effects"][1:]
    assert apply_overrides(_per_arm(), unset=["effects"]) == {}


@pytest.mark.parametrize("unset, set_, match", [
    (["effects[variable=afp].sd"], None, "no key 'sd'"),
    (["effects[variable=tumor_size]"], None, "2 items match"),
    (["effects[3]"], None, "index 3 out of range"),
    (["nope.x"], None, "no key 'nope'"),
    (["effects[variable=afp].hr"], {"effects[variable=afp].hr": 2.0}, "both removed"),
])
def test_unset_of_a_path_that_is_not_there_or_is_also_set_is_an_error(unset, set_, match):
    with pytest.raises(OverrideError, match=match) as err:
        apply_overrides(_per_arm(), set_, unset=unset)
    assert err.value.key == unset[0]


@pytest.mark.parametrize("path, match", [
    # the first of two entries was taken silently before: now the keys that differ are named
    ("effects[variable=tumor_size].hr",
     r"2 items match \[variable=tumor_size\]: add a key that tells them apart \(arm\), "
     r"e.g. \[variable=tumor_size,arm=...\]"),
    ("effects[variable=tumor_size,arm=TACES].hr", r"no item \[variable=tumor_size,arm=TACES\]"),
    ("effects[variable=afp,variable=x].hr", "names a key twice"),
    ("effects[variable=afp,arm].hr", "'arm' is not key=value"),
])
def test_a_selector_that_does_not_name_one_item_is_an_error(path, match):
    with pytest.raises(OverrideError, match=match) as err:
        apply_overrides(_per_arm(), {path: 1.0})
    assert err.value.key == path


def test_a_set_of_an_item_the_same_override_appends_says_why_it_is_absent():
    """``set`` applies before ``append``: a selector for an appended item finds nothing, and
    the error says so instead of only 'no item'."""
    append = {"effects": [{"variable": "age", "hr": 1.02}]}
    with pytest.raises(OverrideError, match=r"no item \[variable=age\]: `set` applies to "
                                            r"the cohort file before `append`") as err:
        apply_overrides(_per_arm(), {"effects[variable=age].hr": 1.05}, append)
    assert err.value.key == "effects[variable=age].hr"
    # without such an append the message is the plain one
    with pytest.raises(OverrideError, match=r"no item \[variable=age\]$"):
        apply_overrides(_per_arm(), {"effects[variable=age].hr": 1.05})
