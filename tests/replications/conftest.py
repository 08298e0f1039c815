"""Fixtures shared by the report tests: one small run of the fictional study."""
from __future__ import annotations

from pathlib import Path

import pytest

FICTIONAL = Path(__file__).parent / "fictional_study"


@pytest.fixture(scope="session")
def fictional_report():
    """The fictional study replicated at 12 replicates (worlds on): a StudyReport."""
    from tacebench.api import replicate

    return replicate(FICTIONAL, reps=12, seed=3, decompose_reps=4, n_jobs=1, max_reps=12)


@pytest.fixture(scope="session")
def fictional_results(fictional_report) -> list[dict]:
    """The run in its JSON form: what results.json holds, read back (``to_dict`` alone
    hid that the report read keys the file does not have)."""
    import json

    from tacebench.replications.output_files import json_text

    return json.loads(json_text([fictional_report.to_dict()]))


@pytest.fixture
def required_psm_study(tmp_path) -> Path:
    """A copy of the fictional study whose implausible matched HR (os_hr_psm, not
    reproduced or undetermined at 12 replicates) is marked required."""
    import shutil

    study = tmp_path / "study"
    shutil.copytree(FICTIONAL, study)
    t = (study / "targets.toml").read_text()
    t = t.replace('source = "in the matched cohort the HR was 0.40',
                  'required = true\nsource = "in the matched cohort the HR was 0.40')
    (study / "targets.toml").write_text(t)
    return study
