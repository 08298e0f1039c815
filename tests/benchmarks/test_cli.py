"""``tacebench study``: run, summarize, list; a run killed by a real signal resumes exactly."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from tacebench.benchmarks.runner import load_results, run_study
from tacebench.benchmarks.study import load_study
from tacebench.cli import main

ROOT = Path(__file__).resolve().parents[2]
TOY = Path(__file__).with_name("data") / "toy.toml"


def _slow_toy(tmp_path: Path, sleep: float) -> Path:
    text = TOY.read_text().replace("[dgm.fixed]\nn = 150", f"[dgm.fixed]\nn = 150\nsleep = {sleep}")
    assert tomllib.loads(text)["dgm"][0]["fixed"]["sleep"] == sleep
    path = tmp_path / "slow_toy.toml"
    path.write_text(text)
    return path


def test_run_and_summarize(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["study", "run", str(TOY), "--reps", "12", "--out", str(out), "--no-progress",
                 "--plot"]) == 0
    text = capsys.readouterr().out
    assert "48 replicates run" in text
    for name in ("manifest.json", "study.json", "truth.csv", "results.parquet",
                 "performance.csv", "summary.md", "summary.html"):
        assert (out / name).exists(), name
    md = (out / "summary.md").read_text()
    assert "## Bias" in md and "| scenario | rate_ratio | flaky |" in md
    assert list((out / "figures").glob("*.png"))
    perf = pd.read_csv(out / "performance.csv")
    assert set(perf["method"]) == {"rate_ratio", "flaky"}
    assert main(["study", "summarize", str(out), "--reps", "6"]) == 0
    assert main(["study", "run", str(TOY), "--reps", "12", "--out", str(out)]) == 2
    assert "resume" in capsys.readouterr().err


def test_a_summary_that_cannot_be_written_stops_cleanly(tmp_path, monkeypatch, capsys):
    """A full disk while writing summary.md: status 1 and the way on, not a traceback and
    not a cut-off summary."""
    from tests.engine.test_files import disk_fills_at

    out = tmp_path / "run"
    assert main(["study", "run", str(TOY), "--reps", "4", "--out", str(out), "--no-progress",
                 "--n-jobs", "1"]) == 0
    before = (out / "summary.md").read_bytes()
    capsys.readouterr()
    disk_fills_at(monkeypatch, out / "summary.md")
    assert main(["study", "summarize", str(out)]) == 1
    err = capsys.readouterr().err
    assert "stopped:" in err and "cannot write summary.md" in err, err
    assert (out / "summary.md").read_bytes() == before


def test_list_shows_the_shipped_studies(capsys):
    assert main(["study", "list"]) == 0
    assert "default" in capsys.readouterr().out


def test_bad_arguments(tmp_path, capsys):
    assert main(["study", "run", "no_such_study", "--out", str(tmp_path)]) == 2
    assert "study must be a TOML file or one of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["study", "run", str(TOY), "--reps", "0"])
    # one replicate gave a summary of dashes: every measure needs two
    with pytest.raises(SystemExit):
        main(["study", "run", str(TOY), "--reps", "1"])
    assert "--reps: must be an integer from 2 to 1000000; got '1'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="reps must be an integer >= 2; got 1"):
        run_study(load_study(TOY), tmp_path / "one", reps=1, progress=False)
    assert not (tmp_path / "one").exists()
    assert main(["study", "summarize", str(tmp_path)]) == 2


@pytest.mark.parametrize("sig, n_jobs, group", [
    pytest.param(signal.SIGTERM, 1, False, marks=pytest.mark.slow),
    (signal.SIGKILL, 2, True)])
def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, sig, n_jobs, group):
    study_file = _slow_toy(tmp_path, sleep=0.03)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "tacebench", "study", "run", str(study_file),
           "--out", str(out), "--n-jobs", str(n_jobs), "--chunk-size", "2", "--reps", "20",
           "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(list((out / "chunks").glob("*.parquet"))) >= 4 if (out / "chunks").exists() else False:
            break
        time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail("the run wrote no chunks within 60 s")
    if group:  # the whole process tree, as a terminal's Ctrl-\ or an OOM kill would
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    proc.communicate(timeout=30)
    assert proc.returncode == -sig
    n_before = len(list((out / "chunks").glob("*.parquet")))
    assert 4 <= n_before < 40  # interrupted mid-way: 4 scenarios x 20 reps / 2 per chunk

    resumed = subprocess.run(cmd + ["--resume"], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert "already done" in resumed.stdout
    got = load_results(out)[0]
    assert not got.duplicated(["scenario_index", "rep", "method"]).any()

    ref_out = tmp_path / "uninterrupted"
    run_study(load_study(study_file), ref_out, reps=20, n_jobs=4, backend="threading",
              progress=False)
    pd.testing.assert_frame_equal(got, load_results(ref_out)[0], check_exact=True)


def test_killed_run_resumed_after_a_code_change_refuses_to_mix(tmp_path):
    """A run killed, then resumed by other code (its manifest records another code version,
    as after an upgrade): refused with the reason; --force keeps the two apart."""
    study_file = _slow_toy(tmp_path, sleep=0.03)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "tacebench", "study", "run", str(study_file),
           "--out", str(out), "--n-jobs", "1", "--chunk-size", "2", "--reps", "20",
           "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not ((out / "chunks").exists() and len(list((out / "chunks").glob("*.parquet"))) >= 3):
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the run wrote no chunks within 60 s")
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    manifest = json.loads((out / "manifest.json").read_text())
    older = "0.0.9+src.0123456789abcdef"
    manifest["code_version"] = older
    (out / "manifest.json").write_text(json.dumps(manifest))
    kept = sorted(p.name for p in (out / "chunks").iterdir())

    refused = subprocess.run(cmd + ["--resume"], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 2
    assert older in refused.stderr and "never mixed" in refused.stderr
    assert sorted(p.name for p in (out / "chunks").iterdir()) == kept   # nothing touched

    forced = subprocess.run(cmd + ["--resume", "--force"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert forced.returncode == 0, forced.stderr
    assert sorted(p.name for p in (out / "superseded" / older / "chunks").iterdir()) == kept
    got = load_results(out)[0]
    ref_out = tmp_path / "uninterrupted"
    run_study(load_study(study_file), ref_out, reps=20, progress=False)
    pd.testing.assert_frame_equal(got, load_results(ref_out)[0], check_exact=True)
    assert json.loads((out / "manifest.json").read_text())["code_version"] != older


def test_the_resume_command_keeps_where_and_how_the_run_goes_on(tmp_path):
    """The command printed after Ctrl-C dropped --cluster, --scheduler and --chunk-size."""
    import shlex

    from tacebench.cli import build_parser
    from tacebench.cli.study import resume_command

    line = ["study", "run", "my study.toml", "--reps", "50", "--seed", "3", "--n-jobs", "4",
            "--backend", "dask", "--scheduler", "tcp://h:8786", "--chunk-size", "7",
            "--plot", "--no-progress", "--format", "csv"]
    args = build_parser(line).parse_args(line)
    words = shlex.split(resume_command(args, tmp_path / "o"))
    assert words == ["tacebench", "study", "run", "my study.toml", "--out", str(tmp_path / "o"),
                     "--resume", "--reps", "50", "--seed", "3", "--n-jobs", "4", "--backend",
                     "dask", "--scheduler", "tcp://h:8786", "--chunk-size", "7", "--plot",
                     "--no-progress"]
    line = ["study", "run", "s.toml", "--cluster", "slurm.toml", "--quiet"]
    words = shlex.split(resume_command(build_parser(line).parse_args(line), Path("o")))
    assert words[-3:] == ["--cluster", "slurm.toml", "--quiet"]


@pytest.mark.parametrize("extra, message", [
    (["--backend", "dask", "--scheduler", "notanaddress"],
     "--scheduler: 'notanaddress' is not host:port"),
    (["--scheduler", "tcp://h:8786"], "--scheduler tcp://h:8786: needs --backend dask"),
])
def test_a_bad_scheduler_is_named_as_its_option_and_nothing_is_written(tmp_path, capsys,
                                                                        extra, message):
    """--scheduler notanaddress said "missing port number ... fix the generator and rerun
    with resume=True" and left a manifest; without --backend dask it said "got
    backend=None"."""
    out = tmp_path / "run"
    assert main(["study", "run", str(TOY), "--out", str(out), "--reps", "2", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "generator" not in err and "=None" not in err, err
    assert not out.exists()


def test_summaries_say_which_replicates_and_whether_the_run_is_finished(tmp_path, capsys):
    """After --resume --reps 6, study run summarized 6 replicates and a later summarize
    all 12 on disk; a summary of a run in progress or unfinished said nothing of it."""
    from tacebench.benchmarks.report import summarize_run
    from tacebench.benchmarks.store import RunDirectory
    from tacebench.engine.files import folder_lock

    out = tmp_path / "run"
    base = ["study", "run", str(TOY), "--out", str(out), "--no-progress", "--n-jobs", "1"]
    assert main(base + ["--reps", "12", "--chunk-size", "6"]) == 0
    assert main(base + ["--reps", "6", "--resume"]) == 0
    capsys.readouterr()
    assert main(["study", "summarize", str(out)]) == 0
    err = capsys.readouterr().err
    md = (out / "summary.md").read_text()
    assert "6 replicates per scenario" in md
    assert "Replicates 6 and above on disk (up to 12 per scenario) are left out" in err, err
    assert main(["study", "summarize", str(out), "--reps", "12"]) == 0
    assert "12 replicates per scenario" in (out / "summary.md").read_text()

    notes = []
    with folder_lock(out):                       # as a run writing the folder holds it
        summarize_run(out, on_note=notes.append)
    assert notes[0].startswith("The run is in progress")
    assert "**Note.** The run is in progress" in (out / "summary.md").read_text()

    for chunk in RunDirectory(out).chunks()[1::2]:  # as a run asked for 12 and killed
        chunk.path.unlink()
    sessions = json.loads((out / "sessions.json").read_text())
    sessions[-1]["reps"] = 12
    (out / "sessions.json").write_text(json.dumps(sessions))
    notes = []
    summarize_run(out, on_note=notes.append)
    assert notes == ["The run is unfinished: it was asked for 12 replicates per scenario and "
                     "holds 6; resume it (study run --resume) to complete it."], notes


def test_the_whole_run_line_tells_replicates_computed_again(tmp_path, capsys):
    """After a damaged chunk was computed again the CLI said "whole run ... 18 replicates"
    of a 16-replicate run."""
    out = tmp_path / "run"
    base = ["study", "run", str(TOY), "--out", str(out), "--no-progress", "--n-jobs", "1",
            "--reps", "4", "--chunk-size", "2"]
    assert main(base) == 0
    chunk = sorted((out / "chunks").iterdir())[0]
    chunk.write_bytes(chunk.read_bytes()[:-10])
    capsys.readouterr()
    assert main(base + ["--resume"]) == 0
    text, err = capsys.readouterr()
    # the warning as one line of the command's, not Python's with a source path
    assert err.startswith(f"tacebench study run: warning: chunk {chunk.name} in ") and (
        err.count("\n") == 1 and "RuntimeWarning" not in err), err
    assert ("whole run: 16 replicates in 2 session(s) (0 interrupted), 18 computed (2 "
            "computed again after damage or a kill, or beyond --reps)") in text, text


def test_refusals_speak_in_the_commands_options(tmp_path, capsys):
    """The CLI said "out='...' already holds a run; pass resume=True (--resume)", "pass
    force=True (--force)", and a changed study as a fingerprint mismatch."""
    out = tmp_path / "run"
    base = ["study", "run", str(TOY), "--out", str(out), "--no-progress", "--n-jobs", "1",
            "--reps", "2"]
    assert main(base) == 0
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert f"--out {out} already holds a run; pass --resume to continue it" in err, err
    edited = tmp_path / "edited.toml"
    edited.write_text(TOY.read_text().replace("n = 150", "n = 151"))
    assert main([*base[:2], str(edited), *base[3:], "--resume"]) == 2
    assert "the study changed since the run began" in capsys.readouterr().err
    (out / "manifest.json").write_text("[1, 2]")
    assert main(base + ["--resume"]) == 2
    err = capsys.readouterr().err
    assert "manifest.json is damaged" in err and "Pass --force to move them" in err, err
    assert main(["study", "summarize", str(out)]) == 2
    assert "manifest.json is damaged" in capsys.readouterr().err
    assert "=True" not in err and "out=" not in err
