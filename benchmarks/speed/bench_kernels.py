"""Each kernel of the replicate against its reference, on one seed-000 cohort (n = 423).

Every pair first checks (outside the timed call) that our result equals the reference's to
a stated tolerance; the Cox kernels are also checked against R ``survival::coxph``
(``reference/cox_423``, relative 1e-8, with and without tied event times).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from tacebench.benchmarks.speed import pipelines as P


@pytest.fixture(scope="module")
def prepared(cohort423):
    """The inputs each kernel sees inside the replicate."""
    from tacebench.estimators.kernels import fit_logistic
    from tacebench.estimators.kernels import iptw_weights_kernel

    X = P.ps_design(cohort423)
    z = cohort423["treated"].astype(np.float64)
    ps = fit_logistic(X, z, np.ones(z.size)).fitted
    w = iptw_weights_kernel(ps, z, "ATE", False, P.TRUNCATE)
    return {"X": X, "z": z, "ps": ps, "w": w, "time": cohort423["os_time"],
            "event": cohort423["os_event"]}


# ------------------------------------------------------------------- cohort generation


@pytest.mark.benchmark(group="generate cohort (n=423)")
@pytest.mark.parametrize("with_ps", [False, True], ids=["without_true_ps", "with_true_ps"])
def test_generate_cohort(benchmark, plan423, with_ps):
    from tacebench import simulate
    benchmark.extra_info.update(case=f"generate_{'with' if with_ps else 'without'}_ps",
                                side="ours")
    c = simulate.generate_cohort(plan423, seed=1, with_ps=with_ps)
    assert c.n == P.N_PUBLISHED and np.isfinite(c.columns["true_ps"]).all() == with_ps
    benchmark(simulate.generate_cohort, plan423, seed=1, with_ps=with_ps)


@pytest.mark.benchmark(group="generate cohort (n=423)")
def test_generate_cohort_batch(benchmark, plan423):
    """``simulate.generate_cohort_batch`` of ``P.BATCH`` seeds (row r equals
    ``generate_cohort(seed=r)`` bit for bit, checked here on the first rows); time per
    cohort: the call's time over ``P.BATCH``."""
    from tacebench import simulate
    seeds = list(range(1, P.BATCH + 1))
    batch = simulate.generate_cohort_batch(plan423, seeds, with_ps=False)
    for r in (0, 1, P.BATCH - 1):
        one = simulate.generate_cohort(plan423, seed=seeds[r], with_ps=False).columns
        for k, v in one.items():
            assert np.array_equal(batch.columns[k][r], v, equal_nan=True), (r, k)
    benchmark.extra_info.update(case="generate_batch", side="ours", per_call=P.BATCH)
    benchmark(simulate.generate_cohort_batch, plan423, seeds, with_ps=False)


# ------------------------------------------------------------------- propensity model


def _logit_guard(prepared):
    from tacebench.estimators.kernels import fit_logistic

    import statsmodels.api as sm

    fit = fit_logistic(prepared["X"], prepared["z"], np.ones(423))
    ref = sm.Logit(prepared["z"], prepared["X"]).fit(disp=0, tol=1e-12).params
    assert fit.status.ok
    np.testing.assert_allclose(fit.coef, ref, rtol=1e-8, atol=1e-10)


@pytest.mark.benchmark(group="logistic PS model (n=423, 20 coefficients)")
def test_logistic_ours(benchmark, prepared):
    from tacebench.estimators.kernels import fit_logistic

    _logit_guard(prepared)
    benchmark.extra_info.update(case="logistic", side="ours", ref="logistic_ref")
    ones = np.ones(prepared["z"].size)
    benchmark(fit_logistic, prepared["X"], prepared["z"], ones)


@pytest.mark.benchmark(group="logistic PS model (n=423, 20 coefficients)")
def test_logistic_statsmodels(benchmark, prepared):
    import statsmodels.api as sm

    _logit_guard(prepared)
    benchmark.extra_info.update(case="logistic_ref", side="reference")
    benchmark(lambda: sm.Logit(prepared["z"], prepared["X"]).fit(disp=0))


# ------------------------------------------------------------------------- weights


@pytest.mark.benchmark(group="ATE weights truncated 1/99 (n=423)")
def test_weights_ours(benchmark, prepared):
    from tacebench.estimators.kernels import iptw_weights_kernel

    ps, z = prepared["ps"], prepared["z"]
    np.testing.assert_allclose(iptw_weights_kernel(ps, z, "ATE", False, P.TRUNCATE),
                               P.reference_weights(ps, z), rtol=1e-15)
    benchmark.extra_info.update(case="weights", side="ours", ref="weights_ref")
    benchmark(iptw_weights_kernel, ps, z, "ATE", False, P.TRUNCATE)


@pytest.mark.benchmark(group="ATE weights truncated 1/99 (n=423)")
def test_weights_numpy(benchmark, prepared):
    benchmark.extra_info.update(case="weights_ref", side="reference")
    benchmark(P.reference_weights, prepared["ps"], prepared["z"])


