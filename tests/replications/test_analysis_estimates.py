"""The analysis vocabulary's estimates against independent references (lifelines,
statsmodels) on one constructed cohort, and the capability table's bindings."""
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from tacebench.replications.analysis.compile import bind_target
from tacebench.replications.analysis.problems import Problems
from tests.replications.plans import compiled_plan

N = 600


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(7)
    treated = (rng.random(N) < 0.4).astype(np.int8)
    age = rng.normal(58 + 3 * treated, 9)
    pvtt = (rng.random(N) < 0.2 + 0.15 * treated).astype(float)
    cp = (rng.random(N) < 0.3).astype(float)
    noise = rng.normal(size=N)
    lin = -0.4 * treated + 0.6 * pvtt + 0.03 * (age - 58)
    t = rng.exponential(1 / (0.06 * np.exp(lin)))
    c = rng.uniform(1, 40, N)
    response = rng.choice(4, N, p=[0.05, 0.3, 0.4, 0.25]).astype(np.int8)
    response[rng.random(N) < 0.1] = -1
    cols = {"arm": treated.copy(), "treated": treated, "age": age, "pvtt": pvtt,
            "child_pugh": cp, "noise": noise, "os_time": np.minimum(t, c),
            "os_event": (t <= c).astype(np.int8), "response": response}
    levels = {"child_pugh": ("A", "B"), "response": ("CR", "PR", "SD", "PD")}
    return types.SimpleNamespace(columns=cols, levels=levels, arm_labels=("Ref", "Trt"))


PLAN = """
[covariate_sets]
ps = ["age", "pvtt", "child_pugh"]
[[analyses]]
name = "crude"
estimates = ["km_median", "km_rate", "hr", "group_size", "events", "response_rate",
             "odds_ratio", "proportion", "mean", "rmst", "arr", "nnt", "median_difference"]
[[analyses]]
name = "iptw"
estimates = ["km_median", "hr", "weighted_group_size", "balance", "odds_ratio",
             "median_difference"]
adjustment = { method = "iptw", covariates = "ps", stabilized = true }
[[analyses]]
name = "mv"
estimates = ["hr"]
adjustment = { method = "multivariable", covariates = ["age", "pvtt", "child_pugh"] }
[[analyses]]
name = "forward"
estimates = ["hr"]
adjustment = { method = "multivariable", covariates = ["pvtt", "noise"], selection = "forward", treatment = false }
[[analyses]]
name = "lm6"
population = { landmark = 6, endpoint = "os" }
estimates = ["hr", "group_size"]
[[analyses]]
name = "psm"
estimates = ["hr", "group_size"]
adjustment = { method = "psm", covariates = "ps", caliper = 0.2 }
"""


def run(cohort, targets, failures=None):
    plan, compiled = compiled_plan(cohort, PLAN)
    out = {}
    tprobs = Problems("targets.toml")
    for i, t in enumerate(targets):
        req = bind_target(t, i, compiled, plan, tprobs)
        assert req is not None, [str(p) for p in tprobs]
        vals, notes, _ = compiled[t["analysis"]].run(
            cohort.columns, np.random.default_rng(0), requests=[req], cache={})
        # every NaN, and only a NaN, comes with its reason
        assert [n.index for n in notes] == ([0] if np.isnan(vals[0]) else []), notes
        if failures is not None:
            failures[t["id"]] = [n.reason for n in notes]
        else:
            assert not notes, notes
        out[t["id"]] = vals[0]
    return out


def T(id, analysis, quantity, **kw):
    return dict(id=id, analysis=analysis, quantity=quantity, **kw)


def frame(cohort):
    return pd.DataFrame({k: v for k, v in cohort.columns.items()})


def _ps(df):
    import statsmodels.api as sm
    X = sm.add_constant(df[["age", "pvtt", "child_pugh"]])
    return sm.Logit(df["treated"], X).fit(disp=0).predict(X).to_numpy()


