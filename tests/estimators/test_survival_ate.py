"""Marginal survival risks and RMST by g-formula, IPTW-IPCW and AIPTW: agreement with
riskRegression::ate, the Cox coefficient IF against survival::coxph's robust SE, and bad
input."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.estimators import survival_ate, survival_rmst
from tacebench.estimators.kernels import survival_ate_kernel
from tacebench.estimators.survival import SurvivalATE
from tacebench.estimators.survival.ate_nuisance import fit_breslow_cox
from tests.reference.cases import load_case

COVS = ["size", "afp400", "cp_b"]
QUANTITIES = ("risk_control", "risk_treated", "difference", "ratio")


@pytest.fixture(scope="module")
def case():
    return load_case("ate_survival")


def _values(res: SurvivalATE, e: int) -> dict:
    return {"risk_control": (res.risk[e, 0], res.se[e, 0]),
            "risk_treated": (res.risk[e, 1], res.se[e, 1]),
            "difference": (res.difference[e], res.se_difference[e]),
            "ratio": (res.ratio[e], res.se_ratio[e])}


def _compare(res: SurvivalATE, ref: dict, *, se: bool = True) -> None:
    se_key = {"risk_control": "se_control", "risk_treated": "se_treated",
              "difference": "se_difference", "ratio": "se_ratio"}
    for e, name in enumerate(res.estimators):
        got = _values(res, e)
        for q in QUANTITIES:
            est, s = got[q]
            np.testing.assert_allclose(est, ref[name][q], rtol=0, atol=1e-6,
                                       err_msg=f"{name} {q}")
            if se:
                np.testing.assert_allclose(s, ref[name][se_key[q]], rtol=1e-4,
                                           err_msg=f"{name} SE of {q}")


@pytest.mark.parametrize("censoring", ["cox", "marginal"])
def test_matches_riskregression_ate(case, censoring):
    """R (tests/reference/ate_survival): confint(ate(event = coxph(Surv(time, event) ~
    treated + size + afp400 + cp_b), treatment = glm(treated ~ size + afp400 + cp_b,
    binomial), censor = coxph(Surv(time, event == 0) ~ treated + size + afp400 + cp_b) or
    ~ 1, estimator = c("GFORMULA", "IPTW", "AIPTW"), times = c(6, 12, 24))): risks to
    1e-6, influence-function SEs to a relative 1e-4."""
    data, exp = case
    res = survival_ate(data.time, data.event, data.treated, data[COVS],
                       horizons=exp["horizons"], censoring=censoring)
    assert res.estimators == ("gformula", "iptw", "aiptw")
    _compare(res, exp[f"{censoring}_censoring"])


def test_tied_times_breslow_point_estimates(case):
    """R: the same ate() on times rounded up to whole months, both Cox models with
    ties = "breslow", estimator = c("GFORMULA", "IPTW"): risks, differences and ratios to
    1e-6. The SEs are not compared: riskRegression's iidCox IF of the Cox coefficients
    differs from survival's score residuals when event times tie (next test)."""
    data, exp = case
    res = survival_ate(data.time_tied, data.event, data.treated, data[COVS],
                       horizons=exp["horizons"], estimators=("gformula", "iptw"))
    _compare(res, exp["tied_breslow"], se=False)


def test_tied_times_coefficient_if_is_coxph_robust(case):
    """R: coxph(Surv(time_tied, event) ~ treated + size + afp400 + cp_b, ties = "breslow",
    robust = TRUE): our IF of the coefficients gives its robust SE; riskRegression's
    iidCox gives another (recorded, to show where the SEs part)."""
    data, exp = case
    D = np.column_stack([data.treated, data[COVS]]).astype(float)
    fit = fit_breslow_cox(data.time_tied.to_numpy(float), data.event.to_numpy(float), D)
    ref = exp["tied_breslow"]
    np.testing.assert_allclose(fit.coef, ref["outcome_coef"], rtol=1e-7)
    se = np.sqrt((fit.if_beta**2).sum(axis=0))
    np.testing.assert_allclose(se, ref["outcome_se_robust"], rtol=1e-7)
    assert np.abs(se / np.asarray(ref["outcome_se_iidcox"]) - 1).max() > 1e-3


def test_to_frame_rows_and_wald_limits(case):
    data, exp = case
    res = survival_ate(data.time, data.event, data.treated, data[COVS],
                       horizons=[6, 12], estimators="aiptw", censoring="marginal")
    frame = res.to_frame()
    assert len(frame) == 1 * 2 * 4
    row = frame[(frame.quantity == "difference") & (frame.horizon == 12)].iloc[0]
    assert row.estimate == pytest.approx(res.difference[0, 1])
    assert row.lower == pytest.approx(row.estimate - 1.959963984540054 * row.se)
    assert frame.loc[frame.quantity.str.startswith("risk"), "p_value"].isna().all()