# ------------------------------------------------------------------------------ Cox

COX_CASES = [("untied", "breslow"), ("untied", "efron"), ("tied", "breslow"), ("tied", "efron")]
COX_TARGET_US = {"breslow": 120, "efron": 300}


def _cox_inputs(cox_case, ties_kind):
    data, _ = cox_case
    col = "time" if ties_kind == "untied" else "time_month"
    return (data[col].to_numpy(), data["event"].to_numpy(),
            data[["treated"]].to_numpy(np.float64), data["w"].to_numpy())


@pytest.mark.benchmark(group="weighted Cox, robust SE (n=423)")
@pytest.mark.parametrize("ties_kind, ties", COX_CASES, ids=[f"{a}-{b}" for a, b in COX_CASES])
def test_cox_ours(benchmark, cox_case, ties_kind, ties):
    """Against R ``coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE,
    ties = ties)`` to 1e-8 relative (coefficient and robust SE)."""
    from tacebench.estimators.kernels import fit_cox

    t, e, X, w = _cox_inputs(cox_case, ties_kind)
    fit = fit_cox(t, e, X, w, ties=ties, robust=True)
    r = cox_case[1][f"{ties_kind}_{ties}"]
    np.testing.assert_allclose(fit.coef[0], r["coef"], rtol=1e-8)
    np.testing.assert_allclose(fit.robust_se[0], r["robust_se"], rtol=1e-8)
    np.testing.assert_allclose(fit.se[0], r["se"], rtol=1e-8)
    # lifelines has only Efron, which is Breslow when no deaths are tied
    ref = None if (ties_kind, ties) == ("tied", "breslow") else f"cox_lifelines_{ties_kind}"
    benchmark.extra_info.update(case=f"cox_{ties}_{ties_kind}", side="ours", ref=ref,
                                target_us=COX_TARGET_US[ties])
    benchmark(fit_cox, t, e, X, w, ties=ties, robust=True)


@pytest.mark.benchmark(group="weighted Cox, robust SE (n=423)")
@pytest.mark.parametrize("ties_kind, ties", COX_CASES, ids=[f"{a}-{b}" for a, b in COX_CASES])
def test_cox_batch(benchmark, cox_case, ties_kind, ties):
    """``estimators.batch`` on ``P.BATCH`` replicates, each a row permutation of the same
    data (so the sort does its full work); every replicate against R's ``coxph`` to 1e-8.
    Time per replicate: the call's time over ``P.BATCH`` (``per_call``)."""
    from tacebench.estimators.kernels import fit_cox_rows

    t, e, X, w = _cox_inputs(cox_case, ties_kind)
    rng = np.random.default_rng(1)
    perm = np.stack([rng.permutation(t.size) for _ in range(P.BATCH)])
    args = (t[perm], e[perm].astype(np.float64), X[:, 0][perm], w[perm])
    coef, se, rse, *_ = fit_cox_rows(*args, ties=ties)
    r = cox_case[1][f"{ties_kind}_{ties}"]
    np.testing.assert_allclose(coef, r["coef"], rtol=1e-8)
    np.testing.assert_allclose(rse, r["robust_se"], rtol=1e-8)
    np.testing.assert_allclose(se, r["se"], rtol=1e-8)
    ref = None if (ties_kind, ties) == ("tied", "breslow") else f"cox_lifelines_{ties_kind}"
    benchmark.extra_info.update(case=f"cox_{ties}_{ties_kind}_batch", side="ours", ref=ref,
                                target_us=COX_TARGET_US[ties], per_call=P.BATCH)
    benchmark(fit_cox_rows, *args, ties=ties)


@pytest.mark.benchmark(group="weighted Cox, robust SE (n=423)")
@pytest.mark.parametrize("ties_kind", ["untied", "tied"])
def test_cox_lifelines(benchmark, cox_case, ties_kind):
    """lifelines (Efron only; equal to Breslow without tied deaths). Its coefficient agrees
    with R to ~1e-8; its robust SE ignores ties in the sandwich (off by ~1.6% here on tied
    data), recorded as ``robust_se_rel_error``."""
    import pandas as pd
    from lifelines import CoxPHFitter

    t, e, X, w = _cox_inputs(cox_case, ties_kind)
    df = pd.DataFrame({"time": t, "event": e, "treated": X[:, 0], "w": w})

    def fit():
        return CoxPHFitter().fit(df, "time", "event", weights_col="w", robust=True)

    r = cox_case[1][f"{ties_kind}_efron"]
    res = fit()
    np.testing.assert_allclose(res.params_["treated"], r["coef"], rtol=1e-6)
    rel = float(res.standard_errors_["treated"] / r["robust_se"] - 1.0)
    assert abs(rel) < (1e-6 if ties_kind == "untied" else 0.05)
    benchmark.extra_info.update(case=f"cox_lifelines_{ties_kind}", side="reference",
                                robust_se_rel_error=rel)
    benchmark(fit)


