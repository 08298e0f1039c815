"""benchmarks.lessons and ``tacebench teach``: claims, summaries, worlds, figures, the CLI."""
from __future__ import annotations

import math
import os
import re
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


def test_mean_claim_uses_a_t_interval():
    """The MCSE is estimated from the cohorts, so the margin is a t quantile, not 3."""
    from scipy import stats

    v = np.random.default_rng(2).normal(0.1, 1.0, 40)
    c = core.mean_claim("k", "t", v, lower=0.0)
    q = stats.t.ppf(0.5 + core.CLAIM_LEVEL / 2, 39)
    assert c.bounds == pytest.approx((v.mean() - q * c.mcse, v.mean() + q * c.mcse))
    assert q > 3.2 and c.n == 40 and "t, 39 df" in c.evidence()


def test_few_cohorts_never_decide_a_claim():
    """3 cohorts of a log-HR whose spread over 400 cohorts is 0.214 showed an SD of 0.019:
    a bias of +0.190 was called contradicted (MCSE 0.011). Below MIN_COHORTS: inconclusive."""
    v = np.array([0.17, 0.19, 0.21])
    c = core.mean_claim("matched_close", "t", v, lower=-0.1, upper=0.1)
    assert c.status == "inconclusive" and "not judged" in c.describe()
    assert core.Claim("k", "t", 0.19, 0.011, -0.1, 0.1).status == "contradicted"  # the old rule
    many = np.random.default_rng(3).normal(0.19, 0.05, core.MIN_COHORTS)
    assert core.mean_claim("k", "t", many, lower=-0.1, upper=0.1).status == "contradicted"


@pytest.mark.parametrize("k, n, status", [
    (0, 2, "inconclusive"),      # all-zero sample of 2: MCSE 0, yet says nothing
    (0, 29, "inconclusive"),     # too few cohorts
    (0, 200, "holds"),           # exact upper bound 0.032 < 0.5
    (100, 200, "inconclusive"),
    (180, 200, "contradicted"),
])
def test_share_claim_uses_an_exact_binomial_interval(k, n, status):
    from scipy import stats

    v = np.r_[np.ones(k), np.zeros(n - k), np.nan]
    c = core.share_claim("k", "t", v, upper=0.5)
    assert c.status == status and c.n == n and c.value == pytest.approx(k / n)
    alpha = 1 - core.CLAIM_LEVEL
    hi = stats.beta.ppf(1 - alpha / 2, k + 1, n - k)
    assert c.bounds[1] == pytest.approx(hi)
    with pytest.raises(ValueError, match="0/1"):
        core.share_claim("k", "t", [0.0, 0.5])


def test_smaller_bias_claim_compares_absolute_biases():
    rng = np.random.default_rng(4)
    crude = rng.normal(-0.04, 0.05, 400)        # less biased, same sign
    iptw = crude - 0.08 + rng.normal(0, 0.02, 400)
    c = core.smaller_bias_claim("k", "t", crude, iptw, 0.0)
    assert c.holds and c.value == pytest.approx(abs(crude.mean()) - abs(iptw.mean()))
    # crude above IPTW, but further from the truth: "above" is not "less biased"
    over = iptw + 0.3
    assert (over - iptw).mean() > 0
    assert core.smaller_bias_claim("k", "t", over, iptw, 0.0).status == "contradicted"
    # the first estimator's bias may be ~0; the second's sign must be known
    zero = rng.normal(0.0, 0.05, 400)
    assert core.smaller_bias_claim("k", "t", zero - zero.mean(), iptw, 0.0).holds
    c = core.smaller_bias_claim("k", "t", crude, zero - zero.mean(), 0.0)
    assert c.status == "inconclusive" and "not established" in c.evidence()


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
    with pytest.raises(ValueError, match="at most"):
        core.cohort_design(1, 10 ** 20)      # once built every seed up front, then hung
    d = core.cohort_design(5, 3)
    assert core.first_cohort_seed(d).generate_state(2).tolist() == \
        d.seeds()[0].generate_state(2).tolist()
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


