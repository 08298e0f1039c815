"""tacebench check: seed folders pass; broken copies fail with the expected message, all
problems at once; an untouched skeleton asks to be filled."""
import re
import shutil
from pathlib import Path

import pytest

from tacebench.replications.check import check_folder
from tacebench.cli.new_study import write_skeleton

from .folders import FICTIONAL, edit

SEED_IDS = ("tace_sorafenib_ehs", "tace_regorafenib", "tace_sorafenib_matched",
            "tace_mtt_pd1_lung", "len_sora_pd1_ehm")


@pytest.fixture
def copy(tmp_path):
    dst = tmp_path / "study"
    shutil.copytree(FICTIONAL, dst)
    return dst


def only_error(report):
    assert len(report.errors) == 1, "\n".join(map(str, report.problems))
    return report.errors[0]


@pytest.mark.parametrize("sid", SEED_IDS)
def test_seed_folder_passes_check(sid):
    from tacebench.replications.study import resolve_study
    report = check_folder(resolve_study(sid))
    assert report.ok, "\n".join(map(str, report.errors))
    assert report.requests, "no simulated target is bound to an analysis"


def test_fictional_study_passes(copy):
    report = check_folder(copy)
    assert report.ok and not report.warnings
    assert len(report.requests) == 17


def test_unknown_analysis_kind(copy):
    edit(copy, "analysis.toml", 'method = "psm"', 'method = "propensity_matching"')
    p = only_error(check_folder(copy))
    assert (p.kind, p.key, p.value) == ("unknown-analysis-kind", "analyses[2].adjustment.method",
                                        "propensity_matching")
    assert p.file.endswith("analysis.toml") and "expected one of" in p.message


def test_a_population_of_an_unknown_arm_is_named(copy):
    """A typo in a population's arm is reported; compiling the analysis with it raised
    ValueError (the arm has no code)."""
    edit(copy, "analysis.toml", 'population = "all"', 'population = { arm = "TACE-X" }')
    report = check_folder(copy)
    found = [p for p in report.errors if p.kind == "unknown-arm"]
    assert [(p.key, p.value) for p in found] == [("analyses[0].population.arm", "TACE-X")]
    assert found[0].file.endswith("analysis.toml")


def test_target_points_at_missing_analysis(copy):
    edit(copy, "targets.toml", 'analysis = "multivariable"', 'analysis = "multivariate"')
    p = only_error(check_folder(copy))
    assert (p.kind, p.key, p.value) == ("missing-analysis",
                                        "targets[10] (os_hr_multivariable).analysis",
                                        "multivariate")
    assert "os_hr_multivariable" in p.message and p.file.endswith("targets.toml")


def test_covariate_not_generated(copy):
    edit(copy, "analysis.toml", 'covariates = ["pvtt", "tumor_size"',
         'covariates = ["pvtt", "albumin", "tumor_size"')
    p = only_error(check_folder(copy))
    assert (p.kind, p.key, p.value) == ("not-generated",
                                        "analyses[3].adjustment.covariates[1]", "albumin")
    assert "does not generate" in p.message


def test_malformed_number_in_targets(copy):
    edit(copy, "targets.toml", "value = 0.70", 'value = "0.70"')
    errors = check_folder(copy).errors
    p = errors[0]
    assert p.kind == "malformed-number" and p.key == "targets[9] (os_hr_iptw).value"
    assert p.value == "0.70" and "number" in p.message
    # the loader then drops the target, so the shift that uses it names it too
    assert {q.kind for q in errors[1:]} <= {"unknown-target"}


def test_malformed_number_in_analysis(copy):
    edit(copy, "analysis.toml", "caliper = 0.2", 'caliper = "0.2"')
    p = only_error(check_folder(copy))
    assert (p.key, p.value) == ("analyses[2].adjustment.caliper", "0.2")
    assert "expected a number" in p.message


def test_calibration_value_mismatch(copy):
    edit(copy, "cohort.toml", "value = 14.0", "value = 14.5")
    p = only_error(check_folder(copy))
    assert (p.kind, p.value) == ("calibration-mismatch", 14.5)
    assert p.key == "cohorts.main.outcomes.os.calibrate[0].value"
    assert "os_median_tace_crude" in p.message and p.file.endswith("cohort.toml")


def test_calibration_target_id_missing(copy):
    edit(copy, "cohort.toml", 'target = "pfs_median_tace_crude"', 'target = "pfs_median_tace"')
    p = only_error(check_folder(copy))
    assert (p.kind, p.key, p.value) == ("calibration-mismatch",
                                        "cohorts.main.outcomes.pfs.calibrate[0].target",
                                        "pfs_median_tace")


