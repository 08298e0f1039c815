"""The command at a terminal, in a pipe and in a log: each case ends in one clear line.

Progress only on a terminal, --quiet, Ctrl-C with the resume hint, a closed pipe, and every
argument checked before the work starts (seed, n_jobs, out, Parquet, few replicates).
"""
import io
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tacebench.cli import main, terminal
from tacebench.cli import options

from .benchmarks.test_cli import _slow_toy

FICTIONAL = Path(__file__).parent / "replications" / "fictional_study"
ROOT = Path(__file__).resolve().parents[1]
CMD = [sys.executable, "-m", "tacebench"]


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_progress_only_on_a_terminal_and_never_when_quiet():
    assert terminal.show_progress(False, _Stream(tty=True))
    assert not terminal.show_progress(False, _Stream(tty=False))
    assert not terminal.show_progress(True, _Stream(tty=True))


def test_n_jobs_is_capped_at_the_cores_with_a_note():
    assert terminal.capped_n_jobs(64, 2) == terminal.NJobs(2, terminal.capped_n_jobs(64, 2).note)
    assert "--n-jobs 64 capped at the 2 core(s)" in terminal.capped_n_jobs(64, 2).note
    assert terminal.capped_n_jobs(2, 2) == terminal.NJobs(2)
    assert terminal.capped_n_jobs(-1, 2) == terminal.NJobs(-1)
    assert terminal.capped_n_jobs(8, None) == terminal.NJobs(8)


def test_n_jobs_note_on_the_command_line(monkeypatch, capsys):
    monkeypatch.setattr(options.os, "cpu_count", lambda: 2)
    assert main(["replicate", str(FICTIONAL), "--audit-only", "--n-jobs", "64"]) == 0
    assert "--n-jobs 64 capped at the 2 core(s)" in capsys.readouterr().err
    assert main(["replicate", str(FICTIONAL), "--audit-only", "--n-jobs", "64", "--quiet"]) == 0
    assert "capped" not in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["simulate", "tace_regorafenib", "--seed", "-1"], "--seed: must be a non-negative integer"),
    (["replicate", "--n-jobs", "0"], "--n-jobs: must be a positive integer or -1"),
    (["replicate", "--decompose-reps", "-3"], "--decompose-reps: must be an integer from 0 to"),
    (["replicate", "--reps", "1"], "--reps: must be an integer from 2 to 1000000"),
    # a count numpy cannot allocate failed inside the run with a traceback
    (["replicate", "--reps", "99999999999999999999"], "--reps: must be an integer from 2 to"),
    (["replicate", "--max-reps", "1000001"], "--max-reps: must be an integer from 2 to 1000000"),
    (["study", "run", "default", "--reps", "10000000"], "--reps: must be an integer from 2 to"),
])
def test_bad_numbers_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _must_not_run(*args, **kwargs):
    raise AssertionError("the work started before the arguments were checked")