def test_km_and_cox_match_lifelines(cohort):
    from lifelines import CoxPHFitter, KaplanMeierFitter
    got = run(cohort, [
        T("m", "crude", "km_median", endpoint="os", arm="Trt"),
        T("r", "crude", "km_rate", endpoint="os", arm="Ref", time=12),
        T("hr", "crude", "hr", endpoint="os", contrast=["Trt", "Ref"]),
        T("hr_rev", "crude", "hr", endpoint="os", contrast=["Ref", "Trt"]),
        T("hr_mv", "mv", "hr", endpoint="os", contrast=["Trt", "Ref"]),
        T("hr_pvtt_mv", "mv", "hr", endpoint="os", term="pvtt"),
        T("hr_age_uni", "crude", "hr", endpoint="os", term="age"),
    ])
    df = frame(cohort)
    km = KaplanMeierFitter().fit(df.os_time[df.treated == 1], df.os_event[df.treated == 1])
    assert got["m"] == pytest.approx(km.median_survival_time_, rel=1e-12)
    km0 = KaplanMeierFitter().fit(df.os_time[df.treated == 0], df.os_event[df.treated == 0])
    assert got["r"] == pytest.approx(float(km0.survival_function_at_times(12).iloc[0]))
    cph = CoxPHFitter().fit(df[["os_time", "os_event", "treated"]], "os_time", "os_event")
    assert got["hr"] == pytest.approx(np.exp(cph.params_["treated"]), rel=1e-5)
    assert got["hr_rev"] == pytest.approx(1 / got["hr"], rel=1e-12)
    mv = CoxPHFitter().fit(df[["os_time", "os_event", "treated", "age", "pvtt", "child_pugh"]],
                           "os_time", "os_event")
    assert got["hr_mv"] == pytest.approx(np.exp(mv.params_["treated"]), rel=1e-5)
    assert got["hr_pvtt_mv"] == pytest.approx(np.exp(mv.params_["pvtt"]), rel=1e-5)
    uni = CoxPHFitter().fit(df[["os_time", "os_event", "age"]], "os_time", "os_event")
    assert got["hr_age_uni"] == pytest.approx(np.exp(uni.params_["age"]), rel=1e-5)


def test_iptw_matches_statsmodels_and_lifelines(cohort):
    from lifelines import CoxPHFitter, KaplanMeierFitter
    got = run(cohort, [
        T("n1", "iptw", "weighted_group_size", arm="Trt"),
        T("n0", "iptw", "weighted_group_size", arm="Ref"),
        T("hr", "iptw", "hr", endpoint="os", contrast=["Trt", "Ref"]),
        T("m", "iptw", "km_median", endpoint="os", arm="Ref"),
        T("smd", "iptw", "smd", term="pvtt"),
    ])
    df = frame(cohort)
    ps = _ps(df)
    z = df.treated.to_numpy()
    p1 = z.mean()
    w = np.where(z == 1, p1 / ps, (1 - p1) / (1 - ps))       # stabilized ATE weights
    assert got["n1"] == pytest.approx(w[z == 1].sum(), rel=1e-8)
    assert got["n0"] == pytest.approx(w[z == 0].sum(), rel=1e-8)
    df["w"] = w
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")           # lifelines: "weights are not integers"
        cph = CoxPHFitter().fit(df[["os_time", "os_event", "treated", "w"]], "os_time",
                                "os_event", weights_col="w", robust=True)
        km = KaplanMeierFitter().fit(df.os_time[z == 0], df.os_event[z == 0],
                                     weights=w[z == 0])
    assert got["hr"] == pytest.approx(np.exp(cph.params_["treated"]), rel=1e-5)
    assert got["m"] == pytest.approx(km.median_survival_time_, rel=1e-12)
    x = df.pvtt.to_numpy()
    m1, m0 = np.average(x[z == 1], weights=w[z == 1]), np.average(x[z == 0], weights=w[z == 0])
    sd = np.sqrt((x[z == 1].mean() * (1 - x[z == 1].mean()) + x[z == 0].mean()
                  * (1 - x[z == 0].mean())) / 2)              # unweighted pooled SD (Austin)
    assert got["smd"] == pytest.approx(abs(m1 - m0) / sd, rel=1e-8)


def test_response_estimates_match_statsmodels(cohort):
    import statsmodels.api as sm
    got = run(cohort, [
        T("orr1", "crude", "rate", endpoint="orr", arm="Trt"),
        T("n_pr", "crude", "count", endpoint="response", level="PR", arm="Ref"),
        T("or", "crude", "odds_ratio", endpoint="dcr", contrast=["Trt", "Ref"]),
        T("or_w", "iptw", "odds_ratio", endpoint="dcr", contrast=["Trt", "Ref"]),
    ])
    df = frame(cohort)
    a = df[df.response >= 0]
    assert got["orr1"] == pytest.approx(a.response[a.treated == 1].isin([0, 1]).mean())
    assert got["n_pr"] == ((a.treated == 0) & (a.response == 1)).sum()
    y = a.response.isin([0, 1, 2]).astype(float)
    fit = sm.GLM(y, sm.add_constant(a.treated.astype(float)), family=sm.families.Binomial()).fit()
    assert got["or"] == pytest.approx(np.exp(fit.params["treated"]), rel=1e-7)
    ps = _ps(df)
    z = df.treated.to_numpy()
    w = np.where(z == 1, z.mean() / ps, (1 - z.mean()) / (1 - ps))[df.response >= 0]
    fw = sm.GLM(y, sm.add_constant(a.treated.astype(float)), family=sm.families.Binomial(),
                freq_weights=w).fit()
    assert got["or_w"] == pytest.approx(np.exp(fw.params["treated"]), rel=1e-7)


