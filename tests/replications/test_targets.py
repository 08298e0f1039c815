"""The targets loader: frozen dataclasses, printed decimals, and every problem at once."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from tacebench.replications.targets import (StudyTargets, Target, arm_slug, expected_id, level_slug,
                                  load_targets, parse_targets, printed_numbers)

STUDIES = Path(__file__).resolve().parents[2] / "tacebench" / "studies"
SEEDS = {
    "tace_sorafenib_ehs": "000_8dc98dbc6d8c449d.txt",
    "tace_regorafenib": "001_97a727a985711df8.txt",
    "tace_sorafenib_matched": "002_cf4fd000cd9b179a.txt",
    "tace_mtt_pd1_lung": "003_349e219bfcf46446.txt",
    "len_sora_pd1_ehm": "004_b5a412eb092efe57.txt",
}
ROW = "ORR\t48 (17.0%)\t30 (25.9%)\t1.70 (1.01–2.85)\t0.045"


def doc(*targets, **extra):
    return {"study": {"id": "demo", "seed_file": "x.txt"}, "targets": list(targets), **extra}


def _drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


def rate(**kw):
    return _drop_none({"id": "orr_tace_crude", "analysis": "crude", "quantity": "rate",
                       "endpoint": "orr",
            "arm": "TACE", "count": 48, "percent": 17.0, "role": "calibration",
            "where": "table 2", "source": ROW, **kw})


def odds(**kw):
    return _drop_none({"id": "orr_or_crude", "analysis": "crude", "quantity": "odds_ratio",
            "endpoint": "orr", "contrast": ["TACES", "TACE"], "value": 1.70,
            "ci": [1.01, 2.85], "p": 0.045, "role": "predicted", "where": "table 2",
            "source": ROW, **kw})


def problems(data) -> list:
    with pytest.raises(ValueError) as info:
        parse_targets(data)
    return info.value.problems


# ---------------------------------------------------------------- parsing valid files

def test_minimal_file_parses_into_frozen_dataclasses():
    st = parse_targets(doc(rate(), odds()))
    assert isinstance(st, StudyTargets) and len(st) == 2
    t = st["orr_tace_crude"]
    assert isinstance(t, Target)
    assert t.value == pytest.approx(0.17) and t.count == 48 and t.percent_scale
    with pytest.raises(AttributeError):
        t.value = 0.2                                      # frozen
    o = st["orr_or_crude"]
    assert o.contrast == ("TACES", "TACE") and o.ci == (1.01, 2.85)
    frame = st.to_frame()
    assert list(frame["id"]) == ["orr_tace_crude", "orr_or_crude"]
    assert {"study", "quantity", "role", "source"} <= set(frame.columns)
    assert st.select(role="predicted") == (o,)


def test_printed_decimals_come_from_the_quote_not_the_float():
    st = parse_targets(doc(rate(), odds()))
    t = st["orr_tace_crude"]
    assert t.printed_text("value") == "17.0" and t.decimals("value") == 1
    assert t.resolution("value") == pytest.approx(0.0005)       # 0.05 percentage points
    o = st["orr_or_crude"]
    assert o.printed_text("ci_lo") == "1.01" and o.resolution("value") == pytest.approx(0.005)
    assert o.printed_text("p") == "0.045" and o.resolution("p") == pytest.approx(0.0005)


def test_a_unit_in_the_quote_does_not_hide_the_decimals():
    src = "Albumin, per 1 g/L increased\t0.98 (0.96–1.00)\t0.053"
    st = parse_targets(doc({"id": "os_hr_albumin_crude", "analysis": "crude", "quantity": "hr",
                            "endpoint": "os", "term": "albumin", "value": 0.98,
                            "ci": [0.96, 1.0], "p": 0.053, "role": "reported",
                            "where": "table 3", "source": src}))
    assert st["os_hr_albumin_crude"].printed_text("ci_hi") == "1.00"


def test_a_table_row_cell_is_read_next_to_its_neighbour():
    # "7" (a weighted count) must not be read as the "7.0" of another cell
    src = "Adrenal glands\t18 (6.1)\t9 (7.0)\t0.909\t19 (6.6)\t7 (5.1)\t0.562"
    st = parse_targets({"study": {"id": "demo"}, "baseline": [{
        "variable": "ehs_adrenal", "where": "table 1", "source": src,
        "cells": [{"analysis": "iptw", "arm": "TACES", "count": 7, "percent": 5.1,
                   "weighted": True}]}]})
    t = st["bl_ehs_adrenal_taces_iptw"]
    assert t.printed_text("count") == "7" and t.printed_text("value") == "5.1"


def test_a_lancet_middle_dot_is_a_decimal_point():
    """'HR 0·70 (95% CI 0·50–0·98)' quoted from a Lancet journal: its value and CI were
    'not printed in this target's source quote'."""
    quote = "HR 0\u00b770 (95% CI 0\u00b750\u201300\u00b798)".replace("\u201300", "\u20130")
    parsed = parse_targets(doc(odds(value=0.70, ci=[0.50, 0.98], p=None, source=quote)))
    t = parsed.targets[0]
    assert t.printed_text("value") == "0.70" and t.printed_text("ci_hi") == "0.98"