def test_unwritable_out_is_refused_before_the_work(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setattr("tacebench.cli.replicate.replicate", _must_not_run)
    assert main(["replicate", str(FICTIONAL), "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert f"--out '{blocker / 'out'}': cannot write there" in err
    monkeypatch.setattr("tacebench.simulate.cohort.generate_cohorts", _must_not_run)
    assert main(["simulate", "tace_regorafenib", "--out", str(blocker / "x.csv")]) == 2
    assert "cannot write there" in capsys.readouterr().err
    assert main(["simulate", "tace_regorafenib", "--out", str(tmp_path / "x.txt")]) == 2
    assert "must end in .csv or .parquet" in capsys.readouterr().err
    assert main(["study", "run", "default", "--out", str(blocker / "run")]) == 2
    assert "cannot write there" in capsys.readouterr().err


def test_checking_an_out_path_makes_no_folder(tmp_path, capsys):
    """The check made the folder: a command refused afterwards for another reason (an
    unknown study) left it behind, empty."""
    new = tmp_path / "new" / "sub"
    assert main(["simulate", "no_such_study", "--out", str(new / "x.csv")]) == 2
    assert "no_such_study" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_parquet_without_pyarrow_is_one_line_naming_the_extra(tmp_path, monkeypatch, capsys):
    real = terminal.importlib.util.find_spec
    monkeypatch.setattr(terminal.importlib.util, "find_spec",
                        lambda name, *a: None if name in ("pyarrow", "fastparquet")
                        else real(name, *a))
    monkeypatch.setattr("tacebench.simulate.cohort.generate_cohorts", _must_not_run)
    assert main(["simulate", "tace_regorafenib", "--out", str(tmp_path / "c.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'tacebench[parquet]'" in err
    assert main(["study", "run", "default", "--format", "parquet",
                 "--out", str(tmp_path / "run")]) == 2
    assert "tacebench[parquet]" in capsys.readouterr().err


def test_quiet_drops_the_wrote_lines(tmp_path, capsys):
    assert main(["replicate", str(FICTIONAL), "--audit-only", "--out", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().err
    assert main(["replicate", str(FICTIONAL), "--audit-only", "--out", str(tmp_path),
                 "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_help_is_plain_and_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["replicate", "-h"])
    out = capsys.readouterr().out
    assert "what standard output shows (default: table)" in out and "(default all)" in out
    assert "(default: None)" not in out and "(default: False)" not in out


def test_generated_folders_are_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {"/plots/", "/teach-out/", "/tacebench-out/"} <= set(ignored)


def test_closed_pipe_ends_without_a_traceback():
    p = subprocess.Popen([*CMD, "simulate", "tace_regorafenib", "--n-cohorts", "40",
                          "--no-ps"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout.readline().startswith(b"cohort,patient,")
    p.stdout.close()                          # as `| head -1` does
    err = p.stderr.read().decode()
    p.stderr.close()
    p.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert p.returncode == terminal.EXIT_BROKEN_PIPE


def _interruptible() -> None:
    """In the child: SIGINT at its default, as for a command started at a terminal. A test
    run started in the background by a non-interactive shell inherits SIGINT ignored, and
    Python then installs no KeyboardInterrupt handler, so the command (rightly) runs on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _ctrl_c_study_run(tmp_path, *extra: str, sleep: float = 0.03):
    """A slow toy study run (20 replicates, 2 workers, chunks of 2) sent Ctrl-C once 2
    chunks are on disk, as at a terminal; returns (study file, OUT, status, stderr)."""
    study_file = _slow_toy(tmp_path, sleep=sleep)
    out = tmp_path / "run"
    p = subprocess.Popen([*CMD, "study", "run", str(study_file), "--reps", "20", "--n-jobs",
                          "2", "--chunk-size", "2", *extra, "--out", str(out)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, preexec_fn=_interruptible)
    deadline = time.monotonic() + 120
    while len(list(out.glob("chunks/*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=120)
    return study_file, out, p.returncode, err


def test_ctrl_c_on_study_run_prints_the_resume_command_that_works(tmp_path):
    """Ctrl-C at a terminal reaches the whole foreground process group (workers too)."""
    study_file, out, status, err = _ctrl_c_study_run(tmp_path)
    assert status == terminal.EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    hint = err.strip().splitlines()[-1]
    prefix = "tacebench study run: interrupted; resume with: "
    assert hint == prefix + shlex.join(["tacebench", "study", "run", str(study_file), "--out",
                                        str(out), "--resume", "--reps", "20", "--n-jobs", "2",
                                        "--chunk-size", "2"])
    resumed = subprocess.run([*CMD, *shlex.split(hint[len(prefix):])[1:]], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert "already done" in resumed.stdout and "0 already done" not in resumed.stdout


def test_ctrl_c_on_a_local_dask_run_is_one_message_not_worker_tracebacks(tmp_path):
    """Ctrl-C reaches the local Dask cluster's worker processes too: each printed its
    KeyboardInterrupt traceback (71 lines of standard error for two workers, 4 tracebacks)
    before the command's message."""
    pytest.importorskip("distributed")
    _, _, status, err = _ctrl_c_study_run(tmp_path, "--backend", "dask", sleep=0.05)
    assert status == terminal.EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines()[-1].startswith("tacebench study run: interrupted; resume")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a POSIX pipe")
def test_guard_turns_a_usage_error_into_status_2(capsys):
    def bad(args):
        raise terminal.UsageError("--out 'x': cannot write there (denied)")
    assert terminal.run_guarded(bad, None, "tacebench x") == 2
    assert capsys.readouterr().err == "tacebench x: error: --out 'x': cannot write there (denied)\n"


def test_no_help_text_has_markup():
    from .test_cli import _all_parsers

    marked = [name for name, p in _all_parsers() if "`" in p.format_help()]
    assert marked == []


def test_an_upper_case_suffix_is_the_same_suffix(tmp_path, capsys):
    """COHORTS.CSV (as Windows users write it) was refused: 'must end in .csv or
    .parquet'; X.PARQUET was then written as CSV."""
    import pandas as pd

    assert main(["simulate", "tace_regorafenib", "--out", str(tmp_path / "C.CSV"),
                 "--quiet"]) == 0
    assert pd.read_csv(tmp_path / "C.CSV")["patient"].size == 38
    assert main(["simulate", "tace_regorafenib", "--out", str(tmp_path / "C.PARQUET"),
                 "--quiet"]) == 0
    assert pd.read_parquet(tmp_path / "C.PARQUET").shape[0] == 38


def test_ctrl_c_while_the_command_starts_ends_quietly(monkeypatch, capsys):
    """Ctrl-C during the start-up imports (about a second) gave a traceback through them:
    the imports now run inside the entry point's guard."""
    import tacebench.cli as cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["study", "list"]) == terminal.EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == ""
    code = "import sys, tacebench.cli; print('tacebench.engine' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "False", done.stderr
