"""A response rate that cohort.toml's response shares determine is a calibration input,
and the input must be the paper's number (replications.response_inputs)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tacebench.replications.check import check_folder

FICTIONAL = Path(__file__).parent / "fictional_study"


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(FICTIONAL, tmp_path / "study")
    return tmp_path / "study"


def _edit(folder, name, old, new):
    p = folder / name
    text = p.read_text()
    assert old in text, old
    p.write_text(text.replace(old, new, 1))


def _add_target(folder, block: str) -> None:
    text = (folder / "targets.toml").read_text()
    i = text.index("[[shifts]]")
    (folder / "targets.toml").write_text(text[:i] + block + "\n" + text[i:])


def _input_errors(folder):
    return [p for p in check_folder(folder).errors if p.kind == "response-input"]


def test_the_fictional_study_passes():
    assert _input_errors(FICTIONAL) == []


def test_an_input_rate_declared_predicted_is_refused(copy):
    """The ORR 33.3% (50/150) of counts [5, 45, 60, 40] counted among the 'predicted
    reproduced' numbers."""
    _edit(copy, "targets.toml", 'percent = 33.3\ncount = 50\ndenominator = 150\nrole = "calibration"',
          'percent = 33.3\ncount = 50\ndenominator = 150\nrole = "predicted"')
    (e,) = _input_errors(copy)
    assert e.key.startswith("targets[") and e.key.endswith(".role") and e.value == "predicted"
    assert "'orr_tace_imaging' is an unadjusted response rate of arm 'TACE'" in e.message
    assert "cohorts.main.response.arms.TACE.counts" in e.message


def test_an_input_that_is_not_the_papers_number_is_refused(copy):
    """70 responders against the paper's 50 of 150 (33.3%): check said OK."""
    _edit(copy, "cohort.toml", "{ counts = [5, 45, 60, 40] }", "{ counts = [10, 60, 40, 40] }")
    (e,) = _input_errors(copy)
    assert e.value == "orr_tace_imaging"
    assert ("the paper prints orr_tace_imaging 33.3% for arm 'TACE', but cohort.toml's "
            "cohorts.main.response.arms.TACE.counts [10, 60, 40, 40] give 46.67% (CR+PR of "
            "150)") in e.message


def test_a_rate_printed_twice_differently_is_the_audits_not_an_input_error(copy):
    """A discussion that prints the TACE ORR as 73.3% (the DCR) beside the Results' 33.3%:
    the input agrees with one printing, so the disagreement is the paper's
    (same_as_agree). The strict tests' DCR and discussion-ORR targets."""
    from tests.replications.test_strict import DCR

    _add_target(copy, DCR)
    assert _input_errors(copy) == []


def test_a_count_only_printing_is_compared_too(copy):
    """'5 and 6 patients had a complete response' (a count, no rate): counts [9, ...] in
    cohort.toml were not compared with it."""
    _add_target(copy, '''[[targets]]
id = "response_cr_tace_imaging"
analysis = "imaging"
quantity = "rate"
endpoint = "response"
level = "CR"
arm = "TACE"
count = 5
role = "calibration"
where = "text"
source = "5 and 6 patients had a complete response"
''')
    assert _input_errors(copy) == []
    _edit(copy, "cohort.toml", "{ counts = [5, 45, 60, 40] }", "{ counts = [9, 41, 60, 40] }")
    errors = _input_errors(copy)
    assert [e.value for e in errors] == ["response_cr_tace_imaging"], errors
    assert "the paper prints response_cr_tace_imaging 5 patients" in errors[0].message


MATCHED = "Matched cohort, TACE: CR 5, PR 45 (30.0%), SD 60 (40.0%), PD 40"


def _matched_input(copy):
    """Seed 004's shape: the paper prints response for its matched cohort only, and
    cohort.toml feeds those shares to the whole cohort, quoting the matched table."""
    _edit(copy, "cohort.toml", 'levels = ["CR", "PR", "SD", "PD"]\n',
          f'levels = ["CR", "PR", "SD", "PD"]\nsource = "{MATCHED}"\n')
    _edit(copy, "analysis.toml", 'estimates = ["km_median", "hr", "group_size"]',
          'estimates = ["km_median", "hr", "group_size", "response_rate"]')


def _psm_rate(tid, endpoint, extra, source):
    return f'''[[targets]]
id = "{tid}"
analysis = "psm"
quantity = "rate"
endpoint = "{endpoint}"
arm = "TACE"
{extra}
role = "predicted"
where = "text"
source = "{source}"
'''