# ------------------------------------------------------------------------- Kaplan-Meier


def _lifelines_km(t, e, w):
    from lifelines import KaplanMeierFitter
    from lifelines.exceptions import StatisticalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # non-integer weights
        return KaplanMeierFitter().fit(t, e, weights=w)


@pytest.fixture(scope="module")
def km_agrees(prepared):
    """Weighted KM curve equal to lifelines' to 1e-12 at every observed time; same median."""
    from tacebench.estimators.kernels import fit_km

    t, e, w = prepared["time"], prepared["event"], prepared["w"]
    ours = fit_km(t, e, w, "xie_liu")
    ref = _lifelines_km(t, e, w)
    np.testing.assert_allclose(ours.survival,
                               ref.survival_function_.iloc[1:, 0].to_numpy(), rtol=1e-12)
    assert ours.median().estimate == ref.median_survival_time_
    return True


@pytest.mark.benchmark(group="weighted Kaplan-Meier + median (n=423)")
def test_km_ours(benchmark, prepared, km_agrees):
    from tacebench.estimators.kernels import fit_km

    t, e, w = prepared["time"], prepared["event"], prepared["w"]
    benchmark.extra_info.update(case="km", side="ours", ref="km_ref")
    benchmark(lambda: fit_km(t, e, w, "xie_liu").median())


@pytest.mark.benchmark(group="weighted Kaplan-Meier + median (n=423)")
def test_km_lifelines(benchmark, prepared, km_agrees):
    t, e, w = prepared["time"], prepared["event"], prepared["w"]
    benchmark.extra_info.update(case="km_ref", side="reference")
    benchmark(lambda: _lifelines_km(t, e, w).median_survival_time_)


# ---------------------------------------------------------------------------- log-rank


@pytest.fixture(scope="module")
def logrank_agrees(prepared):
    from lifelines.statistics import logrank_test

    from tacebench.estimators.kernels import logrank_kernel

    t, e, z = prepared["time"], prepared["event"], prepared["z"]
    chi2 = logrank_kernel(t, e, z.astype(np.intp), 2)[0]
    ref = logrank_test(t[z == 0], t[z == 1], e[z == 0], e[z == 1]).test_statistic
    np.testing.assert_allclose(chi2, ref, rtol=1e-10)
    return True


@pytest.mark.benchmark(group="log-rank, 2 groups (n=423)")
def test_logrank_ours(benchmark, prepared, logrank_agrees):
    from tacebench.estimators.kernels import logrank_kernel

    codes = prepared["z"].astype(np.intp)
    benchmark.extra_info.update(case="logrank", side="ours", ref="logrank_ref")
    benchmark(logrank_kernel, prepared["time"], prepared["event"], codes, 2)


@pytest.mark.benchmark(group="log-rank, 2 groups (n=423)")
def test_logrank_lifelines(benchmark, prepared, logrank_agrees):
    from lifelines.statistics import logrank_test

    t, e, z = prepared["time"], prepared["event"], prepared["z"]
    benchmark.extra_info.update(case="logrank_ref", side="reference")
    benchmark(lambda: logrank_test(t[z == 0], t[z == 1], e[z == 0], e[z == 1]).test_statistic)


# ---------------------------------------------------------------------------- matching


@pytest.fixture(scope="module")
def matching_agrees(prepared):
    """Same matched pairs as the brute-force greedy reference (kernel and public function)."""
    from tacebench.estimators.matching_nearest import match_nearest
    from tacebench.estimators.kernels import match_nearest_kernel

    ps, z = prepared["ps"], prepared["z"]
    ref = P.reference_greedy_match(np.log(ps / (1 - ps)), z, P.CALIPER * P.pooled_logit_sd(ps, z))
    for m in (match_nearest_kernel(ps, z, caliper=P.CALIPER), match_nearest(ps, z, caliper=P.CALIPER)):
        ours = np.column_stack([m.treated_index, m.control_index[:, 0]])
        np.testing.assert_array_equal(ours, ref)
    return True


@pytest.mark.benchmark(group="1:1 NN matching, caliper 0.2 SD logit (n=423)")
def test_matching_ours(benchmark, prepared, matching_agrees):
    from tacebench.estimators.kernels import match_nearest_kernel

    benchmark.extra_info.update(case="matching", side="ours", ref="matching_ref")
    benchmark(match_nearest_kernel, prepared["ps"], prepared["z"], caliper=P.CALIPER)


@pytest.mark.benchmark(group="1:1 NN matching, caliper 0.2 SD logit (n=423)")
def test_matching_bruteforce(benchmark, prepared, matching_agrees):
    ps, z = prepared["ps"], prepared["z"]
    benchmark.extra_info.update(case="matching_ref", side="reference")
    benchmark(lambda: P.reference_greedy_match(np.log(ps / (1 - ps)), z,
                                               P.CALIPER * P.pooled_logit_sd(ps, z)))
