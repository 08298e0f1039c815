"""The tacebench replicate / check / new-study commands, run through the CLI entry point."""
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tacebench.cli import main

FICTIONAL = Path(__file__).parent / "fictional_study"
FAST = ["--reps", "12", "--seed", "3", "--decompose-reps", "4", "--n-jobs", "1",
        "--world-uncertainty", "off", "--max-reps", "12"]


def test_replicate_table(capsys):
    assert main(["replicate", str(FICTIONAL), *FAST]) == 0
    out, err = capsys.readouterr()
    assert "=== fictional_tace_lenvatinib" in out
    assert "Audit of the published numbers" in out and "Paired shifts" in out
    # at 12 replicates the implausible matched HR lies beyond every draw, but within two
    # Monte Carlo SEs of the boundary: undetermined, not left to the seed
    row = next(line for line in out.splitlines() if line.startswith("os_hr_psm"))
    assert "undetermined at 12 replicates" in row
    assert "17 simulated targets:" in out and "R = 12, seed = 3" in out
    # stderr is not a terminal here: no progress bar frames, but the few-replicates warning
    assert "\r" not in err and "rep/s" not in err
    assert "warning: --reps 12 is below 100" in err


def test_replicate_json_and_markdown(capsys):
    assert main(["replicate", str(FICTIONAL), *FAST, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["study"] == "fictional_tace_lenvatinib" and data[0]["reps"] == 12
    verdicts = {t["id"]: t["verdict"] for t in data[0]["targets"]}
    assert verdicts["os_hr_psm"] == "undetermined"          # at 12 replicates (see above)
    assert main(["replicate", str(FICTIONAL), *FAST, "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("## fictional_tace_lenvatinib") and "| os_hr_crude |" in md


def test_replicate_writes_full_results(tmp_path, capsys):
    assert main(["replicate", str(FICTIONAL), *FAST, "--out", str(tmp_path), "--plot"]) == 0
    capsys.readouterr()
    res = pd.read_csv(tmp_path / "targets.csv")
    assert len(res) == 17 and {"verdict", "z", "median", "lo", "hi"} <= set(res.columns)
    shifts = pd.read_csv(tmp_path / "shifts.csv")
    assert len(shifts) == 3 and {"from", "to", "sd", "verdict"} <= set(shifts.columns)
    assert not [c for c in (*res.columns, *shifts.columns) if c.endswith("_")]
    assert not (tmp_path / "results.csv").exists()
    text = (tmp_path / "results.json").read_text()
    assert '"inf"' not in text and "Infinity" not in text and "NaN" not in text
    assert (tmp_path / "contributions.csv").is_file() and (tmp_path / "audit.csv").is_file()
    draws = pd.read_csv(tmp_path / "draws" / "fictional_tace_lenvatinib.csv")
    assert len(draws) == 12 and "os_hr_crude" in draws.columns
    assert json.loads((tmp_path / "results.json").read_text())[0]["reps"] == 12
    # (every file written at the top is one an earlier run's clear_outputs removes)
    from tacebench.replications.output_files import OUTPUT_FILES
    assert {p.name for p in tmp_path.iterdir() if p.is_file()} <= {*OUTPUT_FILES, ".lock"}
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        f"fictional_tace_lenvatinib_crude_{ep}.{fmt}" for ep in ("os", "pfs")
        for fmt in ("png", "svg")]


def test_a_later_run_into_the_same_out_leaves_none_of_the_earlier_runs_files(tmp_path, capsys):
    """A run with --plot, its report, then an --audit-only run into the same folder: the
    earlier draws, tables, figures and report are gone (tacebench report used to embed the
    earlier run's KM figures in the later run's report); other files stay."""
    assert main(["replicate", str(FICTIONAL), *FAST, "--out", str(tmp_path), "--plot"]) == 0
    assert main(["report", str(tmp_path)]) == 0
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "plots" / "README").write_text("mine")
    assert main(["replicate", str(FICTIONAL), "--audit-only", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == [".lock", "audit.csv", "audit_coverage.csv", "notes.txt", "plots/README",
                    "results.json"]
    assert main(["report", str(tmp_path)]) == 0
    assert "data:image/png" not in (tmp_path / "report.html").read_text()


def test_strict_fails_only_on_required_targets(required_psm_study, capsys):
    assert main(["replicate", str(FICTIONAL), *FAST, "--strict"]) == 0   # os_hr_crude holds
    study = required_psm_study
    assert main(["replicate", str(study), *FAST]) == 0                    # not gating
    assert main(["replicate", str(study), *FAST, "--strict"]) == 1
    assert "os_hr_psm" in capsys.readouterr().err


def test_audit_only_skips_the_simulation(capsys):
    assert main(["replicate", str(FICTIONAL), "--audit-only"]) == 0
    out = capsys.readouterr().out
    assert "Audit of the published numbers" in out and "Reproduction" not in out


def test_invalid_study_exits_2(tmp_path, capsys):
    shutil.copytree(FICTIONAL, tmp_path / "s")
    p = tmp_path / "s" / "analysis.toml"
    p.write_text(p.read_text().replace('method = "psm"', 'method = "pms"'))
    assert main(["replicate", str(tmp_path / "s"), *FAST]) == 2
    cap = capsys.readouterr()
    assert (cap.out + cap.err).count("'pms': unknown analysis kind") == 1     # printed once


def test_a_max_reps_below_reps_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["replicate", "tace_regorafenib", "--reps", "30", "--max-reps", "10",
                 "--out", str(out)]) == 2
    assert "--max-reps 10: must be at least --reps (30)" in capsys.readouterr().err
    assert not out.exists()


def test_two_studies_of_one_id_are_refused_before_any_work(tmp_path, capsys):
    """A copy of a study kept under its id, run beside it: draws/<id>.csv was written
    twice (the later replacing the earlier) and every number counted twice. (The run
    under two ids goes without assumption worlds, which this test does not read: 18 s
    with them, 5 s without, one after the other.)"""
    copy = tmp_path / "my variant"
    shutil.copytree(FICTIONAL, copy)
    out = tmp_path / "out"
    assert main(["replicate", str(FICTIONAL), str(copy), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"is the id of {str(FICTIONAL)!r} and {str(copy)!r}" in err, err
    assert not out.exists()
    for name in ("cohort.toml", "targets.toml"):       # its own id: runs
        path = copy / name
        text = path.read_text("utf-8")
        sid = text.split('id = "', 1)[1].split('"', 1)[0]
        path.write_text(text.replace(f'id = "{sid}"', 'id = "my_variant"', 1), "utf-8")
    assert main(["replicate", str(FICTIONAL), str(copy), *FAST, "--worlds", "none",
                 "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "draws").iterdir()) == sorted(
        [f"{sid}.csv", "my_variant.csv"])


def test_a_folder_given_for_a_report_file_is_refused_before_the_run(tmp_path, capsys,
                                                                    monkeypatch):
    """'--html DIR' ran every replicate, then stopped on 'Is a directory'."""
    import tacebench.cli.replicate as cli

    monkeypatch.setattr(cli, "StudyPrefetch", None)      # any work would fail the test
    for option in ("--html", "--junit"):
        assert main(["replicate", str(FICTIONAL), option, str(tmp_path)]) == 2
        assert f"{option} {str(tmp_path)!r}: is a folder, not a file" in capsys.readouterr().err


def test_check_command(tmp_path, capsys):
    assert main(["check", str(FICTIONAL)]) == 0
    assert "OK (0 error(s)" in capsys.readouterr().out
    shutil.copytree(FICTIONAL, tmp_path / "s")
    p = tmp_path / "s" / "targets.toml"
    p.write_text(p.read_text().replace('analysis = "psm"', 'analysis = "matched"'))
    assert main(["check", str(tmp_path / "s")]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "targets.toml: targets[12] (n_tace_psm).analysis = 'matched'" in out


def test_new_study_command(tmp_path, capsys):
    assert main(["new-study", "my_paper", "--dir", str(tmp_path)]) == 0
    assert "FILL ME" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "my_paper").iterdir()) == [
        "README.md", "analysis.toml", "cohort.toml", "targets.toml"]
    assert main(["new-study", "my_paper", "--dir", str(tmp_path)]) == 2      # no overwrite
    assert main(["new-study", "My Paper", "--dir", str(tmp_path)]) == 2      # not snake_case
    assert main(["check", str(tmp_path / "my_paper")]) == 1
    assert "fill me" in capsys.readouterr().out


def test_new_study_says_which_command_and_option_failed_and_changes_all_files_or_none(
        tmp_path, capsys, monkeypatch):
    """A missing --from-table printed only '[Errno 2] No such file or directory: ...'; a
    --force rewrite stopped part-way left the old study mixed with the new skeleton."""
    from tests.engine.test_files import disk_fills_at

    assert main(["new-study", "p", "--dir", str(tmp_path), "--from-table",
                 str(tmp_path / "none.tsv")]) == 2
    assert capsys.readouterr().err.startswith(
        f"tacebench new-study: --from-table {str(tmp_path / 'none.tsv')!r}: cannot be read")
    shutil.copytree(FICTIONAL, tmp_path / "p")
    before = {f.name: f.read_bytes() for f in (tmp_path / "p").iterdir() if f.is_file()}
    disk_fills_at(monkeypatch, tmp_path / "p" / "targets.toml")
    assert main(["new-study", "p", "--dir", str(tmp_path), "--force"]) == 1
    assert "no file was changed" in capsys.readouterr().err
    assert {f.name: f.read_bytes() for f in (tmp_path / "p").iterdir() if f.is_file()} == before


def test_out_writes_audit_findings_of_a_real_study(tmp_path, capsys):
    """A shipped study has audit findings; --out must write them (regression: a finding's
    own ``study`` field once collided with the row's study column)."""
    assert main(["replicate", "tace_sorafenib_ehs", "--audit-only", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    audit = pd.read_csv(tmp_path / "audit.csv")
    assert len(audit) > 0
    assert set(audit["study"]) == {"tace_sorafenib_ehs"}
    assert {"rule", "severity", "message", "targets"} <= set(audit.columns)


def test_out_with_a_study_without_shifts_and_a_separated_model(tmp_path, capsys):
    """Seed 001 has no shift; seed 003's propensity model separates in every replicate
    (as its Table 1 does: no control patient with ALBI grade 3), which R's glm fits with a
    warning: the weighted analysis is estimable, the separation is a note, and the outputs
    are written without a pandas warning (warnings are errors here). Without the
    assumption worlds, which this test does not read (with them it took 47 s, without
    them 9 s, one after the other)."""
    assert main(["replicate", "tace_regorafenib", "tace_mtt_pd1_lung", *FAST,
                 "--worlds", "none", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # (the notes are the declared reading's: the line names it)
    assert ("Note: stabilized_iptw (declared reading truncate=none, ps_model=glm, "
            "covariates=table1): propensity "
            "model separated in 12/12 replicates (no control patient with albi_grade[3] = 1 "
            "in ") in out
    assert "as R's glm, the analysis uses them" in out
    contrib = pd.read_csv(tmp_path / "contributions.csv")
    assert set(contrib["study"]) == {"tace_mtt_pd1_lung"}
    assert contrib["mean"].notna().all() and (contrib["n"] == 4).all()
    res = pd.read_csv(tmp_path / "targets.csv")
    w = res[res["analysis"] == "stabilized_iptw"]
    assert len(w) and (w["verdict"] != "not estimable").all() and (w["n_estimable"] == 12).all()
    notes = json.loads((tmp_path / "results.json").read_text())[1]["notes"]
    assert notes["stabilized_iptw: note: propensity model separated"] == 12
    # the organ-specific response the cohort now generates is judged
    orr = res[res["id"].str.startswith("orr_liver")]
    assert len(orr) and (orr["verdict"] != "not estimable").all()

def test_an_html_report_asked_for_in_the_out_folder_is_kept(tmp_path, capsys):
    """The earlier run's files are removed before any of this run's is written: an
    --html report written into --out under the report command's name stays."""
    html = tmp_path / "report.html"
    assert main(["replicate", str(FICTIONAL), *FAST, "--out", str(tmp_path),
                 "--html", str(html)]) == 0
    capsys.readouterr()
    assert html.is_file() and (tmp_path / "results.json").is_file()


def test_a_failed_write_stops_with_the_reason_and_no_results_json(tmp_path, capsys,
                                                                  monkeypatch):
    """The disk fills up at the third file: status 1, the file and reason named, no
    partial file, and no results.json (written last), so the folder never reads as a
    complete run."""
    import errno
    import os

    real, calls = pd.DataFrame.to_csv, []

    def disk_fills_up(self, path, *a, **kw):
        calls.append(path)
        if len(calls) == 3:
            Path(path).write_text("partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, path, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_fills_up)
    assert main(["replicate", str(FICTIONAL), *FAST, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "stopped: " in err and "No space left on device" in err
    assert "contributions.csv" in err and "holds no results.json" in err
    left = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert left == [".lock", "shifts.csv", "targets.csv"]


def test_help_names_every_output_file_and_builtin_world_family(capsys):
    """--worlds all was said to add only the unmeasured-confounder family; --out omitted
    audit_coverage.csv."""
    from tacebench.cli import main
    from tacebench.replications.output_files import OUTPUT_FILES
    from tacebench.replications.unreported import UNREPORTED_FAMILIES

    with pytest.raises(SystemExit):
        main(["replicate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(name in text for name in OUTPUT_FILES)
    assert "unmeasured confounder" in text
    assert all(fam in text for fam in UNREPORTED_FAMILIES)