@pytest.mark.parametrize("kwargs, message", [
    ({"seed": 3.9}, "seed must be a non-negative integer; got 3.9"),        # was run as 3
    ({"seed": "abc"}, "seed must be a non-negative integer; got 'abc'"),
    ({"n_reps": 2.7}, "n_reps must be an integer >= 2; got 2.7"),           # was run as 2
    ({"n_reps": True}, "n_reps must be an integer >= 2; got True"),
    ({"n_reps": 10 ** 20}, "n_reps must be at most"),
    ({"out": ""}, "out must name a folder; got ''"),
])
def test_run_lesson_refuses_what_it_used_to_coerce(kwargs, message, tmp_path):
    from tacebench.benchmarks.lessons import run_lesson

    with pytest.raises(ValueError, match=re.escape(message)):
        run_lesson("immortal-time", **{"out": tmp_path, "n_reps": 2, **kwargs})


def test_monte_carlo_is_reproducible_from_the_seed():
    from tacebench.benchmarks.lessons import matching_discards as mod

    a = mod.compute(11, 3, cache=None)[2]["published"]["df"]
    b = mod.compute(11, 3, cache=None)[2]["published"]["df"]
    c = mod.compute(12, 3, cache=None)[2]["published"]["df"]
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["crude"], c["crude"])


@pytest.mark.parametrize("argv, message", [
    (["nope"], "invalid choice"),
    (["immortal-time", "--reps", "1"], "integer from 2 to"),
    (["immortal-time", "--seed", "-3"], "non-negative"),
    (["immortal-time", "--reps", "99999999999999999999"], "argument --reps: must be an integer "
                                                          "from 2 to"),
    (["immortal-time", "--out", ""], "argument --out: must name a folder"),
])
def test_teach_command_rejects_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit):
        _teach(*argv)
    assert message in capsys.readouterr().err


def _docs_folder(tmp_path, name):
    shutil.copy(TEACH / f"{name}.md", tmp_path / f"{name}.md")
    return (tmp_path / f"{name}.md").read_bytes()


def test_update_docs_rewrites_the_walkthrough_block(tmp_path, capsys, monkeypatch):
    """The documented run (here: the lesson's full setting made its fast one, so that the
    test reuses the fast Monte Carlo) updates the block and leaves no staging folder."""
    from tacebench.benchmarks.lessons import lesson_module

    name = "wrong-matching-variables"
    mod = lesson_module(name)
    monkeypatch.setattr(mod, "FULL_REPS", mod.FAST_REPS)
    _docs_folder(tmp_path, name)
    assert _teach(name, "--out", str(tmp_path), "--update-docs") == 0
    res = mod.run_lesson(out=tmp_path / "again", fast=True)
    assert res.all_hold
    assert rep.generated_block(tmp_path / f"{name}.md") == mod.summary(res)
    assert (tmp_path / f"{name}-report.md").is_file()
    assert len(list((tmp_path / "figures").glob(f"{name}-*.png"))) >= 3
    assert not list(tmp_path.glob(".teach-staging-*"))


@pytest.mark.parametrize("argv", [["--fast"], ["--reps", "3"], ["--seed", "4"],
                                  ["--reps", "3", "--seed", "4"]])
def test_update_docs_refuses_any_run_but_the_documented_one(argv, tmp_path, capsys):
    """``--reps 3 --seed 4 --update-docs`` used to write a 3-cohort run, with a claim marked
    contradicted, into the walkthrough its prose asserts, and exit 0."""
    name = "matching-discards"
    before = _docs_folder(tmp_path, name)
    assert _teach(name, *argv, "--out", str(tmp_path), "--update-docs") == 1
    err = capsys.readouterr().err
    assert "--update-docs writes the documented run only" in err and argv[-1] in err
    assert (tmp_path / f"{name}.md").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.md"]


def test_update_docs_writes_nothing_unless_every_claim_holds(tmp_path, capsys, monkeypatch):
    """A documented setting too small to establish the claims (made 3 cohorts here)."""
    from tacebench.benchmarks.lessons import lesson_module

    name = "matching-discards"
    monkeypatch.setattr(lesson_module(name), "FULL_REPS", 3)
    before = _docs_folder(tmp_path, name)
    assert _teach(name, "--out", str(tmp_path), "--update-docs") == 1
    err = capsys.readouterr().err
    assert "not every claim holds" in err and "matched_close (inconclusive)" in err
    assert (tmp_path / f"{name}.md").read_bytes() == before
    # (the folder's lock file, ignored by git, is all that remains of the run)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", f"{name}.md"]


def test_the_folder_lock_of_the_docs_is_ignored_by_git():
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    for path in ("docs/teach/.lock", "docs/teach/.teach-staging-x1/a.md"):
        proc = subprocess.run(["git", "-C", str(root), "check-ignore", "-q", path])
        assert proc.returncode == 0, path