def test_kernel_reports_status_instead_of_raising():
    """A treatment model that separates gives NaN and a non-OK status from the kernel; the
    public function raises."""
    rng = np.random.default_rng(3)
    n = 60
    x = rng.normal(size=n)
    z = (x > 0).astype(float)
    t = rng.exponential(10, n)
    e = (rng.uniform(size=n) < 0.7).astype(float)
    X = x[:, None]
    res = survival_ate_kernel(t, e, z, X, X, np.column_stack([z, X]), np.array([5.0]),
                              ("iptw",))
    assert not res.status.ok and np.isnan(res.risk).all()
    with pytest.raises(ValueError, match="not estimable"):
        survival_ate(t, e, z, X, horizons=[5.0], estimators=("iptw",))


@pytest.mark.parametrize("kwargs, message", [
    (dict(horizons=[12, 6]), "strictly increasing"),
    (dict(horizons=[0.0]), "horizons must be positive"),
    (dict(horizons=[500.0]), "last observed time"),
    (dict(horizons=[6], estimators=("gformula", "tmle")), "estimators must be one of"),
    (dict(horizons=[6], estimators=("iptw", "iptw")), "distinct"),
    (dict(horizons=[6], censoring="km"), "censoring must be one of"),
    (dict(horizons=[6], censoring="marginal", X_censoring=np.ones((300, 1))), "X_censoring"),
    (dict(horizons=[6], X_treatment=np.ones((299, 1))), "X_treatment has 299"),
    (dict(horizons=[6], conf_level=1.5), "conf_level"),
    (dict(horizons=[6], conf_level="0.95"), r"conf_level must be a number in \(0, 1\); got '0.95'"),
    (dict(horizons=[6], estimators="gformula", X_censoring=np.ones((300, 1))),
     r"X_censoring is only used by the estimators \['iptw', 'aiptw'\]"),
    (dict(horizons=[6], estimators="gformula", X_treatment=np.ones((300, 1))),
     "X_treatment is only used"),
])
def test_bad_options(case, kwargs, message):
    data, _ = case
    with pytest.raises(ValueError, match=message):
        survival_ate(data.time, data.event, data.treated, data[COVS], **kwargs)


def test_bad_data(case):
    data, _ = case
    X = data[COVS]
    with pytest.raises(ValueError, match="treated must be 0/1"):
        survival_ate(data.time, data.event, data.treated * 2, X, horizons=[6])
    with pytest.raises(ValueError, match="both arms"):
        survival_ate(data.time, data.event, np.ones(300), X, horizons=[6])
    with pytest.raises(ValueError, match="no events"):
        survival_ate(data.time, np.zeros(300), data.treated, X, horizons=[6])
    bad = X.to_numpy(float).copy()
    bad[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"X must be finite .*\[4, 1\]"):
        survival_ate(data.time, data.event, data.treated, bad, horizons=[6])


def test_rmst_matches_sums_over_riskregression_curves(case):
    """R: ate(..., times = every event time before 24, iid = TRUE) with Cox censoring;
    RMST_a(tau) = sum_k (1 - F_a(u_k)) (min(u_{k+1}, tau) - u_k)^+ and its IF the same sum
    over ate's IFs (189 time points): RMST to 1e-6, SEs to a relative 1e-4."""
    data, exp = case
    res = survival_rmst(data.time, data.event, data.treated, data[COVS],
                        horizons=exp["horizons"])
    ref = exp["rmst"]
    for e, name in enumerate(res.estimators):
        for arm, label in ((0, "control"), (1, "treated")):
            np.testing.assert_allclose(res.rmst[e, arm], ref[name][f"rmst_{label}"], atol=1e-6)
            np.testing.assert_allclose(res.se[e, arm], ref[name][f"se_{label}"], rtol=1e-4)
        np.testing.assert_allclose(res.difference[e], ref[name]["difference"], atol=1e-6)
        np.testing.assert_allclose(res.se_difference[e], ref[name]["se_difference"], rtol=1e-4)
    frame = res.to_frame()
    assert len(frame) == 3 * 3 * 3 and frame.p_value.notna().sum() == 9


def test_rmst_without_events_before_the_horizon_is_the_horizon(case):
    data, _ = case
    first = float(data.time[data.event == 1].min())
    res = survival_rmst(data.time, data.event, data.treated, data[COVS],
                        horizons=[first / 2, first])
    np.testing.assert_array_equal(res.rmst, np.broadcast_to([first / 2, first], res.rmst.shape))
    np.testing.assert_array_equal(res.se, 0.0)
