"""benchmarks.lessons and ``tacebench teach``: claims, summaries, worlds, figures, the CLI."""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tacebench.benchmarks.lessons import LESSONS, _core as core
from tacebench.benchmarks.lessons import worlds as lesson_worlds
from tacebench.benchmarks.lessons import figures as figs
from tacebench.benchmarks.lessons import report as rep

TEACH = Path(__file__).resolve().parents[2] / "docs" / "teach"
PNG = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- claims


@pytest.mark.parametrize("value, mcse, lower, upper, status", [
    (0.08, 0.01, 0.0, math.inf, "holds"),            # 8 MCSE above the bound
    (0.02, 0.01, 0.0, math.inf, "inconclusive"),     # within 3 MCSE of it
    (-0.05, 0.01, 0.0, math.inf, "contradicted"),    # clearly on the wrong side
    (0.0, 0.01, -0.1, 0.1, "holds"),
    (0.09, 0.01, -0.1, 0.1, "inconclusive"),
    (0.2, 0.01, -0.1, 0.1, "contradicted"),
    (-0.3, 0.0, -math.inf, 0.0, "holds"),            # exact quantity
    (math.nan, 0.01, 0.0, math.inf, "inconclusive"),
])
def test_claim_status(value, mcse, lower, upper, status):
    c = core.Claim("k", "text", value, mcse, lower, upper)
    assert c.status == status
    assert c.holds == (status == "holds")
    assert c.key in c.describe() or "text" in c.describe()


def test_mean_claim_uses_the_mcse_of_the_mean_and_drops_nans():
    rng = np.random.default_rng(1)
    v = rng.normal(0.5, 2.0, 400)
    c = core.mean_claim("k", "t", np.r_[v, np.nan], lower=0.0)
    assert c.value == pytest.approx(v.mean())
    assert c.mcse == pytest.approx(v.std(ddof=1) / 20)
    assert core.mean_claim("k", "t", [np.nan, 1.0]).status == "inconclusive"


def test_summarise_bias_coverage_and_failures():
    truth = 0.8
    df = pd.DataFrame({"m": [math.log(0.8), math.log(0.9), math.nan, math.log(0.7)],
                       "m_se": [0.1, 0.01, 0.1, 0.5], "m_n": [100, 100, 100, 90]})
    e = core.summarise(df, "w", "m", "label", "marginal HR", truth)
    est = np.log([0.8, 0.9, 0.7])
    assert e.n_reps == 3 and e.n_failed == 1
    assert e.mean_log == pytest.approx(est.mean())
    assert e.bias == pytest.approx(est.mean() - math.log(truth))
    assert e.mcse == pytest.approx(est.std(ddof=1) / math.sqrt(3))
    # covered: exactly at the truth; 0.9 with se 0.01 misses; 0.7 with se 0.5 covers
    assert e.coverage == pytest.approx(2 / 3)
    assert e.n_analysed == pytest.approx(290 / 3)
    with pytest.raises(ValueError, match="fewer than 2"):
        core.summarise(df.iloc[:1], "w", "m", "label", "HR", truth)


def test_cohort_design_is_validated_and_seeds_are_spawn_children():
    with pytest.raises(ValueError, match="seed"):
        core.cohort_design(-1, 10)
    with pytest.raises(ValueError, match="n_reps"):
        core.cohort_design(1, 1)
    d = core.cohort_design(5, 3)
    kids = np.random.SeedSequence(5).spawn(3)       # the lessons' seeds before the engine
    assert [d.cells[0].seed(d.seed, r).generate_state(2).tolist() for r in range(3)] == \
        [s.generate_state(2).tolist() for s in kids]


# ----------------------------------------------------------------------------- worlds


def test_worlds_inherit_their_base():
    study, cohort, worlds = lesson_worlds.load_worlds("crude-vs-adjusted")
    assert (study, cohort) == ("tace_sorafenib_ehs@multivariable_column", "main")
    ind, hid = worlds["indication"], worlds["hidden"]
    assert ind.add_effects and hid.add_effects == ind.add_effects
    assert hid.factors == {"u_treatment_or": 3.0, "u_os_hr": 0.6} and not ind.factors
    assert all(e.get("source") for e in ind.add_effects)
    table = {"outcomes": {"os": {"effects": [{"variable": "ecog", "hr": [1.2]}]}}}
    hid.edit(table)
    assert len(table["outcomes"]["os"]["effects"]) == 1 + len(ind.add_effects)


