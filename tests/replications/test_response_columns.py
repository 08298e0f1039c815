"""Further endpoints on the analysis side: TTP and response columns in the schema,
``[response]`` entries that name their column, response estimates reading that column,
and the seed targets that these endpoints make judged."""
import tomllib
import types

import numpy as np
import pandas as pd
import pytest

from tacebench.replications.analysis.compile import bind_target, compile_analyses
from tacebench.replications.analysis.plan import ResponseEndpoint, parse_plan_dict
from tacebench.replications.analysis.problems import Problems
from tacebench.replications.analysis.schema import schema_from_cohort, schema_from_spec
from tacebench.replications.check import check_folder
from tacebench.replications.study import resolve_study

N = 400
LEVELS = ("CR", "PR", "SD", "PD")


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(3)
    treated = (rng.random(N) < 0.5).astype(np.int8)
    r3 = rng.choice(4, N, p=[0.05, 0.25, 0.4, 0.3]).astype(np.int8)
    r6 = np.where(r3 == 3, 3, rng.choice(4, N, p=[0.05, 0.2, 0.25, 0.5])).astype(np.int8)
    r6[rng.random(N) < 0.1] = -1
    liver = rng.choice(2, N, p=[0.4, 0.6]).astype(np.int8)
    t = rng.exponential(8, N)
    cols = {"arm": treated.copy(), "treated": treated, "os_time": t, "os_event": np.ones(N, np.int8),
            "ttp_time": t, "ttp_event": (rng.random(N) < 0.7).astype(np.int8),
            "response": r3, "response_6m": r6, "response_liver": liver}
    levels = {"response": LEVELS, "response_6m": LEVELS, "response_liver": ("CR/PR", "SD/PD")}
    return types.SimpleNamespace(columns=cols, levels=levels, arm_labels=("Ref", "Trt"))


PLAN = """
[response]
orr_6m = { column = "response_6m", levels = ["CR", "PR"] }
response_6m = { column = "response_6m", levels = "level" }
orr_liver = { column = "response_liver", levels = ["CR/PR"] }
[[analyses]]
name = "crude"
estimates = ["response_rate", "odds_ratio", "km_median"]
"""


def _plan(text=PLAN):
    problems = Problems("analysis.toml")
    return parse_plan_dict(tomllib.loads(text), problems), problems


def run(cohort, targets):
    plan, problems = _plan()
    assert not problems, [str(p) for p in problems]
    compiled = compile_analyses(plan, {"main": schema_from_cohort(cohort)}, problems,
                                {"main": cohort.levels})
    assert not problems, [str(p) for p in problems]
    out, tprobs = {}, Problems("targets.toml")
    for i, t in enumerate(targets):
        req = bind_target(t, i, compiled, plan, tprobs)
        assert req is not None, [str(p) for p in tprobs]
        vals, failures, _ = compiled["crude"].run(cohort.columns, np.random.default_rng(0),
                                                  requests=[req])
        assert not failures, failures
        out[t["id"]] = vals[0]
    return out


def test_short_and_column_forms_parse():
    plan, problems = _plan(PLAN + '\n'.join(['', '[covariate_sets]']))
    assert not problems
    assert plan.response["orr"] == ResponseEndpoint(("CR", "PR"))          # defaults kept
    assert plan.response["orr_6m"] == ResponseEndpoint(("CR", "PR"), "response_6m")
    assert plan.response["response_6m"] == ResponseEndpoint("level", "response_6m")
    plan, problems = _plan('[response]\ndcr_3m = ["CR", "PR", "SD"]\nresponse_3m = "level"\n'
                           '[[analyses]]\nname = "a"\nestimates = ["response_rate"]\n')
    assert not problems
    assert plan.response["dcr_3m"].column == "response" and plan.response["response_3m"].levels == "level"


@pytest.mark.parametrize("entry, key, words", [
    ('{ levels = ["CR"] }', "response.x", "column"),
    ('{ column = "response_6m", levels = ["CR"], lag = 1 }', "response.x", "unknown key(s) ['lag']"),
    ('{ column = "response_6m", levels = [] }', "response.x.levels", "list of response levels"),
    ('{ column = "response_6m" }', "response.x.levels", "list of response levels"),
    ('3', "response.x", "list of response levels"),
])
def test_bad_response_entries_are_reported(entry, key, words):
    _, problems = _plan(f'[response]\nx = {entry}\n[[analyses]]\nname = "a"\nestimates = ["response_rate"]\n')
    msgs = [(p.key, p.message) for p in problems]
    assert any(k == key and words in m for k, m in msgs), msgs