def test_update_docs_without_walkthroughs_stops_before_any_lesson_runs(tmp_path, capsys):
    """``teach all --update-docs`` into a folder holding only the first walkthrough: the
    missing ones are named at once, and no lesson has run (no report, no figure)."""
    first, *rest = LESSONS
    shutil.copy(TEACH / f"{first}.md", tmp_path / f"{first}.md")
    assert _teach("all", "--out", str(tmp_path), "--update-docs") == 2
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


def test_the_index_states_the_rule_the_claims_are_judged_by():
    text = (TEACH / "index.md").read_text(encoding="utf-8")
    assert f"{100 * core.CLAIM_LEVEL:.2f}%" in text
    assert f"fewer than {core.MIN_COHORTS} cohorts" in text


def test_a_common_conditional_hr_gives_different_marginal_hrs(tmp_path):
    """Lesson 2 once said a common conditional HR makes the ATE and ATT marginal HRs equal.
    Exponential baseline, a risk factor of HR 5, conditional HR 0.5 for everyone: the
    marginal HR depends on the factor's prevalence (non-collapsibility)."""
    from tacebench.simulate.truth import marginal_hr

    grid = np.linspace(0, 600, 12001)
    marginal = []
    for share in (0.2, 0.5, 0.8):
        def surv(hr):
            return (1 - share) * np.exp(-0.1 * hr * grid) + share * np.exp(-0.5 * hr * grid)
        marginal.append(marginal_hr(grid, surv(0.5), surv(1.0)))
    assert marginal == pytest.approx([0.545, 0.598, 0.604], abs=0.001)
    page = (TEACH / "matching-discards.md").read_text(encoding="utf-8")
    assert "so the marginal hazard ratios\nof the ATE and the ATT coincide" not in page
    from tacebench.benchmarks.lessons import lesson_module

    res = lesson_module("matching-discards").run_lesson(out=tmp_path, fast=True)
    claim = res.claim("ate_att_coincide_here")
    assert claim.holds and "not a consequence" in claim.text and "so the" not in claim.text


def test_immortal_time_reports_recorded_not_planned_durations(tmp_path):
    """The walkthrough called the planned mean (10.8 months, before death and censoring cut
    courses short) the duration, and said every swimmer bar starts with a grey stretch."""
    from tacebench.benchmarks.lessons import lesson_module

    mod = lesson_module("immortal-time")
    res = mod.run_lesson(out=tmp_path, fast=True)
    n = res.numbers
    assert n["dur_q1"] < n["dur_median"] < n["dur_q3"] and n["dur_mean"] < n["planned_mean"]
    assert 0 < n["start_at_tace"] < 1 and 0 < n["dur_under_1"] < 1
    text = mod.summary(res)
    assert f"average {n['dur_mean']:.1f} (SD {n['dur_sd']:.1f}) months" in text
    assert f"{100 * n['start_at_tace']:.0f}% of the patients start at TACE" in text
    prose = (TEACH / "immortal-time.md").read_text(encoding="utf-8").split(rep.BEGIN)[0]
    assert "Every bar starts" not in prose and "10.8" not in prose


def test_lesson_marginal_hr_truths_are_the_cox_estimands_under_the_cohorts_censoring():
    # the lessons' cohorts are censored and a Cox-based estimator converges to the estimand
    # under that censoring; the HR with everyone followed until death is kept beside it
    from tacebench.benchmarks.lessons import worlds as worlds_
    from tacebench.simulate.truth import true_estimands

    study, cohort, worlds = worlds_.load_worlds("matching-discards")
    _, plan = worlds_.world_plan(study, cohort, worlds["published"])
    truth = worlds_.true_hrs(plan, cache_dir=None)
    censored, free = true_estimands(plan, censoring=True), true_estimands(plan)
    assert truth["marginal_hr_ate"] == censored.marginal_hr_ate
    assert truth["marginal_hr_att"] == censored.marginal_hr_att
    assert truth["marginal_hr_ate_uncensored"] == free.marginal_hr_ate
    assert truth["marginal_hr_att_uncensored"] == free.marginal_hr_att
    assert truth["conditional_hr"] == free.conditional_hr == censored.conditional_hr
    assert abs(math.log(censored.marginal_hr_ate / free.marginal_hr_ate)) > 1e-3
