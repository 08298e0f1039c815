"""Where the audit's denominators come from: a target's own ``denominator``, a group size of
the same analysis and arm, or ``cohort.toml``'s arm size only for an analysis of whole arms
of the cohort, unadjusted. A sub-population (imaging cohort, landmark population, subgroup)
or a matched / weighted sample without a group size of its own is skipped, never measured
against the whole cohort.
"""
from __future__ import annotations

import textwrap

import pytest

from tacebench.replications.audit import audit_study, audit_targets
from tacebench.replications.audit.cohort import analysis_arm_sizes
from tacebench.replications.targets import load_targets

from .test_audit_rules import n, pct, run, study

COHORT = """
[study]
id = "demo"

[cohorts.main]
[[cohorts.main.arms]]
label = "TACE"
n = 160
[[cohorts.main.arms]]
label = "TACE-L"
n = 110
"""

PLAN = """
[[analyses]]
name = "crude"
estimates = ["group_size", "proportion", "response_rate"]

[[analyses]]
name = "imaging"
population = "response_assessed"
estimates = ["response_rate", "group_size"]

[[analyses]]
name = "landmark_3m"
population = { landmark = 3, endpoint = "os" }
estimates = ["hr", "group_size"]

[[analyses]]
name = "subgroup"
population = { where = "pvtt==1" }
estimates = ["group_size"]

[[analyses]]
name = "tace_l_only"
population = { arm = "TACE-L" }
estimates = ["group_size", "proportion"]

[[analyses]]
name = "iptw"
estimates = ["weighted_group_size", "proportion"]
adjustment = { method = "iptw", covariates = ["age"] }

[[analyses]]
name = "psm"
estimates = ["group_size", "proportion"]
adjustment = { method = "psm", covariates = ["age"] }

[[analyses]]
name = "multivariable"
estimates = ["hr"]
adjustment = { method = "multivariable", covariates = ["age"] }
"""


def _target(id_, analysis, quantity, source, **kw):
    lines = [f'id = "{id_}"', f'analysis = "{analysis}"', f'quantity = "{quantity}"',
             'role = "reported"', 'where = "text"', f'source = "{source}"']
    for k, v in kw.items():
        lines.append(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}")
    return "[[targets]]\n" + "\n".join(lines) + "\n"