PFS_HR_TARGET = """
[[targets]]
id = "pfs_hr_crude"
analysis = "crude"
quantity = "hr"
endpoint = "pfs"
contrast = ["TACE-L", "TACE"]
value = 0.62
role = "ROLE"
where = "text"
source = "PFS HR 0.62"
"""


@pytest.mark.parametrize("arm,role,kinds", [
    ("TACE-L", "calibration", []),
    ("TACE-L", "predicted", ["calibration-role"]),
    ("TACE", "calibration", ["calibration-mismatch"]),
])
def test_a_crude_pfs_hr_calibration_target_is_checked_like_the_os_one(copy, arm, role, kinds):
    """A PFS ``kind = "hr"`` entry calibrates the generator: its target must have role
    calibration, and the entry's arm must be the first of the target's contrast."""
    entry = '  { arm = "TACE-L", kind = "median", value = 9.0, target = "pfs_median_tace_l_crude" },\n'
    edit(copy, "cohort.toml", entry,
         entry + f'  {{ arm = "{arm}", kind = "hr", value = 0.62, target = "pfs_hr_crude" }},\n')
    with (copy / "targets.toml").open("a", encoding="utf-8") as f:
        f.write(PFS_HR_TARGET.replace("ROLE", role))
    report = check_folder(copy)
    assert sorted(p.kind for p in report.errors) == kinds, "\n".join(map(str, report.problems))
    for p in report.errors:
        assert p.key.startswith("cohorts.main.outcomes.pfs.calibrate[2].") and p.file.endswith("cohort.toml")
        assert "pfs_hr_crude" in p.message


def test_all_problems_are_collected_at_once(copy):
    edit(copy, "analysis.toml", 'method = "psm"', 'method = "propensity_matching"')
    edit(copy, "analysis.toml", 'covariates = ["pvtt", "tumor_size"',
         'covariates = ["pvtt", "albumin", "tumor_size"')
    edit(copy, "targets.toml", 'analysis = "multivariable"', 'analysis = "multivariate"')
    edit(copy, "cohort.toml", "value = 14.0", "value = 14.5")
    kinds = sorted(p.kind for p in check_folder(copy).errors)
    assert kinds == ["calibration-mismatch", "missing-analysis", "not-generated",
                     "unknown-analysis-kind"]


def test_untouched_skeleton_asks_to_be_filled(tmp_path):
    folder = write_skeleton("my_paper", tmp_path)
    report = check_folder(folder)
    assert not report.ok
    assert {p.kind for p in report.errors} == {"fill-me"}
    files = {Path(p.file).name for p in report.errors}
    assert files == {"cohort.toml", "targets.toml", "analysis.toml"}
    assert all("fill me" in str(p) for p in report.errors)


def test_filled_skeleton_passes(tmp_path):
    folder = write_skeleton("my_paper", tmp_path)
    c = (folder / "cohort.toml").read_text()
    c = c.replace('title = "FILL ME: the paper\'s title"', 'title = "A paper"')
    c = c.replace('source = "FILL ME: first author, journal, year"', 'source = "Doe 2024"')
    c = c.replace('label = "FILL ME"                   # the paper\'s label of the reference',
                  'label = "TACE"  #')
    c = c.replace('label = "FILL ME"                   # the label of the treated',
                  'label = "TACE+S"  #')
    c = re.sub(r'n = "FILL ME"', "n = 100", c)
    cal = ('{ arm = "FILL ME", kind = "median", value = "FILL ME", target = "FILL ME", '
           'source = "FILL ME: the sentence, verbatim" }')
    for arm, tid, v in (("TACE", "tace", "14.0"), ("TACE+S", "tace_s", "19.0")):
        c = c.replace(cal, f'{{ arm = "{arm}", kind = "median", value = {v}, target = '
                      f'"os_median_{tid}_crude", source = "median OS was {v} months with {arm}" }}', 1)
    c = c.replace('accrual = "FILL ME"', "accrual = 36").replace('follow_up = "FILL ME"',
                                                                 "follow_up = 12")
    c = c.replace("# [[cohorts.main.variables]]\n# name = \"pvtt\"",
                  "[[cohorts.main.variables]]\nname = \"pvtt\"")
    c = c.replace('# type = "binary"\n# arms.TACE = { count = 30 }\n# arms."TACE+sorafenib" = '
                  '{ count = 35 }', 'type = "binary"\narms.TACE = { count = 30 }\n'
                  'arms."TACE+S" = { count = 35 }')
    (folder / "cohort.toml").write_text(c)
    t = (folder / "targets.toml").read_text()
    t = t.replace('contrast = ["FILL ME", "FILL ME"], value = "FILL ME", source = "FILL ME: the '
                  'sentence or table row, verbatim"', 'contrast = ["TACE+S", "TACE"], value = 0.72, '
                  'source = "the HR was 0.72"')
    (folder / "targets.toml").write_text(t)
    a = (folder / "analysis.toml").read_text()
    a = a.replace('"FILL ME: the paper\'s adjusted analysis"', '"Cox adjusted for PVTT"')
    a = a.replace('method = "FILL ME"', 'method = "multivariable"')
    a = a.replace('covariates = ["FILL ME"]', 'covariates = ["pvtt"]')
    (folder / "analysis.toml").write_text(a)
    report = check_folder(folder)
    assert report.ok, "\n".join(map(str, report.problems))
    assert sorted(report.requests) == ["os_hr_crude", "os_median_tace_crude",
                                       "os_median_tace_s_crude"]
    cal = [t for t in report.study.targets if t.role == "calibration"]   # from cohort.toml
    assert [(t.id, t.value, t.source) for t in cal] == [
        ("os_median_tace_crude", 14.0, "median OS was 14.0 months with TACE"),
        ("os_median_tace_s_crude", 19.0, "median OS was 19.0 months with TACE+S")]


