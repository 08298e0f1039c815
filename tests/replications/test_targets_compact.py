"""The compact forms of targets.toml: ``[[results]]`` groups and the ``[calibration]`` table
expand to exactly the targets of the long ``[[targets]]`` form, with the same errors."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings, strategies as st

from tacebench.replications.analysis.problems import StudyError
from tacebench.replications.targets import parse_targets

STUDY = {"id": "example_study"}
CONTRAST = ["TACE-L", "TACE"]
RATES = "The 12-month OS rates were 56.0% and 70.0%."
DEATHS = "150 patients died: 95 (59.4%) with TACE and 55 (50.0%) with TACE-L"

#: The long form: one complete table per number.
LONG = [
    {"id": "os_hr_crude", "analysis": "crude", "quantity": "hr", "endpoint": "os",
     "contrast": CONTRAST, "value": 0.72, "ci": [0.55, 0.95], "p": 0.02, "role": "predicted",
     "required": True, "where": "text", "source": "(HR 0.72, 95% CI 0.55-0.95, p = 0.02)"},
    {"id": "os_hr_crude_abstract", "analysis": "crude", "quantity": "hr", "endpoint": "os",
     "contrast": CONTRAST, "value": 0.72, "role": "reported", "where": "abstract",
     "same_as": "os_hr_crude", "source": "survival (HR 0.72)"},
    {"id": "os_rate12m_tace_crude", "analysis": "crude", "quantity": "km_rate",
     "endpoint": "os", "arm": "TACE", "time": 12, "percent": 56.0, "role": "predicted",
     "where": "text", "source": RATES},
    {"id": "os_rate12m_tace_l_crude", "analysis": "crude", "quantity": "km_rate",
     "endpoint": "os", "arm": "TACE-L", "time": 12, "percent": 70.0, "role": "predicted",
     "where": "text", "source": RATES},
    {"id": "os_tace_crude", "analysis": "crude", "quantity": "rate", "endpoint": "os",
     "arm": "TACE", "count": 95, "percent": 59.4, "role": "predicted", "where": "text",
     "source": DEATHS},
    {"id": "os_tace_l_crude", "analysis": "crude", "quantity": "rate", "endpoint": "os",
     "arm": "TACE-L", "count": 55, "percent": 50.0, "role": "predicted", "where": "text",
     "source": DEATHS},
    {"id": "os_median_tace_psm", "analysis": "psm", "quantity": "km_median", "endpoint": "os",
     "arm": "TACE", "value": 13.0, "ci": [10.1, 15.9], "role": "predicted", "where": "text",
     "source": "13.0 (95% CI 10.1-15.9) and 18.0 months (95% CI 14.0-22.0)"},
    {"id": "os_median_tace_l_psm", "analysis": "psm", "quantity": "km_median",
     "endpoint": "os", "arm": "TACE-L", "value": 18.0, "ci": [14.0, 22.0], "role": "predicted",
     "where": "text", "source": "13.0 (95% CI 10.1-15.9) and 18.0 months (95% CI 14.0-22.0)"},
    {"id": "n_tace_l_psm", "analysis": "psm", "quantity": "group_size", "arm": "TACE-L",
     "value": 95, "role": "predicted", "where": "text", "source": "Matching produced 95 pairs."},
]

#: The same numbers as [[results]] groups: shared keys once, a row per number or per pair.
RESULTS = [
    {"analysis": "crude", "endpoint": "os", "where": "text", "role": "predicted", "rows": [
        {"quantity": "hr", "contrast": CONTRAST, "value": 0.72, "ci": [0.55, 0.95], "p": 0.02,
         "required": True, "source": "(HR 0.72, 95% CI 0.55-0.95, p = 0.02)"},
        {"id": "os_hr_crude_abstract", "quantity": "hr", "contrast": CONTRAST, "value": 0.72,
         "role": "reported", "where": "abstract", "same_as": "os_hr_crude",
         "source": "survival (HR 0.72)"},
        {"quantity": "km_rate", "time": 12, "arm": ["TACE", "TACE-L"], "percent": [56.0, 70.0],
         "source": RATES},
        {"quantity": "rate", "arm": ["TACE", "TACE-L"], "count": [95, 55],
         "percent": [59.4, 50.0], "source": DEATHS},
    ]},
    {"analysis": "psm", "role": "predicted", "where": "text", "rows": [
        {"quantity": "km_median", "endpoint": "os", "arm": ["TACE", "TACE-L"],
         "value": [13.0, 18.0], "ci": [[10.1, 15.9], [14.0, 22.0]],
         "source": "13.0 (95% CI 10.1-15.9) and 18.0 months (95% CI 14.0-22.0)"},
        {"quantity": "group_size", "arm": "TACE-L", "value": 95,
         "source": "Matching produced 95 pairs."},
    ]},
]


def _by_id(study) -> dict:
    return {t.id: t for t in study.targets}


def test_results_groups_expand_to_the_long_forms_targets():
    long = parse_targets({"study": STUDY, "targets": copy.deepcopy(LONG)})
    compact = parse_targets({"study": STUDY, "results": copy.deepcopy(RESULTS)})
    assert _by_id(compact) == _by_id(long)
    assert len(compact.targets) == len(LONG)


def test_a_group_default_written_in_every_row_instead_changes_nothing():
    """The expansion is the plain merge: defaults are the row keys written once."""
    flat = [{"rows": [{**{k: v for k, v in g.items() if k != "rows"}, **row}
                      for row in g["rows"]]} for g in copy.deepcopy(RESULTS)]
    assert _by_id(parse_targets({"study": STUDY, "results": flat})) == _by_id(
        parse_targets({"study": STUDY, "targets": copy.deepcopy(LONG)}))


_SHAREABLE = ("analysis", "quantity", "endpoint", "role", "where", "source", "time")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, len(LONG) - 1), min_size=1, max_size=len(LONG), unique=True),
       st.sets(st.sampled_from(_SHAREABLE)))
def test_any_shared_key_hoisted_into_a_group_leaves_the_targets_unchanged(picked, hoist):
    rows = [{k: v for k, v in copy.deepcopy(LONG[i]).items()} for i in picked]
    group: dict = {}
    for key in hoist:
        values = [r.get(key, KeyError) for r in rows]
        if values[0] is not KeyError and all(v == values[0] for v in values):
            group[key] = values[0]
            for r in rows:
                del r[key]
    refs = {"os_hr_crude"}                 # a copy links to it: keep it in both forms
    keep = [LONG[i] for i in picked]
    if any(t.get("same_as") in refs for t in keep) and not any(t["id"] in refs for t in keep):
        return
    long = parse_targets({"study": STUDY, "targets": copy.deepcopy(keep)})
    compact = parse_targets({"study": STUDY, "results": [dict(group, rows=rows)]})
    assert _by_id(compact) == _by_id(long)


# ------------------------------------------------------------------ [calibration]

COHORT = {"cohorts": {"main": {
    "arms": [{"label": "TACE", "n": 160}, {"label": "TACE-L", "n": 110}],
    "outcomes": {
        "os": {"calibrate": [
            {"arm": "TACE", "kind": "median", "value": 14.0, "target": "os_median_tace_crude",
             "source": "Median overall survival was 14.0 months (95% CI 11.8-16.2) with TACE"},
            {"arm": "TACE-L", "kind": "rate", "time": 12, "value": 0.70,
             "target": "os_rate12m_tace_l_crude", "source": RATES},
            {"arm": "TACE-L", "kind": "hr", "value": 0.72, "target": "os_hr_crude",
             "source": "(HR 0.72, 95% CI 0.55-0.95, p = 0.02)"},
            {"arm": "TACE", "kind": "median", "value": 6.0},          # names no target
        ]},
    },
    "censoring": {"follow_up": "calibrate", "loss_rate": "calibrate",
                  "events": {"endpoint": "os", "value": 150, "target": "os_count_crude",
                             "source": "150 patients died"},
                  "median_followup": {"value": 21.5, "target": "followup_median_crude",
                                      "source": "The median follow-up was 21.5 months"}},
}}}

CALIBRATION_LONG = [
    {"id": "os_median_tace_crude", "analysis": "crude", "quantity": "km_median",
     "endpoint": "os", "arm": "TACE", "value": 14.0, "ci": [11.8, 16.2], "role": "calibration",
     "where": "text",
     "source": "Median overall survival was 14.0 months (95% CI 11.8-16.2) with TACE"},
    {"id": "os_rate12m_tace_l_crude", "analysis": "crude", "quantity": "km_rate",
     "endpoint": "os", "arm": "TACE-L", "time": 12, "percent": 70.0, "role": "calibration",
     "where": "text", "source": RATES},
    {"id": "os_hr_crude", "analysis": "crude", "quantity": "hr", "endpoint": "os",
     "contrast": ["TACE-L", "TACE"], "value": 0.72, "ci": [0.55, 0.95], "p": 0.02,
     "role": "calibration", "required": True, "where": "text",
     "source": "(HR 0.72, 95% CI 0.55-0.95, p = 0.02)"},
    {"id": "os_count_crude", "analysis": "crude", "quantity": "count", "endpoint": "os",
     "value": 150, "role": "calibration", "where": "text", "source": "150 patients died"},
    {"id": "followup_median_crude", "analysis": "crude", "quantity": "median_followup",
     "endpoint": "os", "value": 21.5, "role": "calibration", "where": "text",
     "source": "The median follow-up was 21.5 months"},
]

CALIBRATION = {"analysis": "crude", "where": "text",
               "os_median_tace_crude": {"ci": [11.8, 16.2]},
               "os_hr_crude": {"ci": [0.55, 0.95], "p": 0.02, "required": True}}


def test_calibration_targets_derived_from_cohort_entries_equal_the_long_form():
    long = parse_targets({"study": STUDY, "targets": copy.deepcopy(CALIBRATION_LONG)})
    derived = parse_targets({"study": STUDY, "calibration": copy.deepcopy(CALIBRATION)},
                            cohort=copy.deepcopy(COHORT))
    assert _by_id(derived) == _by_id(long)
    assert derived["os_rate12m_tace_l_crude"].percent_scale


def test_a_censoring_entry_nothing_is_solved_for_derives_a_prediction():
    """follow_up and loss_rate both numbers: the events and median follow-up entries only
    record their numbers (seed 001's 7 deaths), so the derived targets are predictions."""
    cohort = copy.deepcopy(COHORT)
    cohort["cohorts"]["main"]["censoring"].update(follow_up=12.0, loss_rate=0.0)
    derived = parse_targets({"study": STUDY, "calibration": copy.deepcopy(CALIBRATION)},
                            cohort=cohort)
    roles = {t.id: t.role for t in derived.targets}
    assert roles.pop("os_count_crude") == roles.pop("followup_median_crude") == "predicted"
    assert set(roles.values()) == {"calibration"}


def test_a_targets_entry_replaces_the_derived_calibration_target():
    own = dict(CALIBRATION_LONG[3], note="written out")
    out = parse_targets({"study": STUDY, "calibration": copy.deepcopy(CALIBRATION),
                         "targets": [own]}, cohort=copy.deepcopy(COHORT))
    assert out["os_count_crude"].note == "written out"
    assert len(out.targets) == len(CALIBRATION_LONG)


def test_without_a_calibration_table_nothing_is_derived():
    out = parse_targets({"study": STUDY, "targets": copy.deepcopy(LONG)},
                        cohort=copy.deepcopy(COHORT))
    assert {t.role for t in out.targets} == {"predicted", "reported"}


# ------------------------------------------------------------------ errors

def _problems(data, cohort=None) -> list[str]:
    with pytest.raises(StudyError) as err:
        parse_targets({"study": STUDY, **data}, cohort=cohort)
    return [str(p)[len(p.file) + 2:] for p in err.value.problems]     # as printed, file aside


def test_a_bad_number_in_a_row_names_the_row_its_id_and_the_value():
    groups = copy.deepcopy(RESULTS)
    groups[0]["rows"][2]["percent"] = [56.0, 170.0]
    (msg,) = _problems({"results": groups})
    assert msg.startswith("results[0].rows[2][1] (os_rate12m_tace_l_crude).percent = 170.0: "
                          "must lie in [0, 100]")


def test_a_number_not_in_the_groups_quote_is_named_as_in_the_long_form():
    groups = copy.deepcopy(RESULTS)
    groups[1]["rows"][1]["value"] = 96
    long = copy.deepcopy(LONG)
    long[-1]["value"] = 96
    (compact,) = _problems({"results": groups})
    (longmsg,) = _problems({"targets": long})
    assert compact == "results[1].rows[1] (n_tace_l_psm).value = 96.0: is not printed in " \
                      "this target's source quote"
    assert longmsg.split(".value", 1)[1] == compact.split(".value", 1)[1]


@pytest.mark.parametrize("change, expected", [
    (lambda g: g[0]["rows"][2].update(percent=[56.0]),
     "results[0].rows[2].percent = [56.0]: gives 1 values for 2 arms"),
    (lambda g: g[0]["rows"][2].update(id="os_rate12m_crude"),
     "results[0].rows[2].id = 'os_rate12m_crude': a row of 2 arms needs 2 ids"),
    (lambda g: g[0].update(id="os_x_crude"),
     "results[0].id = 'os_x_crude': an id names one number"),
    (lambda g: g[0].update(estimate="hr"), "results[0].estimate = 'hr': unknown key"),
    (lambda g: g[1].pop("rows"), "results[1].rows: must be a non-empty list"),
    (lambda g: g[0]["rows"].append("hr 0.72"), "results[0].rows[4] = 'hr 0.72': must be a table"),
    (lambda g: g[0]["rows"][0].update(hazard=0.7),
     "results[0].rows[0] (os_hr_crude).hazard = 0.7: unknown key"),
    (lambda g: g[1]["rows"][0].update(arm=[]),
     "results[1].rows[0].arm = []: must be an arm label or a non-empty list"),
])
def test_results_errors_name_the_key_path_and_value(change, expected):
    groups = copy.deepcopy(RESULTS)
    change(groups)
    assert any(m.startswith(expected) for m in _problems({"results": groups})), expected


def test_two_rows_with_one_conventional_id_are_a_duplicate():
    groups = copy.deepcopy(RESULTS)
    groups[1]["rows"].append(dict(groups[1]["rows"][1]))
    assert any("n_tace_l_psm" in m and "duplicate id" in m
               for m in _problems({"results": groups}))


@pytest.mark.parametrize("change, expected", [
    (lambda c: c.update(os_median_tace_l_crude={"ci": [1, 2]}),
     "calibration.os_median_tace_l_crude = {'ci': [1, 2]}: is neither a key of [calibration]"),
    (lambda c: c["os_median_tace_crude"].update(value=15.0),
     "calibration.os_median_tace_crude.value = 15.0: unknown key"),
    (lambda c: c.pop("analysis"), "calibration (os_median_tace_crude, from cohort.toml "
                                  "cohorts.main.outcomes.os.calibrate[0]).analysis: is required"),
    (lambda c: c.update(where="results"),
     "calibration (os_median_tace_crude, from cohort.toml cohorts.main.outcomes.os.calibrate[0])"
     ".where = 'results': must be abstract"),
])
def test_calibration_errors_name_the_key_path_and_value(change, expected):
    cal = copy.deepcopy(CALIBRATION)
    change(cal)
    assert any(m.startswith(expected) for m in _problems({"calibration": cal},
                                                         copy.deepcopy(COHORT))), expected


def test_a_cohort_number_missing_from_its_quote_is_an_error_of_the_derived_target():
    cohort = copy.deepcopy(COHORT)
    cohort["cohorts"]["main"]["censoring"]["events"]["value"] = 151
    assert any(m.startswith("calibration (os_count_crude, from cohort.toml "
                            "cohorts.main.censoring.events).value = 151.0: is not printed")
               for m in _problems({"calibration": copy.deepcopy(CALIBRATION)}, cohort))


def test_a_calibration_table_without_cohort_entries_is_an_error():
    assert any(m.startswith("calibration = {'analysis': 'crude'") and "nothing to derive" in m
               for m in _problems({"calibration": {"analysis": "crude"}}, {"cohorts": {}}))


# ------------------------------------------------------------------ tacebench check's helpers

def test_check_finds_a_results_row_by_its_key_and_hints_at_its_arm_label():
    from tacebench.replications.check_build import arm_label_problems, target_index

    groups = copy.deepcopy(RESULTS)
    assert target_index({"results": groups})["os_rate12m_tace_l_crude"] == "results[0].rows[2][1]"
    groups[1]["rows"][1]["arm"] = "tace-l"
    (p,) = arm_label_problems({"results": groups}, ["TACE", "TACE-L"], "targets.toml")
    assert p.key == "results[1].rows[1] (n_tace_l_psm).arm" and "'TACE-L'" in p.message