def test_every_lesson_has_worlds_and_an_unknown_lesson_is_an_error():
    for name in LESSONS:
        study, _, worlds = lesson_worlds.load_worlds(name)
        assert study and worlds
    with pytest.raises(ValueError, match="lesson must be one of"):
        lesson_worlds.load_worlds("no-such-lesson")


def test_published_target_reads_the_studys_targets():
    t = core.published_target("tace_sorafenib_matched",
                              "os_hr_sorafenib_duration_sorafenib_arm_primary_multivariable")
    assert t["value"] == pytest.approx(0.9) and "Duration of sorafenib" in t["source"]
    with pytest.raises(ValueError, match="target_id"):
        core.published_target("tace_sorafenib_matched", "nope")


# ----------------------------------------------------------------------------- figures


def test_numbers_at_risk():
    t = np.array([1.0, 2.0, 3.0, 6.0, 7.0])
    assert figs.at_risk(t, np.array([0.0, 3.0, 6.0, 12.0])).tolist() == [5, 3, 2, 0]
    w = np.array([1.0, 2.0, 0.5, 1.5, 1.0])
    assert figs.at_risk(t, np.array([0.0, 3.0]), w).tolist() == [6.0, 3.0]


def test_km_figure_with_numbers_at_risk_is_a_png(tmp_path):
    from matplotlib.image import imread

    rng = np.random.default_rng(2)
    t = rng.exponential(10, 80)
    e = (rng.random(80) < 0.8).astype(int)
    z = rng.random(80) < 0.5
    panel = figs.Panel("test", [figs.Curve("A", t[z], e[z]), figs.Curve("B", t[~z], e[~z], color="red")],
                       references=[(7.0, "k", "true median")])
    fig = figs.km_figure([panel, panel], xmax=24)
    labels = [a.get_xlabel() for a in fig.axes]
    assert "Months since TACE" in labels
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert str(int(z.sum())) in texts and str(int((~z).sum())) in texts  # at risk at 0
    path = figs.save(fig, tmp_path / "km.png")
    assert path.read_bytes()[:8] == PNG and imread(path).shape[0] > 300


# ----------------------------------------------------------------------------- report


def test_update_walkthrough_replaces_only_the_generated_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(f"# T\n\nprose\n\n{rep.BEGIN}\nold\n{rep.END}\n\nmore prose\n", encoding="utf-8")
    assert rep.update_walkthrough(page, "new *numbers*")
    text = page.read_text(encoding="utf-8")
    assert "old" not in text and "new *numbers*" in text and text.endswith("more prose\n")
    assert rep.generated_block(page) == "new *numbers*"
    plain = tmp_path / "plain.md"
    plain.write_text("no markers\n", encoding="utf-8")
    assert not rep.update_walkthrough(plain, "x") and rep.generated_block(plain) is None


def test_a_walkthrough_is_left_whole_when_its_update_fails(tmp_path, monkeypatch):
    """The prose around the block is written by hand: a write that fails part-way (a full
    disk) must leave the page as it was, not cut short."""
    from tacebench.engine.files import WriteFailed
    from tests.engine.test_files import disk_fills_at

    page = tmp_path / "page.md"
    before = f"# T\n\nprose\n\n{rep.BEGIN}\nold\n{rep.END}\n\nmore prose\n"
    page.write_text(before, encoding="utf-8")
    disk_fills_at(monkeypatch, page)
    with pytest.raises(WriteFailed, match="page.md"):
        rep.update_walkthrough(page, "new *numbers*")
    assert page.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["page.md"]


# ----------------------------------------------------------------------------- lessons and CLI


def _teach(*argv) -> int:
    from tacebench.cli import main

    return main(["teach", *argv])


@pytest.mark.parametrize("name", list(LESSONS))
def test_teach_command_writes_report_and_figures(name, tmp_path, capsys):
    """``tacebench teach LESSON --fast`` (the fast Monte Carlo run is memoised per process,
    so the walkthrough tests of the same seed reuse it)."""
    from matplotlib.image import imread

    assert _teach(name, "--fast", "--out", str(tmp_path)) == 0
    out = capsys.readouterr().out
    report = tmp_path / f"{name}-report.md"
    assert report.is_file() and str(report) in out
    figures = sorted((tmp_path / "figures").glob(f"{name}-*.png"))
    assert len(figures) >= 3
    text = report.read_text(encoding="utf-8")
    for f in figures:
        assert f"(figures/{f.name})" in text
        assert f.read_bytes()[:8] == PNG and imread(f).size > 0
    assert "[NO ]" not in out  # no claim contradicted