@pytest.fixture
def regorafenib(tmp_path):
    from tacebench.replications.study import resolve_study
    dst = tmp_path / "tace_regorafenib"
    shutil.copytree(resolve_study("tace_regorafenib"), dst)
    return dst


def test_an_event_count_nothing_is_solved_for_is_no_calibration(regorafenib):
    # loss_rate = 0.0 and follow_up a number: censoring.events only records the count
    deaths = 'level = "deaths"\ncount = 7\nrole = "predicted"'
    edit(regorafenib, "targets.toml", deaths, deaths.replace("predicted", "calibration"))
    p = only_error(check_folder(regorafenib))
    assert (p.kind, p.key, p.value) == ("calibration-role", "cohorts.main.censoring.events.target",
                                        "os_deaths_tace_regorafenib_crude")
    assert "does not fit it" in p.message


def test_an_event_count_a_loss_rate_is_solved_for_is_calibration(regorafenib):
    edit(regorafenib, "cohort.toml", "loss_rate = 0.0\n", 'loss_rate = "calibrate"\n')
    p = only_error(check_folder(regorafenib))
    assert (p.kind, p.value) == ("calibration-role", "os_deaths_tace_regorafenib_crude")
    assert "calibrates the generator" in p.message


def test_seed_002_computable_covariate_hrs_are_judged_or_say_why():
    """Tables 5-6 of seed 002 (Cox models within the TACE+sorafenib arms) and the
    univariable covariate HRs of Tables 2 and 4 are computed by analyses of the folder:
    each binds (a judged number) or, reported, is an input of the generator or says why
    it is not judged."""
    from tacebench.replications.study import resolve_study
    from tacebench.replications.targets import load_targets
    folder = resolve_study("tace_sorafenib_matched")
    report = check_folder(folder)
    hrs = [t for t in load_targets(folder) if t.quantity == "hr" and t.term is not None
           and (t.analysis.startswith("sorafenib_arm_")
                or t.analysis in ("crude_primary", "crude_recurrent"))]
    assert len(hrs) == 25
    from tacebench.replications.unjudged import Kind
    unjudged = [t.id for t in hrs if t.id not in report.requests and not t.not_judged
                and report.reported[t.id].kind is not Kind.INPUT]
    assert unjudged == []


def test_seed_002_open_choices_are_readings_and_worlds():
    """Seed 002 leaves open how its multivariable models were chosen ("Factors which were
    significantly associated with survival in the univariate model were included") and
    whether months on sorafenib truly matter: a reading and a world say so."""
    import tomllib

    from tacebench.replications.study import resolve_study
    folder = resolve_study("tace_sorafenib_matched")
    readings = tomllib.loads((folder / "analysis.toml").read_text())["readings"]
    screened = {a for r in readings if r["option"] == "selection" and "screen" in r["values"]
                for a in r["analyses"]}
    assert {"multivariable_primary", "multivariable_recurrent"} <= screened
    assert all(r["why"] for r in readings)
    worlds = tomllib.loads((folder / "worlds.toml").read_text())["worlds"]
    assert any(k.endswith("time_varying.hr_per_month") and v != 1.0
               for w in worlds for k, v in w.get("set", {}).items())
    assert check_folder(folder).ok