def _folder(tmp_path, targets: str, plan: str | None = PLAN, cohort: str = COHORT):
    (tmp_path / "cohort.toml").write_text(textwrap.dedent(cohort), encoding="utf-8")
    if plan is not None:
        (tmp_path / "analysis.toml").write_text(textwrap.dedent(plan), encoding="utf-8")
    (tmp_path / "targets.toml").write_text('[study]\nid = "demo"\n\n' + targets,
                                           encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------- which analyses are whole

def test_only_whole_unadjusted_analyses_get_the_cohort_arm_sizes(tmp_path):
    sizes = analysis_arm_sizes(_folder(tmp_path, ""))
    assert sizes["crude"] == {"TACE": 160.0, "TACE-L": 110.0}
    # an arm filter keeps that arm whole
    assert sizes["tace_l_only"] == {"TACE-L": 110.0}
    # sub-populations, weighted / matched samples, complete-case models: arms, no sizes
    for name in ("imaging", "landmark_3m", "subgroup", "iptw", "psm", "multivariable"):
        assert sizes[name] == {"TACE": None, "TACE-L": None}, name


def test_without_analysis_toml_no_analysis_is_known(tmp_path):
    assert analysis_arm_sizes(_folder(tmp_path, "", plan=None)) == {}


def test_each_analysis_takes_the_arm_sizes_of_its_own_cohort(tmp_path):
    two = """
    [cohorts.primary]
    arms = [{ label = "A", n = 245 }, { label = "B", n = 245 }]
    [cohorts.recurrent]
    arms = [{ label = "A", n = 127 }, { label = "B", n = 127 }]
    """
    plan = """
    [[analyses]]
    name = "crude_primary"
    cohort = "primary"
    estimates = ["group_size"]
    [[analyses]]
    name = "crude_recurrent"
    cohort = "recurrent"
    estimates = ["group_size"]
    [[analyses]]
    name = "crude_nowhere"
    cohort = "no_such_cohort"
    estimates = ["group_size"]
    """
    sizes = analysis_arm_sizes(_folder(tmp_path, "", plan=plan, cohort=two))
    assert sizes["crude_primary"] == {"A": 245.0, "B": 245.0}
    assert sizes["crude_recurrent"] == {"A": 127.0, "B": 127.0}
    assert "crude_nowhere" not in sizes          # unknown cohort: no arms assumed


def test_a_flat_arm_size_mapping_is_a_value_error():
    with pytest.raises(ValueError, match="arm_sizes"):
        audit_targets(study(n(10, "A")), arm_sizes={"A": 294})


# ---------------------------------------------------------------- the reported false error

def test_a_sub_population_total_is_not_compared_with_the_cohort_arms(tmp_path):
    """The doc writer's example: 255 patients with a response assessment, no per-arm sizes
    printed; before, the arms came from cohort.toml (160 + 110 = 270) and made an error."""
    targets = (_target("n_imaging", "imaging", "group_size", "Among the 255 patients",
                       value=255)
               + _target("orr_tace_imaging", "imaging", "rate",
                         "the objective response rate was 33.3% (50) with TACE",
                         endpoint="orr", arm="TACE", percent=33.3, count=50))
    rep = audit_study(_folder(tmp_path, targets))
    assert [f for f in rep if f.severity != "info"] == []
    (info,) = rep.select(rule="denominators_not_resolved")
    assert set(info.targets) == {"n_imaging", "orr_tace_imaging"}
    assert "imaging" in info.message and "not whole arms" in info.message


@pytest.mark.parametrize("analysis", ["landmark_3m", "subgroup", "psm", "multivariable"])
def test_sub_populations_and_adjusted_samples_skip_without_their_own_sizes(tmp_path, analysis):
    targets = _target(f"bl_x_tace_{analysis}", analysis, "proportion", "x 50 (33.3%)",
                      term="x", arm="TACE", percent=33.3, count=50)
    rep = audit_study(_folder(tmp_path, targets))
    assert rep.select(rule="percent_matches_count") == ()     # 50/160 = 31.3% not claimed
    assert len(rep.select(rule="denominators_not_resolved")) == 1


def test_an_analysis_missing_from_analysis_toml_does_not_fall_back(tmp_path):
    targets = _target("bl_x_tace_other", "other", "proportion", "x 46 (15.7%)",
                      term="x", arm="TACE", percent=15.7, count=46)
    rep = audit_study(_folder(tmp_path, targets))
    assert rep.select(rule="percent_matches_count") == ()
    (info,) = rep.select(rule="denominators_not_resolved")
    assert "does not define" in info.message


# ---------------------------------------------------------------- still checked

def test_a_whole_cohort_analysis_is_still_checked_against_the_cohort(tmp_path):
    # 46 / 160 = 28.75%: a printed 30.8% is a slip whatever the rounding
    targets = (_target("bl_x_tace_crude", "crude", "proportion", "x 46 (30.8%)",
                       term="x", arm="TACE", percent=30.8, count=46)
               + _target("n_crude", "crude", "group_size", "270 patients", value=270)
               + _target("bl_y_crude", "crude", "proportion", "y (70, 25.9%)", term="y",
                         percent=25.9, count=70)
               + _target("bl_z_tace_l_tace_l_only", "tace_l_only", "proportion",
                         "z 30 (25.0%)", term="z", arm="TACE-L", percent=25.0, count=30))
    rep = audit_study(_folder(tmp_path, targets))
    found = {f.targets[0]: f for f in rep.select(rule="percent_matches_count")}
    assert set(found) == {"bl_x_tace_crude", "bl_z_tace_l_tace_l_only"}
    assert found["bl_x_tace_crude"].severity == "error"
    assert "cohort.toml arm 'TACE'" in found["bl_x_tace_crude"].message
    assert "110" in found["bl_z_tace_l_tace_l_only"].message    # 30/110 = 27.3%
    # the pooled 70 (25.9%) is checked against the printed total 270: consistent
    assert rep.select(rule="denominators_not_resolved") == ()


def test_a_whole_cohort_total_sums_every_arm_of_the_cohort(tmp_path):
    # only one arm is named by a target, the total still sums both of the cohort's arms
    targets = (_target("n_crude", "crude", "group_size", "(n=260)", value=260)
               + _target("bl_x_tace_crude", "crude", "proportion", "x 40 (25.0%)",
                         term="x", arm="TACE", percent=25.0, count=40))
    (f,) = audit_study(_folder(tmp_path, targets)).select(rule="arms_sum_to_total")
    assert f.severity == "error" and "160 + 110 = 270" in f.message


def test_a_group_size_of_the_same_analysis_and_arm_is_the_denominator(tmp_path):
    targets = (_target("n_tace_imaging", "imaging", "group_size", "(50/150)", arm="TACE",
                       value=150)
               + _target("n_tace_l_imaging", "imaging", "group_size", "(55/105)",
                         arm="TACE-L", value=105)
               + _target("n_imaging", "imaging", "group_size", "Among the 250", value=250)
               + _target("orr_tace_imaging", "imaging", "rate", "33.3% (50/150)",
                         endpoint="orr", arm="TACE", percent=33.3, count=50)
               + _target("orr_tace_l_imaging", "imaging", "rate", "50.0% (55/105)",
                         endpoint="orr", arm="TACE-L", percent=50.0, count=55)
               # a group size of another analysis never serves
               + _target("n_tace_psm", "psm", "group_size", "(n=95)", arm="TACE", value=95))
    rep = audit_study(_folder(tmp_path, targets))
    (bad,) = rep.select(rule="percent_matches_count")
    # the finding names the two numbers it compares
    assert bad.targets == ("orr_tace_l_imaging", "n_tace_l_imaging") and "55/105" in bad.message
    assert "n_tace_l_imaging" in bad.message
    (tot,) = rep.select(rule="arms_sum_to_total")
    assert "150 + 105 = 255" in tot.message and tot.targets[0] == "n_imaging"


def test_an_explicit_denominator_wins_in_a_sub_population():
    sizes = {"imaging": {"A": None}}
    (f,) = run("percent_matches_count",
               pct(50, "35.0", source="50 (35.0)", analysis="imaging", denominator=150),
               arm_sizes=sizes)
    assert "denominator of" in f.message


# ---------------------------------------------------------------- weighted numbers

def test_weighted_numbers_never_take_a_head_count():
    # whole-cohort analysis, but a weighted share is of the sum of weights, not of 160
    sizes = {"crude": {"A": 160.0}}
    w = pct(50.2, "33.3", source="50.2 (33.3)", weighted=True)
    assert run("percent_matches_count", w, arm_sizes=sizes) == []
    (info,) = run("denominators_not_resolved", w, arm_sizes=sizes)
    assert "weighted group size" in info.message
    # a weighted share alone (no count) cannot be checked at all, so is not listed
    assert run("denominators_not_resolved", pct(None, "33.3", weighted=True),
               arm_sizes=sizes) == []


def test_a_weighted_own_denominator_is_a_rounded_number():
    # seed 000's weighted ECOG cell: 192 (65.7%) of a weighted n of 296 is wrong under any
    # rounding of the two (at most 192.5 / 295.5 = 65.14%)
    bad = pct(192, "65.7", source="192 (65.7)", weighted=True, denominator=296)
    (f,) = run("percent_matches_count", bad)
    assert f.severity == "error"
    # 49.5 / 100 = 49.50% exactly, but a weighted n printed "100" is 99.5-100.5, and
    # 49.55 / 99.5 = 49.80%: 49.7% is consistent only because the denominator is rounded
    edge = pct(49.5, "49.7", source="49.5 (49.7)", weighted=True, denominator=100)
    assert run("percent_matches_count", edge) == []
    # printed with a decimal, 100.5 allows 100.45-100.55: at most 49.33%, a slip
    (g,) = run("percent_matches_count", {**edge, "denominator": 100.5})
    assert g.severity == "error" and "denominator of" in g.message


def test_the_shipped_studies_resolve_every_denominator_they_check():
    """In the five seeds every checked rate has a group size of its own analysis: the
    cohort fallback adds nothing there, and nothing goes unchecked for want of one."""
    from tests.replications.test_audit_studies import IDS, STUDIES
    for sid in IDS:
        assert audit_study(STUDIES / sid).select(rule="denominators_not_resolved") == (), sid
        assert load_targets(STUDIES / sid)
