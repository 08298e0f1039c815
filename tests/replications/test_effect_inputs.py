"""A hazard ratio cohort.toml gives the generator is calibration, not prediction
(replications.effect_inputs)."""
from __future__ import annotations

import shutil
import pytest

from tacebench.replications.check import check_folder
from tacebench.simulate.studies import resolve_study

from .folders import FICTIONAL, edit as _edit

COVARIATE_HR = 'term = "pvtt"\nvalue = 1.60\nci = [1.15, 2.22]\nrole = "calibration"'


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(FICTIONAL, tmp_path / "study")
    return tmp_path / "study"


def _input_errors(folder):
    return [p for p in check_folder(folder).errors if p.kind == "effect-input"]


def test_the_fictional_study_passes():
    assert _input_errors(FICTIONAL) == []


def test_a_covariate_hr_with_an_effect_declared_predicted_is_refused(copy):
    """PVTT's multivariable HR 1.60 is cohort.toml's effect 1.6: it counted among the
    'predicted reproduced' numbers."""
    _edit(copy, "targets.toml", COVARIATE_HR, COVARIATE_HR.replace("calibration", "predicted"))
    (e,) = _input_errors(copy)
    assert e.key.startswith("targets[") and e.key.endswith(".role") and e.value == "predicted"
    assert "'os_hr_pvtt_multivariable' is a hazard ratio the generator is given" in e.message
    assert "cohorts.main.outcomes.os.effects[0]" in e.message


def test_a_covariate_without_an_effect_is_a_prediction(copy):
    """Without an effects entry for pvtt, its multivariable HR follows from the other
    inputs: predicted is right."""
    _edit(copy, "targets.toml", COVARIATE_HR, COVARIATE_HR.replace("calibration", "predicted"))
    _edit(copy, "cohort.toml", '  { variable = "pvtt", hr = 1.6 },\n', "")
    assert _input_errors(copy) == []


def test_the_treatment_hr_of_an_outcome_model_with_a_known_treatment_hr_is_refused(copy):
    """A numeric treatment_hr is the conditional HR the multivariable model estimates; the
    crude HR (no outcome model) stays a prediction."""
    _edit(copy, "cohort.toml", 'knots = [0, 6, 12, 24, 36]\ntreatment_hr = "calibrate"',
          "knots = [0, 6, 12, 24, 36]\ntreatment_hr = 0.7")
    (e,) = _input_errors(copy)
    assert "'os_hr_multivariable'" in e.message
    assert "cohorts.main.outcomes.os.treatment_hr" in e.message


def test_a_number_an_association_names_is_refused_as_predicted(tmp_path):
    """Table 3's univariable HRs are what the effects are solved to."""
    folder = tmp_path / "ehs"
    shutil.copytree(resolve_study("tace_sorafenib_ehs"), folder)
    text = (folder / "targets.toml").read_text()
    i = text.index('id = "os_hr_male_crude"')
    j = text.index('role = "calibration"', i)
    (folder / "targets.toml").write_text(text[:j] + 'role = "predicted"'
                                         + text[j + len('role = "calibration"'):])
    (e,) = _input_errors(folder)
    assert "cohorts.main.outcomes.os.associations[0].univariable" in e.message


def _regorafenib(tmp_path, predicted: str, term: str | None = None):
    """A copy of tace_regorafenib (cohort.toml's response block gives os_hr_pd; its
    analysis.toml aliases the paper's label best_response_pd to response==PD) whose target
    ``predicted`` is predicted, its PD term written ``term`` or kept as the paper's label."""
    folder = tmp_path / "regorafenib"
    shutil.copytree(resolve_study("tace_regorafenib"), folder)
    assert 'best_response_pd = "response==PD"' in (folder / "analysis.toml").read_text()
    text = (folder / "targets.toml").read_text()
    i = text.index(f'id = "{predicted}"')
    j = text.index("role = ", i)
    k = text.index("\n", j)
    entry = text[i:j].replace('term = "best_response_pd"', f'term = "{term}"') if term \
        else text[i:j]
    (folder / "targets.toml").write_text(text[:i] + entry + 'role = "predicted"' + text[k:])
    return folder


