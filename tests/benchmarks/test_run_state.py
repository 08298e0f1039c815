"""What a run folder holds is checked before a session works: the user's own code, a
missing or damaged manifest, damaged derived files."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tacebench.benchmarks.report import summarize_run
from tacebench.benchmarks.run_state import RunRefused, user_modules
from tacebench.benchmarks.runner import load_results, run_study
from tacebench.benchmarks.study import load_study, study_from_raw

from .conftest import TOY, first_reps

TOY_PY = Path(__file__).with_name("toy.py")


def _own_study(tmp_path: Path, monkeypatch, module: str):
    """The toy study with its generator and methods in a module of the user's own."""
    code = tmp_path / "code"
    code.mkdir()
    shutil.copy(TOY_PY, code / f"{module}.py")
    monkeypatch.syspath_prepend(str(code))
    raw = json.loads(json.dumps(load_study(TOY).raw))
    raw["dgm"][0]["generator"] = f"{module}:prepare"
    for m in raw["methods"].values():
        m["family"] = m["family"].replace("tests.benchmarks.toy", module)
    return study_from_raw(raw), code / f"{module}.py"


def test_an_edit_of_the_studys_own_module_is_never_mixed_into_a_resume(tmp_path, monkeypatch):
    study, source = _own_study(tmp_path, monkeypatch, "own_toy_methods")
    assert user_modules(study) == ["own_toy_methods"]
    out = tmp_path / "run"
    run_study(study, out, reps=3, progress=False)
    chunks = sorted(p.name for p in (out / "chunks").iterdir())
    source.write_text(source.read_text() + "\n# an edit between sessions\n")
    with pytest.raises(RunRefused, match=r"own module own_toy_methods \(.*own_toy_methods"
                                         r"\.py\) changed.*never mixed") as info:
        run_study(study, out, reps=6, resume=True, progress=False)
    assert "--force" in info.value.cli and "force=True" not in info.value.cli
    assert sorted(p.name for p in (out / "chunks").iterdir()) == chunks  # nothing touched
    report = run_study(study, out, reps=6, resume=True, force=True, progress=False)
    assert report.replicates_run == 6 * len(study.scenarios)   # all again, none mixed
    [old] = (out / "superseded").iterdir()
    assert sorted(p.name for p in (old / "chunks").iterdir()) == chunks
    # unchanged code resumes as before
    assert run_study(study, out, reps=6, resume=True, progress=False).replicates_run == 0


def test_results_without_a_manifest_are_refused_and_set_aside_with_force(study, reference,
                                                                        tmp_path):
    run_study(study, tmp_path, reps=4, progress=False)
    (tmp_path / "manifest.json").unlink()
    for resume in (False, True):
        with pytest.raises(RunRefused, match=r"holds run files \(chunks, truth.csv, "
                                             r"sessions.json\) but no manifest.json") as info:
            run_study(study, tmp_path, reps=4, resume=resume, progress=False)
        assert "Pass --force to move them" in info.value.cli
    report = run_study(study, tmp_path, reps=4, force=True, progress=False)
    assert report.replicates_run == 4 * len(study.scenarios)
    assert (tmp_path / "superseded" / "unrecorded" / "chunks").is_dir()
    pd.testing.assert_frame_equal(load_results(tmp_path)[0], first_reps(reference, 4),
                                  check_exact=True)


@pytest.mark.parametrize("text, problem", [
    ('{"study": "toy", "fing', "Unterminated string"),
    ("", "Expecting value"),
    ('{"study": 3}', "its 'study' is 3, not a str"),
    ("[1, 2]", "it holds a list, not an object"),
])
def test_a_damaged_manifest_is_named_before_any_work(study, tmp_path, text, problem):
    run_study(study, tmp_path, reps=2, progress=False)
    (tmp_path / "manifest.json").write_text(text)
    chunks = sorted(p.name for p in (tmp_path / "chunks").iterdir())
    with pytest.raises(RunRefused, match=r"manifest.json is damaged: .*" + problem):
        run_study(study, tmp_path, reps=4, resume=True, progress=False)
    assert sorted(p.name for p in (tmp_path / "chunks").iterdir()) == chunks
    with pytest.raises(ValueError, match=r"manifest.json is damaged"):
        summarize_run(tmp_path)
    run_study(study, tmp_path, reps=2, resume=True, force=True, progress=False)
    assert (tmp_path / "superseded" / "unrecorded" / "manifest.json").read_text() == text


@pytest.mark.parametrize("cut", [lambda b: b[:len(b) // 2], lambda b: b"", lambda b: b[:-40]])
def test_a_damaged_truth_csv_is_computed_again_before_the_replicates(study, reference,
                                                                    tmp_path, cut):
    run_study(study, tmp_path, reps=3, progress=False)
    truth = tmp_path / "truth.csv"
    whole = truth.read_bytes()
    truth.write_bytes(cut(whole))
    with pytest.raises(ValueError, match=r"truth.csv .*resuming the run"):
        load_results(tmp_path)
    with pytest.warns(RuntimeWarning, match=r"truth.csv .*moved to damaged/ and computed again"):
        run_study(study, tmp_path, reps=5, resume=True, progress=False)
    assert truth.read_bytes() == whole
    assert (tmp_path / "damaged" / "truth.csv").read_bytes() == cut(whole)
    pd.testing.assert_frame_equal(load_results(tmp_path)[0], first_reps(reference, 5),
                                  check_exact=True)


@pytest.mark.parametrize("text", ['[{"session": 1, "status": "runn', '{"a": 1}', "[1, 2]"])
def test_a_damaged_sessions_record_is_set_aside_and_a_new_one_started(study, tmp_path, text):
    run_study(study, tmp_path, reps=2, progress=False)
    (tmp_path / "sessions.json").write_text(text)
    with pytest.warns(RuntimeWarning, match=r"sessions.json is damaged"):
        report = run_study(study, tmp_path, reps=3, resume=True, progress=False)
    assert report.whole_run.sessions == 1
    assert (tmp_path / "damaged" / "sessions.json").read_text() == text


def test_a_missing_study_json_is_named_by_summarize_and_restored_by_resume(study, tmp_path):
    run_study(study, tmp_path, reps=2, progress=False)
    (tmp_path / "study.json").unlink()
    with pytest.raises(ValueError, match=r"study.json cannot be read .*--resume"):
        summarize_run(tmp_path)
    with pytest.warns(RuntimeWarning, match=r"study.json was missing"):
        run_study(study, tmp_path, reps=2, resume=True, progress=False)
    assert json.loads((tmp_path / "study.json").read_text()) == json.loads(
        json.dumps(study.raw, default=str))
    summarize_run(tmp_path)