def test_counts_sizes_and_landmark(cohort):
    from lifelines import CoxPHFitter
    got = run(cohort, [
        T("n1", "crude", "group_size", arm="Trt"),
        T("deaths", "crude", "count", endpoint="os"),
        T("p", "crude", "proportion", term="pvtt", arm="Trt"),
        T("age", "crude", "mean", term="age", arm="Ref"),
        T("lm_n", "lm6", "group_size", arm="Ref"),
        T("lm_hr", "lm6", "hr", endpoint="os", contrast=["Trt", "Ref"]),
        T("psm_n1", "psm", "group_size", arm="Trt"),
        T("psm_n0", "psm", "group_size", arm="Ref"),
    ])
    df = frame(cohort)
    assert got["n1"] == df.treated.sum()
    assert got["deaths"] == df.os_event.sum()
    assert got["p"] == pytest.approx(df.pvtt[df.treated == 1].mean())
    assert got["age"] == pytest.approx(df.age[df.treated == 0].mean())
    lm = df[df.os_time > 6].assign(os_time=lambda d: d.os_time - 6)
    assert got["lm_n"] == (lm.treated == 0).sum()
    cph = CoxPHFitter().fit(lm[["os_time", "os_event", "treated"]], "os_time", "os_event")
    assert got["lm_hr"] == pytest.approx(np.exp(cph.params_["treated"]), rel=1e-5)
    assert got["psm_n1"] == got["psm_n0"] <= df.treated.sum()   # 1:1 without replacement


def test_forward_selection_keeps_the_prognostic_term(cohort):
    why = {}
    got = run(cohort, [T("pvtt", "forward", "hr", endpoint="os", term="pvtt"),
                       T("noise", "forward", "hr", endpoint="os", term="noise")], why)
    assert got["pvtt"] > 1.3 and why["pvtt"] == []
    assert np.isnan(got["noise"])       # not selected: no HR on this replicate
    assert why["noise"] == ["term not in the fitted model (not selected, or constant)"]


def test_arr_nnt_rmst(cohort):
    got = run(cohort, [T("arr", "crude", "arr", endpoint="os", contrast=["Trt", "Ref"], time=12),
                       T("nnt", "crude", "nnt", endpoint="os", contrast=["Trt", "Ref"], time=12),
                       T("rmst", "crude", "rmst", endpoint="os", arm="Trt", time=24)])
    assert got["nnt"] == pytest.approx(1 / got["arr"])
    assert 0 < got["rmst"] < 24


def test_median_difference_is_the_difference_of_the_arms_km_medians(cohort):
    """"Extends the median by 7 months": the first arm's KM median minus the second's,
    from the medians km_median gives (weighted in an IPTW analysis); the contrast's order
    sets the sign."""
    from lifelines import KaplanMeierFitter
    got = run(cohort, [
        T("d", "crude", "median_difference", endpoint="os", contrast=["Trt", "Ref"]),
        T("d_rev", "crude", "median_difference", endpoint="os", contrast=["Ref", "Trt"]),
        T("w", "iptw", "median_difference", endpoint="os", contrast=["Trt", "Ref"]),
        T("w1", "iptw", "km_median", endpoint="os", arm="Trt"),
        T("w0", "iptw", "km_median", endpoint="os", arm="Ref"),
    ])
    df = frame(cohort)
    med = [KaplanMeierFitter().fit(df.os_time[df.treated == z], df.os_event[df.treated == z])
           .median_survival_time_ for z in (1, 0)]
    assert got["d"] == pytest.approx(med[0] - med[1], rel=1e-12) and got["d"] > 0
    assert got["d_rev"] == -got["d"]
    assert got["w"] == got["w1"] - got["w0"]


def test_binding_problems_name_target_and_reason(cohort):
    plan, compiled = compiled_plan(cohort, PLAN)
    tp = Problems("targets.toml")
    bad = [T("a", "nowhere", "hr", endpoint="os", contrast=["Trt", "Ref"]),
           T("b", "mv", "km_median", endpoint="os", arm="Trt"),
           T("c", "crude", "hr", endpoint="ttp", contrast=["Trt", "Ref"]),
           T("d", "crude", "km_median", endpoint="os", arm="Nope"),
           T("e", "crude", "p_value", endpoint="os"),
           T("f", "mv", "hr", endpoint="os", term="noise")]
    for i, t in enumerate(bad):
        assert bind_target(t, i, compiled, plan, tp) is None
    kinds = [(p.key, p.kind, p.severity) for p in tp]
    assert kinds == [
        ("targets[0].analysis", "missing-analysis", "error"),
        ("targets[1].quantity", "estimate-not-listed", "error"),
        ("targets[2].endpoint", "not-generated", "warning"),
        ("targets[3].arm", "unknown-arm", "error"),
        ("targets[4].quantity", "unknown-quantity", "warning"),
        ("targets[5].term", "not-generated", "warning"),
    ]