def test_a_matched_rate_the_input_was_transcribed_from_is_refused(copy):
    """Seed 004 counted Table 3's matched response shares, copied into cohort.toml as the
    whole cohort's, as 17 predictions reproduced: any population but the unadjusted one
    passed."""
    _matched_input(copy)
    _add_target(copy, _psm_rate("response_pr_tace_psm", "response", 'level = "PR"\ncount = 45\n'
                                "percent = 30.0", MATCHED))
    # the text restates the table's DCR (CR + PR + SD of the shares) in other words
    _add_target(copy, _psm_rate("dcr_tace_psm", "dcr", "percent = 73.3",
                                "after matching, the DCR was 73.3% with TACE"))
    errors = _input_errors(copy)
    assert [e.value for e in errors] == ["predicted", "predicted"], errors
    assert ("'response_pr_tace_psm' (30.0%) is a response rate of arm 'TACE' in 'psm', and "
            "cohort.toml's cohorts.main.response.arms.TACE.counts are that analysis's printing "
            "('response_pr_tace_psm' quotes its source)") in errors[0].message
    assert "'dcr_tace_psm' (73.3%)" in errors[1].message and "give it role = \"calibration\"" in (
        errors[1].message)


def test_a_matched_rate_equal_to_a_whole_cohort_input_is_no_input(copy):
    """The input quotes the whole cohort's printing: a matched rate that happens to equal
    it is a genuine prediction, and one that differs is no transcription error."""
    _edit(copy, "analysis.toml", 'estimates = ["km_median", "hr", "group_size"]',
          'estimates = ["km_median", "hr", "group_size", "response_rate"]')
    _edit(copy, "cohort.toml", 'levels = ["CR", "PR", "SD", "PD"]\n',
          'levels = ["CR", "PR", "SD", "PD"]\nsource = "the objective response rate was 33.3% '
          '(50/150) with TACE"\n')
    _add_target(copy, _psm_rate("orr_tace_psm", "orr", "percent = 33.3",
                                "in the matched cohort the ORR was 33.3% with TACE"))
    _add_target(copy, _psm_rate("dcr_tace_psm", "dcr", "percent = 60.0",
                                "in the matched cohort the DCR was 60.0% with TACE"))
    assert _input_errors(copy) == []


def test_a_transcribed_rate_the_input_disagrees_with_is_refused(copy):
    """A matched printing the input quotes must be the input's number, as a whole-arm one."""
    _matched_input(copy)
    _add_target(copy, _psm_rate("response_pr_tace_psm", "response", 'level = "PR"\ncount = 45\n'
                                "percent = 30.0", MATCHED).replace('"predicted"', '"calibration"'))
    _edit(copy, "cohort.toml", "{ counts = [5, 45, 60, 40] }", "{ counts = [15, 35, 60, 40] }")
    errors = _input_errors(copy)
    assert [e.value for e in errors] == ["response_pr_tace_psm"], errors
    assert "the paper prints response_pr_tace_psm 30.0% for arm 'TACE'" in errors[0].message


def test_an_odds_ratio_of_two_input_rates_declared_predicted_is_refused(copy):
    """Seed 000 counted the crude imaging ORs 1.70 = (30/86)/(48/234) and 1.43 among the
    'predicted reproduced' numbers: the unadjusted odds ratio of two arms whose response
    shares are inputs is a function of the inputs only."""
    _edit(copy, "targets.toml", 'ci = [1.09, 3.03]\nrole = "calibration"',
          'ci = [1.09, 3.03]\nrole = "predicted"')
    (e,) = _input_errors(copy)
    assert e.key.endswith(".role") and e.value == "predicted"
    assert ("'orr_or_imaging' is the odds ratio of two response rates, arms 'TACE-L' and "
            "'TACE' in 'imaging', whose shares are inputs of cohort.toml "
            "(cohorts.main.response.arms.TACE-L.counts and "
            "cohorts.main.response.arms.TACE.counts)") in e.message


def test_an_adjusted_odds_ratio_of_two_input_arms_is_a_prediction(copy):
    """An odds ratio with outcome covariates, or of a weighted population, is not fixed by
    the arms' shares: it stays predicted."""
    _edit(copy, "targets.toml", 'ci = [1.09, 3.03]\nrole = "calibration"',
          'ci = [1.09, 3.03]\nrole = "predicted"')
    _edit(copy, "analysis.toml", 'population = "response_assessed"\nadjustment = { method = "none" }',
          'population = "response_assessed"\nadjustment = { method = "multivariable", '
          'covariates = ["pvtt"] }')
    assert _input_errors(copy) == []
