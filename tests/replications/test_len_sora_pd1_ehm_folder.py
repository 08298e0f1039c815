"""Seed 004 (len_sora_pd1_ehm): the study folder says what its paper prints and leaves
open. Each test pins one statement of the folder against the paper."""
import pytest

from tacebench.replications.check import check_folder
from tacebench.replications.study import resolve_study
from tacebench.replications.targets import load_targets, table_target_ids

STUDY = "len_sora_pd1_ehm"


@pytest.fixture(scope="module")
def folder():
    return resolve_study(STUDY)


@pytest.fixture(scope="module")
def report(folder):
    report = check_folder(folder)
    assert report.ok, "\n".join(map(str, report.errors))
    return report


def test_matched_table1_cells_are_predicted_and_bind_to_the_psm_analysis(folder, report):
    """The matched columns are the PSM replication's prediction: 37 rows x 2 arms, every
    printed row and level bound to a generated variable (e.g. "Metastasis sites <=5")."""
    targets = load_targets(folder)
    matched = [i for i in table_target_ids(folder)
               if i.startswith("bl_") and i.endswith("_psm")]
    assert len(matched) == 74
    assert all(targets[i].role == "predicted" for i in matched)
    assert set(matched) <= set(report.requests)
    assert report.requests["bl_metastasis_sites_le_5_len_pd_1_psm"][1].term == \
        "metastasis_sites_gt5==0"


def test_entire_cohort_table1_cells_are_counted_as_inputs(folder):
    """The entire-cohort cells are what the generator draws each arm from: reported, and
    classified as inputs (so they need no not_judged reason)."""
    from tacebench.replications.check import check_folder
    from tacebench.replications.unjudged import Kind

    targets = load_targets(folder)
    crude = [i for i in table_target_ids(folder)
             if i.startswith("bl_") and i.endswith("_crude")]
    assert len(crude) == 74
    kinds = check_folder(folder).reported
    assert all(targets[i].role == "reported" and kinds[i].kind is Kind.INPUT
               for i in crude)


def _readings(folder):
    import tomllib
    data = tomllib.loads((folder / "analysis.toml").read_text(encoding="utf-8"))
    return data, {r["option"]: r for r in data["readings"]}


def test_matching_choices_the_paper_leaves_open_are_readings(folder):
    """"a caliper of 0.2" in no unit, no matching order, no focal arm, and SPSS and R both
    named: the caliper's scale includes the raw score and the focal arm is a reading."""
    data, readings = _readings(folder)
    psm = [a for a in data["analyses"] if a["adjustment"]["method"] == "psm"]
    assert {a["adjustment"]["focal"] for a in psm} == {"Len+PD-1"}
    assert readings["caliper_scale"]["values"] == ["ps_sd", "logit_sd", "raw"]
    assert readings["focal"]["values"] == ["Len+PD-1", "Sora+PD-1"]
    assert "done in R" not in (folder / "analysis.toml").read_text(encoding="utf-8")


def test_hepatitis_in_the_propensity_model_is_read_as_hbsag_or_hbv_dna(folder):
    """Matched HBV DNA is 58 / 24 in both arms (P = 1.000) while HBsAg is less balanced
    than before matching: "hepatitis" may be HBV DNA, a reading."""
    data, readings = _readings(folder)
    sets = data["covariate_sets"]
    assert readings["covariates"]["values"] == ["propensity", "propensity_hbv_dna"]
    assert set(sets["propensity"]) ^ set(sets["propensity_hbv_dna"]) == {"hbsag", "high_hbv_dna"}


def test_each_table2_model_has_its_own_printed_terms(folder, report):
    """Table 2 prints a TACE row for OS only: the PFS model has no TACE term."""
    data, _ = _readings(folder)
    terms = {a["name"]: a["adjustment"].get("outcome_covariates") for a in data["analyses"]}
    assert terms["multivariable_psm"] == ["tace", "pvtt_type", "metastasis_sites_gt5"]
    assert terms["multivariable_psm_pfs"] == ["pvtt_type", "metastasis_sites_gt5"]
    assert report.requests["pfs_hr_multivariable_psm_pfs"][0] == "multivariable_psm_pfs"
    assert report.requests["os_hr_multivariable_psm"][0] == "multivariable_psm"


def test_the_misprinted_interval_is_stated_as_meant_with_its_print(folder):
    """'117–2.41': the target holds 1.17-2.41, its misprint the printed bound."""
    targets = load_targets(folder)
    for i in ("os_hr_multivariable_psm", "os_hr_multivariable_psm_table2"):
        t = targets[i]
        assert t.ci == (1.17, 2.41) and t.misprint.numbers == (("ci_lo", 117.0),)
        assert "decimal point lost" in t.misprint.why


def test_pfs_comments_state_the_event_rule_and_why_the_crude_hr_is_fitted(folder):
    """The curve numbers alone fix the crude PFS HR, so it is fitted with them (a
    calibration target), not counted as a prediction."""
    text = (folder / "cohort.toml").read_text(encoding="utf-8")
    assert "tumor progression or last follow-up" in text      # the paper's definition
    assert "min(progression, death)" in text                  # the reading taken
    assert "the HR is a calibration target, not a\n# prediction" in text
    assert 'kind = "hr", value = 0.54, target = "pfs_hr_crude"' in text
    hr = load_targets(folder)["pfs_hr_crude"]
    assert hr.role == "calibration" and not hr.note


def test_within_arm_tace_p_values_and_the_after_matching_claim_are_transcribed(folder):
    import tomllib
    targets = load_targets(folder)
    for arm in ("sora_pd_1", "len_pd_1"):
        t = targets[f"os_p_psm_tace_vs_no_tace_{arm}"]
        assert (t.p_text, t.role, t.test) == ("<0.001", "reported", "log-rank")
    data = tomllib.loads((folder / "targets.toml").read_text(encoding="utf-8"))
    claim = {c["id"]: c for c in data["claims"]}["claim_no_difference_after_psm"]
    assert (claim["kind"], claim["analysis"], claim["significant"]) == ("significance", "psm", False)
