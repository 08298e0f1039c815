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