def test_where_may_be_written_as_the_paper_prints_it():
    """'where = "Table 2"' was refused: 'must be ... 'table N''."""
    parsed = parse_targets(doc(odds(where="Table 2"), odds(id="b", where="Figure s1a"),
                               odds(id="c", where="Abstract")))
    assert [t.where for t in parsed.targets] == ["table 2", "figure S1A", "abstract"]
    assert {p.key for p in problems(doc(odds(where="Tables 2")))} == {"targets[0].where"}


def test_word_numbers_are_found():
    src = ("At the last follow-up, 15 patients experienced a progression, and seven patients "
           "had died.")
    st = parse_targets(doc({"id": "os_deaths_x_crude", "analysis": "crude", "quantity": "rate",
                            "endpoint": "os", "level": "deaths", "arm": "X", "count": 7,
                            "role": "calibration", "where": "text", "source": src}))
    assert st["os_deaths_x_crude"].printed_text("count") == "seven"
    assert ("seven", 7.0) in [(t, v) for t, v, _ in printed_numbers(src)]


def test_p_text_bound():
    st = parse_targets(doc(odds(p=None, p_text="<0.001", source=ROW.replace("0.045", "<0.001"))))
    t = st["orr_or_crude"]
    assert t.p is None and t.p_bound == ("<", 0.001)


def test_baseline_rows_expand_into_proportion_targets():
    src = "< 60\t220 (74.8)\t103 (79.8)\t0.321\t228 (77.0)\t105 (80.5)\t0.479"
    st = parse_targets({"study": {"id": "demo"}, "baseline": [{
        "variable": "age", "level": "<60", "partition": True, "where": "table 1", "source": src,
        "cells": [{"analysis": "crude", "arm": "TACE", "count": 220, "percent": 74.8},
                  {"analysis": "iptw", "arm": "TACES", "count": 105, "percent": 80.5,
                   "weighted": True}]}]})
    a, b = st["bl_age_lt_60_tace_crude"], st["bl_age_lt_60_taces_iptw"]
    assert a.quantity == "proportion" and a.role == "reported" and a.partition == "age"
    assert a.value == pytest.approx(0.748) and b.weighted and not a.weighted


def test_shift_between_reversed_contrasts_is_inverted():
    src = "(HR, 0.59; 95% CI, 0.41–0.85) ... Sora+PD-1 therapy (HR, 1.61; 95% CI, 1.17–2.41)"
    base = {"analysis": "psm", "quantity": "hr", "endpoint": "os", "role": "predicted",
            "where": "text", "source": src}
    st = parse_targets(doc(
        {**base, "id": "os_hr_psm", "contrast": ["Len", "Sora"], "value": 0.59, "ci": [0.41, 0.85]},
        {**base, "id": "os_hr_mv", "analysis": "mv", "contrast": ["Sora", "Len"], "value": 1.61,
         "ci": [1.17, 2.41]},
        shifts=[{"id": "os_hr_psm_to_mv", "from": "os_hr_psm", "to": "os_hr_mv"}]))
    (s,) = st.shifts
    assert s.orientation == -1 and s.scale == "log" and s.role == "predicted"
    assert s.reported == pytest.approx(-math.log(1.61) - math.log(0.59))


def test_same_as_groups_are_connected_components():
    st = parse_targets(doc(odds(), odds(id="orr_or_crude_text", where="text",
                                        same_as="orr_or_crude"),
                           odds(id="orr_or_crude_abstract", where="abstract",
                                same_as="orr_or_crude_text"), rate()))
    (group,) = st.same_as_groups()
    assert {t.id for t in group} == {"orr_or_crude", "orr_or_crude_text", "orr_or_crude_abstract"}