def test_the_os_hr_of_pd_the_response_block_gives_is_refused_as_predicted(tmp_path):
    """The multivariable OS HR of PD (6.497, adjusted for dose) is refused as the dose HR
    given as an effect is: the number an author transcribes into os_hr_pd."""
    folder = _regorafenib(tmp_path, "os_hr_best_response_pd_multivariable")
    (e,) = _input_errors(folder)
    assert "'os_hr_best_response_pd_multivariable' is a hazard ratio the generator is " \
           "given" in e.message and "cohorts.main.response.os_hr_pd" in e.message


@pytest.mark.parametrize("term", ["response==PD", "response!=PD", "response==CR|PR|SD"])
def test_the_univariable_os_hr_of_pd_is_the_number_the_link_is_solved_for(tmp_path, term):
    folder = _regorafenib(tmp_path, "os_hr_best_response_pd_univariable", term)
    (e,) = _input_errors(folder)
    assert "cohorts.main.response.os_hr_pd" in e.message and e.value == "predicted"


def test_the_hr_of_pd_on_pfs_or_without_os_hr_pd_is_a_prediction(tmp_path):
    """os_hr_pd speaks of OS only; without it the HR of PD follows from os_correlation."""
    pfs = _regorafenib(tmp_path / "a", "pfs_hr_best_response_pd_multivariable")
    assert _input_errors(pfs) == []
    folder = _regorafenib(tmp_path / "b", "os_hr_best_response_pd_multivariable")
    _edit(folder, "cohort.toml", "os_hr_pd = 9.151\n", "")
    assert _input_errors(folder) == []


def test_an_effect_of_one_arm_is_not_the_hr_of_a_whole_cohort_model(copy):
    """PVTT's effect 1.6 held in the TACE-L arm only is not what a Cox model of both arms
    estimates (a mixture of 1.6 and no effect): its multivariable HR stays a prediction."""
    _edit(copy, "targets.toml", COVARIATE_HR, COVARIATE_HR.replace("calibration", "predicted"))
    _edit(copy, "cohort.toml", '  { variable = "pvtt", hr = 1.6 },\n',
          '  { variable = "pvtt", hr = 1.6, arm = "TACE-L" },\n')
    assert _input_errors(copy) == []


def _matched_with(tmp_path, arm: str):
    """A copy of tace_sorafenib_matched whose primary cohort holds tumour size >= 5 cm
    (Table 5's 1.54) in arm ``arm`` only."""
    folder = tmp_path / "matched"
    shutil.copytree(resolve_study("tace_sorafenib_matched"), folder)
    effect = '  { variable = "pvtt", hr = 1.47, source = " Yes 1.37 (1.06 - 1.77) 0.016 1.47 (1.14 - 1.91) 0.004" },\n'
    _edit(folder, "cohort.toml", effect,
          effect + f'  {{ variable = "tumor_size", hr = 1.54, above = 5, arm = "{arm}" }},\n')
    return folder


def test_an_effect_of_one_arm_is_an_input_of_the_models_of_that_arm_only(tmp_path):
    """Table 5's models are fitted within TACE+sorafenib: an effect held there is told to
    them (their tumour-size HRs, declared predicted, are refused); held in the TACE arm, it
    is not (nor is it for the univariable model of the same arm)."""
    errors = _input_errors(_matched_with(tmp_path / "a", "TACE+sorafenib"))
    refused = sorted(e.message.split("'")[1] for e in errors)
    assert refused == ["os_hr_tumor_size_5_sorafenib_arm_primary_multivariable",
                       "os_hr_tumor_size_5_sorafenib_arm_primary_multivariable_text"], refused
    assert all("cohorts.primary.outcomes.os.effects[1]" in e.message for e in errors)
    assert _input_errors(_matched_with(tmp_path / "b", "TACE")) == []
