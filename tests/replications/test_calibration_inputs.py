"""Calibration inputs from a matched, weighted or partial population are refused by
`tacebench check`, naming the file, the key and the population."""
import shutil
from pathlib import Path

import pytest

from tacebench.replications.check import check_folder

FICTIONAL = Path(__file__).parent / "fictional_study"
MEDIAN = 'id = "os_median_tace_crude"\nanalysis = "crude"'


@pytest.fixture
def copy(tmp_path):
    dst = tmp_path / "study"
    shutil.copytree(FICTIONAL, dst)
    return dst


def edit(folder, name, old, new):
    p = folder / name
    text = p.read_text()
    assert old in text, f"{old!r} not in {name}"
    p.write_text(text.replace(old, new, 1))


def population_errors(report):
    return [p for p in report.errors if p.kind == "calibration-population"]


@pytest.mark.parametrize("analysis, population", [
    ("psm", "propensity-score matched sample"),
    ("iptw", "inverse-probability weighted pseudo-population"),
])
def test_calibration_target_of_a_reweighted_analysis_is_refused(copy, analysis, population):
    edit(copy, "targets.toml", MEDIAN, MEDIAN.replace('"crude"', f'"{analysis}"'))
    errs = population_errors(check_folder(copy))
    assert len(errs) == 1
    p = errs[0]
    assert p.file.endswith("cohort.toml")
    assert (p.key, p.value) == ("cohorts.main.outcomes.os.calibrate[0].target", "os_median_tace_crude")
    assert f"analysis {analysis!r}" in p.message and population in p.message


def test_calibration_target_of_a_landmark_population_is_refused(copy):
    with open(copy / "analysis.toml", "a") as f:
        f.write('\n[[analyses]]\nname = "landmark3"\npopulation = { landmark = 3 }\n'
                'estimates = ["km_median"]\n')
    edit(copy, "targets.toml", MEDIAN, MEDIAN.replace('"crude"', '"landmark3"'))
    errs = population_errors(check_folder(copy))
    assert len(errs) == 1 and "landmark population" in errs[0].message


def test_weighted_number_is_refused_whatever_its_analysis(copy):
    edit(copy, "targets.toml", MEDIAN, MEDIAN + "\nweighted = true")
    errs = population_errors(check_folder(copy))
    assert len(errs) == 1 and "weighted = true" in errs[0].message


def test_whole_cohort_calibration_passes(copy):
    assert not population_errors(check_folder(copy))


FOLLOWUP = ('\n[[targets]]\nid = "followup_median_crude"\nanalysis = "crude"\n'
            'quantity = "median_followup"\nendpoint = "os"\nvalue = 30\nrole = "calibration"\n'
            'where = "text"\nsource = "median follow-up 30 months"\n')


def with_followup(copy, entry):
    with open(copy / "targets.toml", "a") as fh:
        fh.write(FOLLOWUP)
    edit(copy, "analysis.toml", 'estimates = ["km_median", "km_rate", "hr", "group_size"]',
         'estimates = ["km_median", "km_rate", "hr", "group_size", "followup"]')
    edit(copy, "cohort.toml", "loss_rate = 0.005", f'loss_rate = "calibrate"\nmedian_followup = {entry}')
    return check_folder(copy)


def test_median_followup_calibration_is_cross_checked(copy):
    report = with_followup(copy, '{ value = 30, target = "followup_median_crude" }')
    assert report.ok and not [p for p in report.warnings if p.kind == "followup-definition"]


def test_median_followup_value_mismatch_is_an_error(copy):
    report = with_followup(copy, '{ value = 31, target = "followup_median_crude" }')
    p, = [p for p in report.errors if p.kind == "calibration-mismatch"]
    assert p.key == "cohorts.main.censoring.median_followup.value" and p.value == 31


def test_other_followup_definition_warns_that_the_estimate_differs(copy):
    report = with_followup(copy, '{ value = 30, definition = "observed", target = "followup_median_crude" }')
    assert report.ok
    w, = [p for p in report.warnings if p.kind == "followup-definition"]
    assert w.key.endswith("median_followup.definition") and "reverse Kaplan-Meier" in w.message
