"""A closed-loop run's --out folder holds that run's files only, each whole."""
from __future__ import annotations

import json
import shlex

import pandas as pd
import pytest

from tacebench.benchmarks.closed_loop import output
from tacebench.benchmarks.closed_loop.output import (OUTPUT_FILES, PARTIAL_FILE, clear_outputs,
                                                     paper_id, write_outputs)
from tacebench.cli import main
from tacebench.engine.files import WriteFailed, folder_lock


def _earlier_run(out, papers=3, finished=True):
    """The files of an earlier run (an unfinished one has its record, no tables)."""
    out.mkdir(exist_ok=True)
    for name in OUTPUT_FILES if finished else (PARTIAL_FILE,):
        (out / name).write_text("earlier run\n")
    for r in range(papers):
        folder = out / "papers" / paper_id("ph", r)
        folder.mkdir(parents=True)
        (folder / "cohort.toml").write_text("")


def test_clear_outputs_removes_a_runs_files_and_paper_folders_only(tmp_path):
    _earlier_run(tmp_path)
    _earlier_run(tmp_path, papers=0, finished=False)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "papers" / "my_draft").mkdir()
    (tmp_path / "papers" / "closed_loop_ph_1").mkdir()    # not a paper id: not ours
    removed = clear_outputs(tmp_path)
    assert len(removed) == len(OUTPUT_FILES) + 1 + 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "papers"]
    assert sorted(p.name for p in (tmp_path / "papers").iterdir()) == ["closed_loop_ph_1",
                                                                       "my_draft"]
    assert clear_outputs(tmp_path / "absent") == []


