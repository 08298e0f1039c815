"""The HTML report's assumptions state each study's own hazard model (cohort.toml), not
one proportional-hazards sentence for every study."""
from __future__ import annotations

from tacebench.replications.check import load_study
from tacebench.replications.html_sections import assumptions_html
from tacebench.replications.outcome_model import outcome_model_sentence, outcome_models


def test_an_arm_specific_endpoint_is_not_called_proportional():
    models = outcome_models(load_study("len_sora_pd1_ehm").spec)
    assert {"cohort": "main", "endpoint": "os", "hazards": "arm_specific"} in models
    html = assumptions_html({"study": "len_sora_pd1_ehm", "outcome_models": models})
    assert "Outcomes follow proportional hazards" not in html
    assert "OS follows arm-specific hazards" in html
    assert "not proportional" in html


def test_one_model_for_all_endpoints_is_one_sentence():
    models = [{"cohort": "main", "endpoint": e, "hazards": "proportional"} for e in ("os", "pfs")]
    assert outcome_model_sentence(models).startswith("Outcomes follow proportional hazards")
    html = assumptions_html({"study": "s", "outcome_models": models})
    assert "arm-specific" not in html


def test_several_cohorts_are_named_where_the_models_differ():
    models = [{"cohort": "a", "endpoint": "os", "hazards": "arm_specific"},
              {"cohort": "b", "endpoint": "os", "hazards": "proportional"}]
    text = outcome_model_sentence(models)
    assert "OS (a) follows arm-specific" in text and "OS (b) follows proportional" in text


def test_a_results_folder_without_the_entry_names_no_model():
    assert "proportional hazards (one" not in outcome_model_sentence(None)


def test_the_run_carries_the_models(fictional_results):
    assert fictional_results[0]["outcome_models"]
    assert all(m["hazards"] in ("proportional", "arm_specific")
               for m in fictional_results[0]["outcome_models"])
