"""tacebench check builds what replicate builds, and says what a user needs, on each
failure reported against it: a split the generator cannot fit (check said OK, replicate
crashed), quotes never compared with the user's paper, keys without the target id, errors
printed twice, a non-UTF-8 byte, a byte-order mark, a cohort too large for memory,
follow-up far shorter than the medians, an empty targets.toml, an arm without n, a
wrong-case arm label."""
import shutil

import pytest

from tacebench.cli import main
from tacebench.replications.analysis.problems import StudyError
from tacebench.replications.build import MEMORY_LIMIT, compile_plans, footprint
from tacebench.replications.check import check_folder, load_study
from tacebench.simulate import generate_cohort

from .folders import FICTIONAL, edit

FAST = ["--reps", "2", "--max-reps", "2", "--worlds", "none", "--decompose-reps", "0"]
#: An assumed split of tumour size no pair of normal pieces can meet (mean 7.5, SD 3).
BAD_SPLIT = ("arms.TACE = { mean = 7.5, sd = 3.0 }",
             "arms.TACE = { mean = 7.5, sd = 3.0 }\nassumed_split = { cutpoints = [5.0], "
             "proportions = [0.99, 0.01], rationale = \"assumed\" }")


@pytest.fixture
def copy(tmp_path):
    shutil.copytree(FICTIONAL, tmp_path / "study")
    return tmp_path / "study"


def errors_of(folder):
    return check_folder(folder, build=True, worlds="none").errors


def test_a_split_the_generator_cannot_fit_is_a_check_error(copy):
    edit(copy, "cohort.toml", *BAD_SPLIT)
    assert check_folder(copy).ok                      # parsing alone cannot see it
    (p,) = errors_of(copy)
    assert p.file.endswith("cohort.toml") and p.kind == "cannot-build"
    assert p.key == "cohorts.main.variables[2] (tumor_size).arms.TACE"
    assert "assumed split" in p.message and "revise" in p.message


def test_replicate_turns_the_build_failure_into_exit_2(copy, capsys):
    edit(copy, "cohort.toml", *BAD_SPLIT)
    assert main(["replicate", str(copy), *FAST]) == 2
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out + cap.err
    assert (cap.out + cap.err).count("variables[2] (tumor_size).arms.TACE") == 1
    with pytest.raises(StudyError) as exc:            # the API raises the same error
        compile_plans(load_study(copy))
    assert "assumed split" in str(exc.value)


def test_a_world_the_generator_cannot_build_is_named(copy, capsys):
    (copy / "worlds.toml").write_text(
        '[[worlds]]\nname = "skewed_size"\nwhy = "another split"\n[worlds.set]\n'
        '"cohorts.main.variables[2].assumed_split" = { cutpoints = [5.0], '
        'proportions = [0.99, 0.01], rationale = "assumed" }\n')
    assert check_folder(copy, build=True, worlds="none").ok
    (e,) = check_folder(copy, build=True, worlds="declared").errors
    assert e.file.endswith("worlds.toml") and (e.key, e.value) == ("worlds[0]", "skewed_size")
    assert "in world 'skewed_size' the generator cannot be built" in e.message
    assert "variables[2] (tumor_size).arms.TACE" in e.message
    assert main(["replicate", str(copy), *FAST[:-4], "--worlds", "declared",
                 "--decompose-reps", "0"]) == 2
    assert "in world 'skewed_size'" in capsys.readouterr().out


def test_quotes_are_checked_against_the_users_paper(copy, capsys):
    paper = ["--paper", str(copy / "paper.txt"), "--worlds", "none"]
    assert main(["check", str(copy), *paper]) == 0
    edit(copy, "targets.toml", 'source = "19.0 months with TACE-L"',
         'source = "19.0 months with TACE+L"')
    assert main(["check", str(copy), "--worlds", "none"]) == 0     # nothing to compare with
    capsys.readouterr()
    assert main(["check", str(copy), *paper]) == 1
    out = capsys.readouterr().out
    assert ("targets.toml: targets[1] (os_median_tace_l_crude).source = '19.0 months with TACE+L'"
            in out)
    assert "not in paper.txt" in out


def test_errors_name_the_target_id(copy):
    edit(copy, "targets.toml", "value = 0.72", "value = -0.72")
    keys = [p.key for p in errors_of(copy)]
    assert "targets[4] (os_hr_crude).value" in keys


def test_an_invalid_folder_is_reported_once(copy, capsys):
    edit(copy, "analysis.toml", 'method = "psm"', 'method = "pms"')
    assert main(["replicate", str(copy), *FAST]) == 2
    cap = capsys.readouterr()
    assert (cap.out + cap.err).count("unknown analysis kind") == 1