def test_write_outputs_leaves_no_half_file_and_writes_the_summary_last(tmp_path, monkeypatch):
    frame = pd.DataFrame({"a": [1, 2]})
    written = write_outputs(tmp_path, frame, frame, frame, {"seed": 1}, "text")
    assert [p.name for p in written] == list(OUTPUT_FILES)
    assert json.loads((tmp_path / "run.json").read_text()) == {"seed": 1}
    assert (tmp_path / "summary.md").read_text() == "text\n"

    real = output.atomic_write
    def full_disk(path, write):
        if path.name == "power.csv":
            raise WriteFailed(28, "cannot write power.csv: No space left on device")
        return real(path, write)
    monkeypatch.setattr(output, "atomic_write", full_disk)
    clear_outputs(tmp_path)
    with pytest.raises(WriteFailed, match="power.csv"):
        write_outputs(tmp_path, frame, frame, frame, {}, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null.csv", "results.csv"]


def _fake_loop(monkeypatch, calls):
    import tacebench.benchmarks.closed_loop.summary as summary
    import tacebench.cli.closed_loop as cli

    def run_closed_loop(papers, reps, seed, n_jobs, kinds, keep, sink=None, control=False,
                        done=None):
        calls.append(sorted(p.name for p in keep.parent.iterdir()) if keep else None)
        rows = pd.DataFrame({"paper": list(range(papers)), "verdict": "reproduced"})
        for r in range(papers):
            (keep / paper_id("ph", r)).mkdir(parents=True)
        return rows, rows, rows, {}
    monkeypatch.setattr(cli, "run_closed_loop", run_closed_loop)
    monkeypatch.setattr(summary, "report", lambda rows: "table")


def test_a_run_replaces_an_earlier_runs_files(tmp_path, monkeypatch, capsys):
    """Before, a run of 2 papers after one of 3 left the third paper's study folder in
    papers/ beside its own two."""
    calls = []
    _fake_loop(monkeypatch, calls)
    out = tmp_path / "out"
    _earlier_run(out)
    status = main(["closed-loop", "--papers", "2", "--kinds", "ph", "--out", str(out),
                   "--keep-papers"])
    assert status == 0, capsys.readouterr().err
    # the earlier run's files were gone before this run began (the record is this run's)
    assert calls == [[".lock", "papers", PARTIAL_FILE]]
    assert sorted(p.name for p in (out / "papers").iterdir()) == [paper_id("ph", 0),
                                                                  paper_id("ph", 1)]
    assert len(pd.read_csv(out / "results.csv")) == 2
    assert "earlier run" not in (out / "summary.md").read_text()


def test_a_second_run_into_a_folder_being_written_is_refused(tmp_path, monkeypatch, capsys):
    """Before, both ran: each truncated the other's results.partial.jsonl and the later
    one's tables replaced the earlier one's."""
    calls = []
    _fake_loop(monkeypatch, calls)
    out = tmp_path / "out"
    _earlier_run(out, papers=1)
    with folder_lock(out):
        status = main(["closed-loop", "--kinds", "ph", "--out", str(out)])
    assert status == 2
    assert "being written by another run" in capsys.readouterr().err
    assert calls == []
    assert (out / "summary.md").read_text() == "earlier run\n"   # untouched


def test_a_stopped_run_resumes_to_the_tables_of_an_uninterrupted_one(tmp_path, monkeypatch,
                                                                      capsys):
    """Before, a stopped run (30 minutes for the documented main run) kept only a log of
    rows and began again from nothing; a new run into its folder erased that log."""
    args = ["closed-loop", "--papers", "2", "--reps", "20", "--kinds", "ph", "--n-jobs", "1"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main([*args, "--out", str(whole)]) == 0
    assert not (whole / PARTIAL_FILE).exists()          # a finished run has no record

    real, calls = output.record_papers, []
    def stop_after_first(out, rows):
        real(out, rows)
        calls.append(1)
        raise KeyboardInterrupt          # Ctrl-C once the first paper is on record
    monkeypatch.setattr(output, "record_papers", stop_after_first)
    capsys.readouterr()
    assert main([*args, "--out", str(part)]) == 130
    # the resume command (said only "interrupted", though the README promises it)
    prefix = "tacebench closed-loop: interrupted; resume with: "
    hint = capsys.readouterr().err.strip().splitlines()[-1]
    assert hint.startswith(prefix), hint
    resume = shlex.split(hint[len(prefix):])
    assert resume == ["tacebench", "closed-loop", "--out", str(part), "--resume", "--papers",
                      "2", "--reps", "20", "--n-jobs", "1", "--kinds", "ph"]
    monkeypatch.setattr(output, "record_papers", real)
    assert calls == [1] and not (part / "results.csv").exists()
    with open(part / PARTIAL_FILE, "a") as fh:        # a line cut short by a kill
        fh.write('{"kind": "ph", "paper": 1, "rows": [{"id": "os_')
    record = (part / PARTIAL_FILE).read_bytes()
    capsys.readouterr()

    assert main([*args, "--out", str(part)]) == 2       # not overwritten without --resume
    assert "unfinished closed-loop run" in capsys.readouterr().err
    assert main([*args, "--seed", "7", "--out", str(part), "--resume"]) == 2
    assert "seed 20250101 there, 7 here" in capsys.readouterr().err
    assert (part / PARTIAL_FILE).read_bytes() == record

    assert main(resume[1:]) == 0
    assert "(1 papers judged before this session)" in capsys.readouterr().out
    for name in ("results.csv", "null.csv", "power.csv"):
        assert (part / name).read_bytes() == (whole / name).read_bytes(), name
    assert json.loads((part / "run.json").read_text())["resumed_papers"] == 1
    assert not (part / PARTIAL_FILE).exists()


def test_a_record_of_another_code_version_is_refused(tmp_path):
    key = output.RunKey(1, 20, False, "0.1.0+src.aaaa")
    output.start_record(tmp_path, key)
    output.record_papers(tmp_path, [{"kind": "ph", "paper": 0, "id": "x"}])
    assert output.read_record(tmp_path, key) == {("ph", 0): [{"kind": "ph", "paper": 0,
                                                               "id": "x"}]}
    with pytest.raises(output.ResumeRefused, match="code_version '0.1.0\\+src.aaaa' there"):
        output.read_record(tmp_path, output.RunKey(1, 20, False, "0.1.0+src.bbbb"))
    with pytest.raises(output.ResumeRefused, match="no unfinished closed-loop run"):
        output.read_record(tmp_path / "none", key)


def test_a_record_that_cannot_be_written_stops_the_run_cleanly(tmp_path, monkeypatch):
    """A full disk while recording a paper: WriteFailed (the CLI says 'rerun with
    --resume'), not an OSError traceback out of the engine's sink."""
    import errno

    from tacebench.engine.files import WriteFailed

    key = output.RunKey(1, 20, False, "v")
    output.start_record(tmp_path, key)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(output, "open", full_disk, raising=False)
    with pytest.raises(WriteFailed, match=f"cannot write {PARTIAL_FILE}"):
        output.record_papers(tmp_path, [{"kind": "ph", "paper": 0}])
    monkeypatch.undo()
    assert output.read_record(tmp_path, key) == {}


def test_a_paper_folder_that_fails_its_check_stops_the_run_with_its_problems(
        tmp_path, monkeypatch, capsys):
    """A generated folder that fails tacebench check ended the run with a StudyError
    traceback from judge_folder; now the run stops (status 1) naming the paper folder
    and its problems."""
    import tacebench.benchmarks.closed_loop.loop as loop

    real = loop.write_study

    def broken_writer(paper, folder, study_id):
        written = real(paper, folder, study_id)
        with open(written / "targets.toml", "a", encoding="utf-8") as fh:
            fh.write('\n[[targets]]\nid = "written_wrong"\nquantity = "no_such_quantity"\n')
        return written
    monkeypatch.setattr(loop, "write_study", broken_writer)
    out = tmp_path / "out"
    status = main(["closed-loop", "--papers", "2", "--reps", "20", "--kinds", "ph",
                   "--n-jobs", "1", "--out", str(out), "--keep-papers"])
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err and "StudyError" not in err
    assert f"the generated paper folder {out / 'papers' / paper_id('ph', 0)} fails" in err
    assert "written_wrong" in err