def test_estimates_read_the_named_column(cohort):
    got = run(cohort, [
        dict(id="orr6", analysis="crude", quantity="rate", endpoint="orr_6m", arm="Trt"),
        dict(id="pd6", analysis="crude", quantity="count", endpoint="response_6m", level="PD", arm="Ref"),
        dict(id="liver", analysis="crude", quantity="rate", endpoint="orr_liver", arm="Ref"),
        dict(id="or6", analysis="crude", quantity="odds_ratio", endpoint="orr_6m", contrast=["Trt", "Ref"]),
        dict(id="ttp", analysis="crude", quantity="km_median", endpoint="ttp", arm="Ref"),
    ])
    df = pd.DataFrame(cohort.columns)
    a6 = df[df.response_6m >= 0]
    assert got["orr6"] == pytest.approx(a6.response_6m[a6.treated == 1].isin([0, 1]).mean(), rel=1e-12)
    assert got["pd6"] == ((a6.treated == 0) & (a6.response_6m == 3)).sum()
    assert got["liver"] == pytest.approx((df.response_liver[df.treated == 0] == 0).mean(), rel=1e-12)
    y = a6.response_6m.isin([0, 1])
    odds = [y[a6.treated == g].mean() / (1 - y[a6.treated == g].mean()) for g in (1, 0)]
    assert got["or6"] == pytest.approx(odds[0] / odds[1], rel=1e-7)   # one binary covariate: exact
    # the 3-month column is another column: orr on it differs
    assert got["orr6"] != pytest.approx(df.response[df.treated == 1].isin([0, 1]).mean())
    assert np.isfinite(got["ttp"])


def test_unknown_column_and_levels_are_reported(cohort):
    plan, problems = _plan('[response]\nx = { column = "response_9m", levels = ["CR"] }\n'
                           'y = { column = "response_liver", levels = ["CR"] }\n'
                           '[[analyses]]\nname = "a"\nestimates = ["response_rate"]\n')
    compiled = compile_analyses(plan, {"main": schema_from_cohort(cohort)}, problems,
                                {"main": cohort.levels})
    by_key = {p.key: p for p in problems}
    assert by_key["response.x.column"].kind == "not-generated" and "response_9m" in str(by_key["response.x.column"])
    assert by_key["response.y"].kind == "unknown-level" and "CR/PR" in by_key["response.y"].message
    tprobs = Problems("targets.toml")
    t = dict(id="t", analysis="a", quantity="rate", endpoint="x", arm="Ref")
    assert bind_target(t, 0, compiled, plan, tprobs) is None
    assert tprobs.items[0].kind == "not-generated"


def test_schemas_list_the_new_columns(cohort):
    from_cohort = schema_from_cohort(cohort)
    assert {"ttp"} <= set(from_cohort.endpoints)
    assert from_cohort.responses == {"response": LEVELS, "response_6m": LEVELS,
                                     "response_liver": ("CR/PR", "SD/PD")}
    for sid, cols in (("tace_regorafenib", {"ttp_time", "ttp_event"}),
                      ("tace_mtt_pd1_lung", {"response_liver", "response_lung"}),
                      ("len_sora_pd1_ehm", {"response", "response_6m"})):
        with open(resolve_study(sid) / "cohort.toml", "rb") as fh:
            schema = schema_from_spec(tomllib.load(fh), "main")
        assert cols <= set(schema.columns), (sid, sorted(schema.columns))
    assert "ttp" in schema_from_spec({"cohorts": {"main": {"outcomes": {"os": {}, "pfs": {}, "ttp": {}}}}},
                                     "main").endpoints


#: The targets the new endpoints make judged, per seed study (before: not estimable).
NEWLY_JUDGED = {
    "tace_regorafenib": [f"ttp_median_tace_regorafenib_crude{s}" for s in ("", "_abstract", "_discussion")],
    "tace_mtt_pd1_lung": [f"orr_{o}_{a}_crude{s}" for o in ("liver", "lung")
                          for a in ("tace_mtt_and_pd_l_1", "mtt_and_pd_l_1")
                          for s in ("", "_abstract", "_discussion")],
    "len_sora_pd1_ehm": [f"response_6m_{lv}_{a}_psm" for lv in ("cr", "pr", "sd", "pd")
                         for a in ("sora_pd_1", "len_pd_1")]
    + [f"{e}_6m_{a}_psm" for e in ("orr", "dcr") for a in ("sora_pd_1", "len_pd_1")]
    + [f"orr_6m_{a}_psm_discussion" for a in ("sora_pd_1", "len_pd_1")],
}


@pytest.mark.parametrize("sid", sorted(NEWLY_JUDGED))
def test_newly_judged_targets_bind(sid):
    report = check_folder(resolve_study(sid))
    assert report.ok, [str(p) for p in report.errors]
    not_generated = [str(p) for p in report.problems if p.kind == "not-generated"]
    assert not not_generated, not_generated
    missing = [t for t in NEWLY_JUDGED[sid] if t not in report.requests]
    assert not missing, missing