def test_teach_stops_cleanly_when_its_report_cannot_be_written(tmp_path, monkeypatch, capsys):
    """A full disk: status 1 with the file named, not a traceback or a cut-off report."""
    from tests.engine.test_files import disk_fills_at

    name = "matching-discards"
    disk_fills_at(monkeypatch, tmp_path / f"{name}-report.md")
    assert _teach(name, "--fast", "--out", str(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "tacebench teach: stopped:" in err and f"cannot write {name}-report.md" in err, err
    assert not (tmp_path / f"{name}-report.md").exists()


def test_teach_waits_for_another_writer_of_its_folder(tmp_path, capsys):
    """Two teach runs into one folder could leave one run's report beside the other's
    figures; the later one now waits, and says for whom."""
    import threading

    from tacebench.engine.files import folder_lock

    held, release = threading.Event(), threading.Event()

    def other_run():
        with folder_lock(tmp_path):
            held.set()
            release.wait(10)
    t = threading.Thread(target=other_run)
    t.start()
    held.wait(10)
    threading.Timer(1.0, release.set).start()
    assert _teach("matching-discards", "--fast", "--out", str(tmp_path)) == 0
    t.join()
    assert "tacebench teach: waiting for process" in capsys.readouterr().err


def test_lesson_result_api(tmp_path):
    from tacebench.benchmarks.lessons import run_lesson

    with pytest.raises(ValueError, match="lesson must be one of"):
        run_lesson("nope")
    res = run_lesson("matching-discards", out=tmp_path, n_reps=4)
    assert res.n_reps == 4 and res.report.is_file()
    frame = res.to_frame()
    assert {"world", "method", "truth", "hr", "bias", "coverage"} <= set(frame.columns)
    psm = res.estimate("published", "psm")
    assert psm.n_reps + psm.n_failed == 4
    with pytest.raises(KeyError):
        res.claim("nope")
    d = res.to_dict()
    assert d["lesson"] == "matching-discards" and len(d["claims"]) == len(res.claims)
    with pytest.raises(ValueError, match="seed"):
        run_lesson("matching-discards", seed=-1, out=tmp_path, n_reps=4)


def test_monte_carlo_is_reproducible_from_the_seed():
    from tacebench.benchmarks.lessons import matching_discards as mod

    a = mod.compute(11, 3, cache=None)[2]["published"]["df"]
    b = mod.compute(11, 3, cache=None)[2]["published"]["df"]
    c = mod.compute(12, 3, cache=None)[2]["published"]["df"]
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["crude"], c["crude"])


@pytest.mark.parametrize("argv, message", [
    (["nope"], "invalid choice"),
    (["immortal-time", "--reps", "1"], "integer >= 2"),
    (["immortal-time", "--seed", "-3"], "non-negative"),
])
def test_teach_command_rejects_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit):
        _teach(*argv)
    assert message in capsys.readouterr().err


def test_update_docs_rewrites_the_walkthrough_block(tmp_path, capsys):
    name = "matching-discards"
    shutil.copy(TEACH / f"{name}.md", tmp_path / f"{name}.md")
    assert _teach(name, "--fast", "--out", str(tmp_path), "--update-docs") == 0
    from tacebench.benchmarks.lessons import lesson_module

    mod = lesson_module(name)
    res = mod.run_lesson(out=tmp_path, fast=True)
    assert rep.generated_block(tmp_path / f"{name}.md") == mod.summary(res)


def test_update_docs_without_walkthroughs_stops_before_any_lesson_runs(tmp_path, capsys):
    """``teach all --update-docs`` into a folder holding only the first walkthrough: the
    missing ones are named at once, and no lesson has run (no report, no figure)."""
    first, *rest = LESSONS
    shutil.copy(TEACH / f"{first}.md", tmp_path / f"{first}.md")
    assert _teach("all", "--fast", "--out", str(tmp_path), "--update-docs") == 2
    err = capsys.readouterr().err
    assert all(f"{name}.md" in err for name in rest) and f"{first}.md" not in err
    assert "nothing was run" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{first}.md"]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LESSONS))
def test_console_script_on_a_clean_cache(name, tmp_path):
    """The installed ``tacebench`` entry point, with nothing cached (a clean install)."""
    exe = shutil.which("tacebench")
    cmd = [exe] if exe else [sys.executable, "-m", "tacebench"]
    env = {**os.environ, "TACEBENCH_CACHE_DIR": str(tmp_path / "cache"), "MPLBACKEND": "Agg"}
    proc = subprocess.run([*cmd, "teach", name, "--reps", "4", "--out", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / f"{name}-report.md").is_file()
    assert len(list((tmp_path / "out" / "figures").glob(f"{name}-*.png"))) >= 3
