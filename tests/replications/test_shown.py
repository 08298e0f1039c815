"""An analysis that is only shown: the fictional study with a doubly robust analysis and no
target of it. Its estimates run on every replicate without changing any judged draw, equal
the estimators' survival_ate on the replicate's cohort, and the report shows them apart
from the verdicts (table, Markdown, JSON, HTML); a bad `show` entry is a check error
naming file, key and value."""
import json
import shutil

import numpy as np
import pytest

from tacebench.estimators.survival import survival_ate
from tacebench.replications.check import check_folder, load_study
from tacebench.replications.html_report import render_html
from tacebench.replications.report import StudyReport, render
from tacebench.replications.reproduce import prepare, replicate_seed, reproduce

from .folders import FICTIONAL

COVARIATES = ["age", "tumor_size", "pvtt"]
DR = f"""
[[analyses]]
name = "doubly_robust"
description = "What an AIPTW analysis of the same data would have said"
estimates = ["risk", "risk_difference", "risk_ratio", "rmst_difference"]
adjustment = {{ method = "survival_ate", estimator = "aiptw", covariates = {COVARIATES} }}
show = [{{ quantity = "risk_difference", endpoint = "os", time = 12 }},
        {{ quantity = "risk_ratio", endpoint = "os", time = 12, contrast = ["TACE", "TACE-L"] }},
        {{ quantity = "risk", endpoint = "os", arm = "TACE-L", time = 12 }},
        {{ quantity = "rmst_difference", endpoint = "os", time = 24 }}]
"""
REPS, SEED = 6, 5


def _with_dr(tmp_path, extra=DR):
    folder = tmp_path / "fictional"
    shutil.copytree(FICTIONAL, folder)
    with open(folder / "analysis.toml", "a", encoding="utf-8") as f:
        f.write(extra)
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = _with_dr(tmp_path_factory.mktemp("shown"))
    kw = dict(reps=REPS, seed=SEED, decompose_reps=2, max_reps=REPS)
    return (reproduce(load_study(FICTIONAL), **kw), reproduce(load_study(folder), **kw),
            load_study(folder))


def test_a_shown_analysis_changes_no_judged_draw(runs):
    before, after, _ = runs
    n = before.draws.shape[1]
    assert after.draw_ids[:n] == before.draw_ids
    np.testing.assert_array_equal(after.draws[:, :n], before.draws)
    assert [t.verdict for t in after.targets] == [t.verdict for t in before.targets]
    assert len(after.shown) == 4 and not before.shown


def test_shown_draws_equal_the_estimators_on_the_replicate(runs):
    _, after, study = runs
    generate, plan = prepare(study, SEED)
    cohort = replicate_seed(SEED, study.id, 0).spawn(len(plan.cohorts) + 1)[0]
    cols = generate("main", cohort)[0]
    X = np.column_stack([cols[c] for c in COVARIATES])
    ate = survival_ate(cols["os_time"], cols["os_event"], cols["treated"], X,
                       horizons=[12.0], estimators=("aiptw",))
    trt = plan.runs[0][0].schema.treated_arm
    col = {i: k for k, i in enumerate(after.draw_ids)}
    # the default contrast is the treated arm against the reference arm
    assert after.draws[0, col["doubly_robust.show[0]"]] == pytest.approx(
        ate.difference[0, 0], rel=1e-12)
    ratio = ate.ratio[0, 0] if trt == "TACE" else 1 / ate.ratio[0, 0]
    assert after.draws[0, col["doubly_robust.show[1]"]] == pytest.approx(ratio, rel=1e-12)
    z_lipiodol = 1 if trt == "TACE-L" else 0
    assert after.draws[0, col["doubly_robust.show[2]"]] == pytest.approx(
        ate.risk[0, z_lipiodol, 0], rel=1e-12)


def test_the_report_shows_them_apart_from_the_verdicts(runs):
    _, after, _ = runs
    s = after.shown[0]
    assert s.lo <= s.median <= s.hi and s.n_estimable == REPS
    rep = StudyReport(after.study_id, result=after)
    for fmt in ("table", "markdown"):
        text = render([rep], fmt)
        assert "Shown, not judged" in text and "os risk_difference" in text
    data = json.loads(render([rep], "json"))[0]
    assert [x["id"] for x in data["shown"]][:2] == ["doubly_robust.show[0]",
                                                    "doubly_robust.show[1]"]
    assert all(x["analysis"] == "doubly_robust" for x in data["shown"])
    assert not any(t["analysis"] == "doubly_robust" for t in data["targets"])
    html = render_html([rep.to_dict()])
    assert "Shown, not judged" in html and "doubly_robust" in html


@pytest.mark.parametrize("show, key, message", [
    ('[{ quantity = "risk_difference", endpoint = "os" }]', "show[0].time", "needs `time`"),
    ('[{ quantity = "risk_difference", endpoint = "os", time = 12, value = 0.1 }]',
     "show[0].value", "unknown key"),
    ('[{ quantity = "hr", endpoint = "os" }]', "show[0].quantity", "does not list"),
    ('[{ quantity = "risk", endpoint = "os", arm = "Sorafenib", time = 12 }]',
     "show[0].arm", "arm must be one of"),
    ('[{ quantity = "risk", endpoint = "ttp", arm = "TACE", time = 12 }]',
     "show[0].endpoint", "no such survival endpoint"),
    ('{ quantity = "risk" }', "show", "expected a list of tables"),
])
def test_a_bad_show_entry_is_a_check_error(tmp_path, show, key, message):
    folder = _with_dr(tmp_path, '\n[[analyses]]\nname = "dr"\nestimates = ["risk", '
                      '"risk_difference"]\nadjustment = { method = "survival_ate", '
                      f'covariates = ["age"] }}\nshow = {show}\n')
    errors = [p for p in check_folder(folder).problems if p.severity == "error"]
    hits = [p for p in errors if p.key == f"analyses[5].{key}"]
    assert hits and message in hits[0].message, [str(p) for p in errors]
    assert hits[0].file.endswith("analysis.toml")


TARGET = """
[[targets]]
id = "os_risk_difference12m_aiptw"
analysis = "doubly_robust"
quantity = "risk_difference"
endpoint = "os"
contrast = ["TACE-L", "TACE"]
time = 12
value = -0.12
role = "predicted"
where = "text"
source = "a 12-month risk difference of -0.12"
"""


def test_a_target_predicted_by_the_doubly_robust_analysis_is_judged(tmp_path):
    folder = _with_dr(tmp_path)
    with open(folder / "targets.toml", "a", encoding="utf-8") as f:
        f.write(TARGET)
    with open(folder / "paper.txt", "a", encoding="utf-8") as f:
        f.write("An AIPTW analysis gave a 12-month risk difference of -0.12.\n")
    report = check_folder(folder)
    assert not report.problems, [str(p) for p in report.problems]
    res = reproduce(load_study(folder), reps=REPS, seed=SEED, decompose_reps=0,
                    max_reps=REPS)
    t = next(t for t in res.targets if t.id == "os_risk_difference12m_aiptw")
    assert t.scale == "identity" and t.n_estimable == REPS and t.verdict != "not estimable"
    col = {i: k for k, i in enumerate(res.draw_ids)}
    # the target and the shown estimate are the same contrast (AIPTW draws no random number)
    np.testing.assert_array_equal(res.draws[:, col[t.id]],
                                  res.draws[:, col["doubly_robust.show[0]"]])