def test_a_non_utf8_byte_names_file_line_and_byte(copy, capsys):
    p = copy / "targets.toml"
    p.write_bytes(p.read_bytes().replace(b"Median overall", b"M\xe9dian overall"))
    (e,) = errors_of(copy)
    assert e.file.endswith("targets.toml") and e.kind == "encoding"
    assert e.key == "line 18, column 12"
    assert "byte 0xE9 is not UTF-8" in e.message and "'é'" in e.message
    assert main(["check", str(copy), "--worlds", "none"]) == 1
    assert main(["replicate", str(copy), *FAST]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_byte_order_mark_is_named(copy):
    p = copy / "cohort.toml"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    (e,) = errors_of(copy)
    assert e.file.endswith("cohort.toml") and "byte-order mark" in e.message
    assert "Invalid statement" not in e.message


def _proportions(folder, n):
    """The fictional cohort with every binary and categorical row as proportions, so that
    `n` may be anything."""
    for old, new in (("{ count = 136 }", "{ p = 0.85 }"), ("{ count = 95 }", "{ p = 0.864 }"),
                     ("{ count = 80 }", "{ p = 0.5 }"), ("{ count = 66 }", "{ p = 0.6 }"),
                     ("{ counts = [140, 20] }", "{ proportions = [0.875, 0.125] }"),
                     ("{ counts = [101, 9] }", "{ proportions = [0.918, 0.082] }"),
                     ("{ count = 30 }", "{ p = 0.1875 }"), ("{ count = 35 }", "{ p = 0.318 }"),
                     # (the printed ORRs, 33.3% and 47.6%: check compares the inputs)
                     ("{ counts = [5, 45, 60, 40] }",
                      "{ proportions = [0.0333, 0.3, 0.4, 0.2667] }"),
                     ("{ counts = [6, 44, 40, 15] }",
                      "{ proportions = [0.0571, 0.419, 0.381, 0.1429] }"),
                     ("n = 160\n", f"n = {n}\n"), ("n = 110\n", f"n = {n}\n")):
        edit(folder, "cohort.toml", old, new)


def test_a_cohort_too_large_for_memory_is_refused_before_drawing(copy, capsys):
    _proportions(copy, 10_000_000)
    (e,) = check_folder(copy).errors                  # refused at load: nothing is drawn
    assert (e.kind, e.key, e.value) == ("too-large", "cohorts.main.arms", 20_000_000)
    assert "GB" in e.message and "limit of 2 GB" in e.message
    assert main(["replicate", str(copy), *FAST]) == 2
    assert "20,000,000 patients" in capsys.readouterr().out


def test_the_memory_estimate_scales_with_the_cohort(copy):
    _proportions(copy, 1000)
    assert check_folder(copy, build=True).ok          # proportions alone are fine
    study = load_study(copy)
    f = footprint(study.spec.cohort("main"))
    drawn = generate_cohort(compile_plans(study)["main"], seed=1)
    assert f.patients == drawn.n == 2000 and f.columns == len(drawn.columns) == 14
    assert f.bytes == 25 * 2000 * (14 + 3) * 8 < MEMORY_LIMIT


def test_follow_up_shorter_than_the_medians_is_a_warning_with_numbers(copy):
    edit(copy, "cohort.toml", "accrual = 48\nfollow_up = 12", "accrual = 0.05\nfollow_up = 0.05")
    report = check_folder(copy)
    short = [p for p in report.warnings if p.kind == "short-follow-up"]
    assert len(short) == 4 and report.ok
    assert "0.1 months is shorter than the calibrated os median 14 months" in short[0].message


def test_an_empty_targets_file_does_not_ask_for_seed_file(copy):
    (copy / "targets.toml").write_text("")
    messages = " ".join(p.message for p in check_folder(copy).errors)
    assert "study's id is required" in messages
    assert "seed_file is required" not in messages


def test_an_arm_without_n_names_the_missing_key(copy):
    edit(copy, "cohort.toml", "n = 160\n", "")
    (e,) = check_folder(copy).errors
    assert (e.key, e.message) == ("cohorts.main.arms[0].n", "is required (the key is missing)")
    assert "positional argument" not in str(e)


def test_a_wrong_case_arm_label_is_blamed_on_the_target(copy):
    edit(copy, "targets.toml", 'contrast = ["TACE-L", "TACE"]', 'contrast = ["tace-l", "TACE"]')
    (e,) = check_folder(copy).errors
    assert e.key == "targets[4] (os_hr_crude).contrast[0]" and e.value == "tace-l"
    assert "did you mean 'TACE-L'" in e.message


def test_constant_covariates_and_reversed_intervals_are_warnings(copy):
    edit(copy, "cohort.toml", "arms.TACE = { count = 30 }", "arms.TACE = { count = 0 }")
    edit(copy, "cohort.toml", 'arms."TACE-L" = { count = 35 }', 'arms."TACE-L" = { count = 0 }')
    edit(copy, "targets.toml", "ci = [0.55, 0.95]", "ci = [0.95, 0.55]")
    report = check_folder(copy)
    kinds = {p.kind: p for p in report.warnings}
    assert "constant-covariate" in kinds and "reversed-ci" in kinds
    assert "count = 0 of 160" in kinds["constant-covariate"].message
    assert kinds["reversed-ci"].key == "targets[4] (os_hr_crude).ci"
    assert "0.95 exceeds the upper bound 0.55" in kinds["reversed-ci"].message


def test_check_lists_what_a_run_will_judge(capsys):
    assert main(["check", str(FICTIONAL), "--worlds", "none"]) == 0
    out = capsys.readouterr().out
    assert "a run will judge 17 simulated target(s):" in out
    assert "os_hr_crude_to_psm  (os_hr_crude -> os_hr_psm)" in out
    assert "cohorts.main.outcomes.os.calibrate[0] -> os_median_tace_crude  (os median)" in out


def test_targets_lists_the_ids(capsys):
    assert main(["targets", str(FICTIONAL)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{FICTIONAL}: 17 target(s), 3 shift(s)")
    assert "  os_hr_crude\tpredicted\tcrude\thr\t0.72" in out


def test_targets_shows_the_number_of_a_p_value_or_count_target(capsys):
    """A target that states only a p-value or a count shows it (not an empty column)."""
    assert main(["targets", "tace_regorafenib"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert "  os_deaths_tace_regorafenib_crude\tpredicted\tcrude\trate\tn = 7" in lines
    assert ("  pfs_p_best_response_pd_univariable_logrank\treported\tunivariable\tp_value"
            "\tp <0.001") in lines
    assert not [line for line in lines if line.endswith("\t")]


def test_a_missing_file_is_named_as_missing(copy):
    (copy / "targets.toml").unlink()
    (e,) = check_folder(copy).errors
    assert e.file.endswith("targets.toml") and (e.kind, e.message) == ("missing-file",
                                                                        "file not found")


def test_replicate_and_simulate_share_the_memory_message(tmp_path):
    from tacebench.replications.build import BATCH_SIZE, size_problems
    from tacebench.simulate import load_spec
    from tacebench.simulate.footprint import draw_footprint, too_large
    from tests.simulate.test_footprint import COHORT

    (tmp_path / "cohort.toml").write_text(COHORT.format(n=5_000_000), encoding="utf-8")
    spec = load_spec(tmp_path / "cohort.toml")
    (p,) = size_problems(spec)                    # a worker's stack of BATCH_SIZE replicates
    assert p.message == too_large(draw_footprint(spec.cohort(), BATCH_SIZE))
    assert f"a worker draws {BATCH_SIZE} replicates at once" in p.message


def test_a_binding_warning_of_a_folder_given_by_path_is_reported_once(copy, capsys):
    # check binds the targets, then the build binds them again against the pilot's levels;
    # the build names the file bare, so the same warning was counted twice
    edit(copy, "targets.toml", 'term = "pvtt"\n', 'term = "pvtt==Present"\n')
    (w,) = check_folder(copy, build=True, worlds="none").warnings
    assert w.file == str(copy / "targets.toml") and w.value == "pvtt==Present"
    assert main(["check", str(copy), "--worlds", "none"]) == 0
    out = capsys.readouterr().out
    assert "1 warning(s)" in out and out.count("'pvtt==Present' is not a column") == 1


def test_check_draws_a_bar_of_the_worlds_built_on_a_terminal_only(capsys, monkeypatch):
    """A check of seed 004 sat silent for minutes while its worlds were built: on a
    terminal it now draws a bar of them on standard error, never with --quiet, and never
    when standard error is not a terminal (as replicate's bars)."""
    import tacebench.cli.check as check_cli

    monkeypatch.setattr(check_cli, "show_progress", lambda quiet: not quiet)   # "a terminal"
    assert main(["check", str(FICTIONAL), "--quiet"]) == 0
    assert "worlds built" not in capsys.readouterr().err
    assert main(["check", str(FICTIONAL)]) == 0
    assert f"{FICTIONAL}: worlds built" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["check", str(FICTIONAL)]) == 0   # not a terminal
    assert "worlds built" not in capsys.readouterr().err