# ---------------------------------------------------------------- problems, all at once

def test_malformed_numbers_are_all_reported_in_one_error():
    bad = doc(rate(id="a", percent=120), odds(id="b", value="abc"), odds(id="c", ci=[1.01]),
              odds(id="d", p=1.5), rate(id="e", count=-1), odds(id="f", value=0),
              odds(id="g", value=True), odds(id="h", ci=[1.01, "x"]))
    probs = problems(bad)
    keys = {p.key for p in probs}
    assert {"targets[0].percent", "targets[1].value", "targets[2].ci", "targets[3].p",
            "targets[4].count", "targets[5].value", "targets[6].value",
            "targets[7].ci"} <= keys
    kinds = {p.key: p.kind for p in probs}
    assert all(kinds[k] == "malformed-number" for k in keys if k.startswith("targets["))


def test_a_negative_ratio_is_reported_once():
    probs = [p for p in problems(doc(odds(value=-1.7))) if p.key == "targets[0].value"]
    assert len(probs) == 1, [p.message for p in probs]


def test_message_names_file_key_and_value():
    with pytest.raises(ValueError) as info:
        parse_targets(doc(odds(value="abc")), file="studies/x/targets.toml")
    text = str(info.value)
    assert "studies/x/targets.toml" in text and "targets[0].value" in text and "'abc'" in text


def test_unknown_keys_everywhere_are_listed():
    data = doc(rate(colour="red"), bogus=1)
    data["study"]["extra"] = 2
    data["baseline"] = [{"variable": "age", "where": "table 1", "source": "< 60\t220 (74.8)",
                         "cells": [{"analysis": "crude", "arm": "A", "count": 220,
                                    "percent": 74.8, "shade": 1}]}]
    keys = {p.key for p in problems(data) if p.kind == "unknown-key"}
    assert keys == {"bogus", "study.extra", "targets[0].colour", "baseline[0].cells[0].shade"}


def test_duplicate_ids_across_targets_and_baseline_rows():
    src = "< 60\t220 (74.8)"
    data = doc(rate(), rate(), {"id": "bl_age_lt_60_a_crude", "analysis": "crude",
                                "quantity": "proportion", "term": "age", "count": 220,
                                "role": "reported", "where": "table 1", "source": src})
    data["baseline"] = [{"variable": "age", "level": "<60", "where": "table 1", "source": src,
                         "cells": [{"analysis": "crude", "arm": "A", "count": 220,
                                    "percent": 74.8}]}]
    dups = [p for p in problems(data) if p.kind == "duplicate-id"]
    assert {p.value for p in dups} == {"orr_tace_crude", "bl_age_lt_60_a_crude"}


def test_number_missing_from_its_quote_is_a_problem():
    probs = problems(doc(odds(value=1.71), rate(p_text="<0.001")))
    assert {(p.key, p.kind) for p in probs} == {("targets[0].value", "number-not-in-source"),
                                                ("targets[1].p_text", "number-not-in-source")}


def test_references_and_vocabulary_are_checked():
    data = doc(rate(same_as="nope", quantity="rate", role="guess", where="page 3"),
               odds(id="o", unweighted="orr_tace_crude", same_as="o"),
               rate(id="r2"), odds(id="o2"),
               shifts=[{"id": "s", "from": "orr_tace_crude", "to": "missing"},
                       {"id": "t", "from": "r2", "to": "o2"}])
    by_key = {p.key: p for p in problems(data)}
    assert by_key["targets[0].same_as"].kind == "unknown-target"
    assert by_key["targets[0].role"].kind == "unknown-value"
    assert by_key["targets[0].where"].kind == "malformed-value"
    assert "weighted_group_size" in by_key["targets[1].unweighted"].message
    assert "itself" in by_key["targets[1].same_as"].message
    assert by_key["shifts[0].to"].kind == "unknown-target"
    assert by_key["shifts[1].to"].kind == "mismatched-shift"


def test_required_keys_per_quantity():
    km = {"id": "os_rate12m_a_crude", "analysis": "crude", "quantity": "km_rate",
          "endpoint": "os", "arm": "A", "percent": 45.0, "role": "calibration",
          "where": "text", "source": "45.0%"}
    hr = {"id": "os_hr_crude", "analysis": "crude", "quantity": "hr", "endpoint": "os",
          "value": 0.8, "role": "predicted", "where": "text", "source": "HR 0.8"}
    keys = {p.key for p in problems(doc(km, hr, {"study": 1}))}
    assert {"targets[0].time", "targets[1].contrast", "targets[2].id",
            "targets[2].quantity"} <= keys


