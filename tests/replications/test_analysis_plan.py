"""analysis.toml parsing: every problem collected, naming file, key and value."""
import textwrap

import pytest

from tacebench.replications.analysis.plan import load_plan, parse_plan
from tacebench.replications.analysis.problems import StudyError


def _plan(tmp_path, text):
    p = tmp_path / "analysis.toml"
    p.write_text(textwrap.dedent(text))
    return parse_plan(p)


def test_valid_plan_with_sets_and_aliases(tmp_path):
    plan, problems = _plan(tmp_path, """
        [covariate_sets]
        ps = ["age>=60", "male"]
        [aliases]
        sex_male = "male==1"
        [[analyses]]
        name = "iptw"
        population = { landmark = 3, endpoint = "os" }
        estimates = ["hr", "weighted_group_size"]
        [analyses.adjustment]
        method = "iptw"
        stabilized = true
        truncate = [1, 99]
        covariates = "ps"
    """)
    assert not problems
    a = plan.get("iptw")
    assert a.method == "iptw" and a.options["estimand"] == "ATE"
    assert [t.text for t in a.options["covariates"]] == ["age>=60", "male"]
    assert a.population[0].options == {"landmark": 3.0, "endpoint": "os"}
    assert plan.term_for("sex_male") == "male==1" and plan.term_for("age") == "age"


def test_all_problems_at_once(tmp_path):
    _, problems = _plan(tmp_path, """
        [[analyses]]
        name = "a"
        adjustment = { method = "ipwt" }
        estimates = ["hr"]
        [[analyses]]
        name = "b"
        estimates = ["km_mean", "hr"]
        population = "imaging"
        [analyses.adjustment]
        method = "psm"
        covariates = ["age"]
        caliper = -1
        ratoi = 2
        [[analyses]]
        name = "b"
        estimates = ["weighted_group_size"]
    """)
    kinds = {(p.key, p.kind) for p in problems}
    assert ("analyses[0].adjustment.method", "unknown-analysis-kind") in kinds
    assert ("analyses[1].estimates[0]", "unknown-estimate") in kinds
    assert ("analyses[1].population", "unknown-population") in kinds
    assert ("analyses[1].adjustment.caliper", "malformed") in kinds
    assert ("analyses[1].adjustment.ratoi", "unknown-option") in kinds
    assert ("analyses[2].name", "duplicate") in kinds
    # weighted_group_size needs a weighting or matching adjustment
    assert ("analyses[2].estimates[0]", "incompatible") in kinds
    text = "\n".join(map(str, problems))
    assert "ipwt" in text and "analysis.toml" in text


def test_estimand_capabilities_drive_validation(tmp_path):
    _, problems = _plan(tmp_path, """
        [[analyses]]
        name = "att"
        estimates = ["hr"]
        adjustment = { method = "iptw", estimand = "ATT", stabilized = true, covariates = ["age"] }
    """)
    assert [p.key for p in problems] == ["analyses[0].adjustment.stabilized"]


def test_ps_model_option_is_validated(tmp_path):
    _, problems = _plan(tmp_path, """
        [[analyses]]
        name = "w"
        estimates = ["hr"]
        adjustment = { method = "iptw", ps_model = "firth", covariates = ["age"] }
        [[analyses]]
        name = "m"
        estimates = ["hr"]
        adjustment = { method = "psm", ps_model = "probit", covariates = ["age"] }
    """)
    assert [(p.key, p.value) for p in problems] == [("analyses[1].adjustment.ps_model",
                                                     "probit")]
    assert "glm" in problems.items[0].message and "firth" in problems.items[0].message


def test_missing_and_malformed_files(tmp_path):
    _, problems = parse_plan(tmp_path / "nope.toml")
    assert problems.items[0].kind == "missing-file"
    (tmp_path / "bad.toml").write_text("[[analyses]\nname=")
    plan, problems = parse_plan(tmp_path / "bad.toml")
    assert problems.items[0].kind == "malformed" and not plan.readable
    with pytest.raises(StudyError, match="not valid TOML"):
        load_plan(tmp_path / "bad.toml")


def test_empty_plan_asks_to_be_filled(tmp_path):
    _, problems = _plan(tmp_path, "# nothing yet\n")
    assert [p.kind for p in problems] == ["fill-me"]
