"""The data of one shipped study, tace_sorafenib_ehs (seed 000): what its folder states
about the paper, checked against the folder itself (each fact verified by hand against
the seed text; the quotes are in the folder)."""
from __future__ import annotations

import tomllib
from pathlib import Path

from tacebench.replications.worlds import apply_world, load_worlds

FOLDER = Path(__file__).resolve().parents[2] / "tacebench" / "studies" / "tace_sorafenib_ehs"


def _cohort() -> dict:
    return tomllib.loads((FOLDER / "cohort.toml").read_text(encoding="utf-8"))


def test_a_world_varies_the_assumed_response_model():
    """The ORR / DCR crude -> IPTW shifts rest on response.effects alone (an assumption):
    some world must change it, or their robustness label says nothing about it."""
    raw = _cohort()
    own = raw["cohorts"]["main"]["response"]["effects"]
    worlds, problems = load_worlds(FOLDER)
    assert not problems
    varied = [w.name for w in worlds
              if apply_world(raw, w)["cohorts"]["main"]["response"].get("effects") != own]
    assert len(varied) >= 2, varied


def _targets():
    from tacebench.replications.targets import load_targets
    return {t.id: t for t in load_targets(FOLDER).targets}


def test_the_weighted_afp_means_name_the_generated_column():
    """Table 1's AFP mean row describes the column `afp` (solved per arm to the printed
    mean and SD), so its weighted cells are judged, not spec gaps."""
    names = {v["name"] for v in _cohort()["cohorts"]["main"]["variables"]}
    ts = _targets()
    for arm in ("tace", "taces"):
        t = ts[f"afp_mean_{arm}_iptw"]
        assert t.term == "afp" and t.term in names and t.role == "predicted"


def test_misprinted_intervals_are_declared_or_kept_as_printed():
    """Table 3 '1.10 (2.86–3.18)': nothing in the paper says what was meant, so it is
    transcribed as printed (the audit flags it) with a note saying it is a misprint. The
    text's AST '1.00–100': Table 3 prints the same HR as 1.00 (1.00–1.00), so the target
    states 1.00-1.00 and declares the print."""
    ts = _targets()
    t = ts["os_hr_tumor_number_multivariable_iptw"]
    assert tuple(t.ci) == (2.86, 3.18) and "misprint" in (t.note or "") and t.misprint is None
    t = ts["os_hr_ast_multivariable_text"]
    assert tuple(t.ci) == (1.0, 1.0) and t.misprint.numbers == (("ci_hi", 100.0),)
    assert "Table 3" in t.misprint.why


def test_table1_p_values_name_no_test_the_paper_does_not_name():
    """The paper never names Table 1's tests (a chi-square label on its mean (SD) rows was
    an inference, and a wrong one): the P column carries none."""
    ps = [t for t in _targets().values()
          if t.quantity == "p_value" and t.where == "table 1"]
    assert len(ps) >= 20
    assert all(not t.test for t in ps), [t.id for t in ps if t.test]


def test_printed_flow_ph_test_and_weighted_p_values_are_transcribed():
    """Numbers the paper prints that the folder had left out: the flow (674 screened,
    227 + 24 excluded, 25 without imaging), the PH global test (p = 0.62) and Table 1's
    weighted P column (20 p-values), all audited only."""
    ts = _targets()
    flow = {"n_screened": 674, "n_excluded_child_pugh_above_a": 227,
            "n_excluded_ecog_above_1": 24, "n_missing_imaging": 25}
    assert {k: ts[k].value for k in flow} == flow
    assert 674 - 227 - 24 == ts["n_crude"].value == 398 + 25
    assert ts["os_p_iptw_ph_global_test"].p == 0.62
    weighted_p = [t for t in ts.values() if t.quantity == "p_value"
                  and t.where == "table 1" and t.analysis == "iptw"]
    assert len(weighted_p) == 20 and all(t.role == "reported" for t in weighted_p)
    assert {t.p for t in weighted_p} >= {0.726, 0.913}


def test_the_balance_claim_is_transcribed():
    from tacebench.replications.targets import load_targets
    claims = {c.id: c for c in load_targets(FOLDER).claims}
    c = claims["claim_nearly_all_smd_below_0_1_after_iptw"]
    assert c.kind == "balance" and c.analysis == "iptw" and c.threshold == 0.1


def test_the_landmark_weights_choice_is_open_and_its_alternative_a_reading():
    """Whole-cohort weights in the declared landmark and imaging analyses; the weights
    refitted in their own population are the alternative reading of the same analyses."""
    plan = tomllib.loads((FOLDER / "analysis.toml").read_text(encoding="utf-8"))
    by_name = {a["name"]: a for a in plan["analyses"]}
    varied = ["landmark_3m_iptw", "landmark_6m_iptw", "iptw_imaging"]
    assert all(by_name[n]["adjustment"]["fit_on"] == "cohort" for n in varied)
    fit_on = [r for r in plan["readings"] if r["option"] == "fit_on"]
    assert len(fit_on) == 1 and fit_on[0]["values"] == ["cohort", "population"]
    assert fit_on[0]["analyses"] == varied and fit_on[0]["why"]
    assert not [n for n in by_name if n.endswith("_refit")]


def test_numbers_that_mostly_repeat_an_input_say_so():
    """The crude treatment HR follows from the two calibrated medians, and the weighted
    univariable covariate HRs nearly copy the calibrated unweighted ones: notes say it."""
    ts = _targets()
    assert "calibrat" in ts["os_hr_crude"].note
    weighted = [t for t in ts.values() if t.analysis == "iptw" and t.quantity == "hr"
                and t.term]
    assert len(weighted) == 20
    assert all(t.note and "_crude" in t.note for t in weighted)
    for tid in ("orr_or_crude_imaging_table2", "orr_or_crude_imaging_text",
                "dcr_or_crude_imaging_table2", "dcr_or_crude_imaging_text"):
        assert ts[tid].role == "calibration" and "counts" in ts[tid].note, tid


def test_the_printed_person_time_is_judged_with_its_caveat():
    """4043.3 person-months: the crude analysis computes it (followup), so it is judged;
    the note says the hazard shape was chosen by it."""
    ts = _targets()
    for tid in ("os_person_time_crude", "os_person_time_crude_graphical_abstract"):
        assert ts[tid].role == "predicted" and ts[tid].endpoint == "os"
    assert "shape" in ts["os_person_time_crude"].note