def test_load_targets_reads_a_folder_or_file_and_rejects_bad_paths(tmp_path):
    (tmp_path / "targets.toml").write_text(
        '[study]\nid = "demo"\n[[targets]]\nid = "n_crude"\nanalysis = "crude"\n'
        'quantity = "group_size"\nvalue = 38\nrole = "reported"\nwhere = "text"\n'
        'source = "A total of 38 patients"\n', encoding="utf-8")
    assert load_targets(tmp_path)["n_crude"].value == 38
    assert load_targets(tmp_path / "targets.toml").path == tmp_path / "targets.toml"
    with pytest.raises(ValueError, match="no targets.toml"):
        load_targets(tmp_path / "nowhere")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "targets.toml").write_text("[study\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_targets(tmp_path / "bad")


def test_slugs_and_the_id_convention():
    assert arm_slug("TACE+sorafenib") == "tace_sorafenib"
    assert arm_slug("TACE, MTT and (PD-[L]1)") == "tace_mtt_and_pd_l_1"
    assert level_slug("<60") == "lt_60" and level_slug("≥ 60") == "ge_60"
    t = Target(id="x", analysis="iptw", quantity="km_rate", role="predicted", where="text",
               source="", endpoint="os", arm="TACES", time=12)
    assert expected_id(t) == "os_rate12m_taces_iptw"


# ---------------------------------------------------------------- the five shipped studies

@pytest.mark.parametrize("study_id", sorted(SEEDS))
def test_shipped_targets_load_and_follow_the_convention(study_id):
    st = load_targets(STUDIES / study_id)
    assert st.study_id == study_id and st.seed_file == SEEDS[study_id]
    wrong = [t.id for t in st
             if not (t.id == expected_id(t) or t.id.startswith(expected_id(t) + "_"))]
    assert wrong == []
    assert st.select(required=True), "every study marks its headline results"
    assert {t.role for t in st} >= {"calibration", "reported"}
    for t in st:                           # every printed number was found in its quote
        for name in ("value", "count", "p"):
            if getattr(t, name) is not None:
                assert t.printed_text(name) is not None, (t.id, name)


def test_shipped_paired_shifts():
    shifts = {s.id: s for sid in SEEDS for s in load_targets(STUDIES / sid).shifts}
    assert shifts["os_hr_crude_to_iptw"].reported == pytest.approx(math.log(0.68 / 0.84))
    assert shifts["os_hr_crude_primary_to_multivariable_primary"].reported == pytest.approx(
        math.log(0.72 / 0.76))
    assert shifts["os_hr_crude_to_psm"].reported == pytest.approx(math.log(0.59 / 0.62))
    assert all(s.role == "predicted" for s in shifts.values())


def test_not_judged_is_a_reason_of_a_reported_number_only():
    from tacebench.replications.analysis.problems import StudyError
    from tacebench.replications.targets import parse_targets

    base = {"id": "x", "analysis": "crude", "quantity": "hr", "term": "age", "value": 1.2,
            "where": "text", "source": "HR 1.2", "not_judged": "why"}
    (t,) = parse_targets({"study": {"id": "s"}, "targets": [dict(base, role="reported")]})
    assert t.not_judged == "why"
    with pytest.raises(StudyError, match=r"targets\[0\]\.not_judged = 'why': only a role"):
        parse_targets({"study": {"id": "s"}, "targets": [dict(base, role="predicted")]})


def test_a_median_difference_needs_its_contrast_and_endpoint():
    """"Extend median survival time by 7 months": signed, located by magnitude, and
    meaningless without the two arms and the endpoint."""
    quote = "can extend median survival time by 7 months"
    diff = {"id": "os_median_difference_crude", "analysis": "crude",
            "quantity": "median_difference", "endpoint": "os", "contrast": ["A", "B"],
            "value": -7, "role": "predicted", "where": "discussion", "source": quote}
    t = parse_targets(doc(diff))["os_median_difference_crude"]
    assert t.value == -7 and t.printed_text("value") == "7"
    assert expected_id(t) == t.id
    bad = {k: v for k, v in diff.items() if k not in ("contrast", "endpoint")}
    keys = {p.key: p.message for p in problems(doc(bad))}
    assert "the first arm's median minus the second's" in keys["targets[0].contrast"]
    assert "endpoint" in keys["targets[0].endpoint"]
