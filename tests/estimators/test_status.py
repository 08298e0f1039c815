"""The kernel contract: every kernel result carries a status decided in estimators.status,
kernels never raise on data, and the validating functions agree with their kernels."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.estimators import cox_ph, kaplan_meier, logistic_regression, match_nearest
from tacebench.estimators.kernels import (Estimability, fit_cox, fit_km, fit_logistic,
                                          iptw_weights_kernel, logrank_kernel,
                                          match_nearest_kernel)
from tacebench.estimators.propensity import SeparationError
from tacebench.estimators.status import (BOOTSTRAP_PS_FLOOR, bootstrap_ps_failed, cox_status,
                                         logistic_status, monte_carlo_ps_failed)
from tacebench.estimators.weights import iptw_weights


def _normal(n=200, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + x @ [0.8, -0.5])))).astype(float)
    return x, y


def _quasi_separated(n=100, seed=0):
    """A binary covariate whose level 1 has only y = 1: quasi-complete separation on which
    Newton stops with a negligible relative step (``newton_converged`` is True)."""
    rng = np.random.default_rng(seed)
    b = (rng.random(n) < 0.3).astype(float)
    y = np.where(b == 1, 1.0, (rng.random(n) < 0.4).astype(float))
    return np.column_stack([np.ones(n), b, rng.standard_normal(n)]), y


# ------------------------------------------------------------------------------ logistic

def test_normal_logistic_fit_is_ok_and_agrees_with_logistic_regression():
    x, y = _normal()
    Xa = np.column_stack([np.ones(len(y)), x])
    fit = fit_logistic(Xa, y, np.ones(len(y)))
    assert fit.status is Estimability.OK and fit.status.ok
    assert fit.converged and fit.newton_converged and fit.separating_direction is None
    res = logistic_regression(x, y)
    assert res.status is Estimability.OK and res.converged and not res.separation
    np.testing.assert_array_equal(res.coef, fit.coef)
    np.testing.assert_array_equal(res.fitted, fit.fitted)
    np.testing.assert_array_equal(-res.hessian, fit.information)


def test_separated_data_are_separated_and_not_converged():
    """Regression: the kernel used to report ``converged=True`` on these data."""
    X, y = _quasi_separated()
    fit = fit_logistic(X, y, np.ones(len(y)))
    assert fit.newton_converged  # Newton's own flag: a negligible step
    assert fit.status is Estimability.SEPARATED
    assert not fit.converged
    assert fit.separating_direction is not None and fit.separating_direction[1] != 0
    res = logistic_regression(X[:, 1:], y, on_separation="flag")
    assert res.status is Estimability.SEPARATED and res.separation and not res.converged
    np.testing.assert_array_equal(res.coef, fit.coef)
    with pytest.raises(SeparationError):
        logistic_regression(X[:, 1:], y)


def test_complete_separation_is_separated():
    x = np.r_[np.linspace(-2, -0.1, 20), np.linspace(0.1, 2, 20)]
    y = (x > 0).astype(float)
    fit = fit_logistic(np.column_stack([np.ones(40), x]), y, np.ones(40))
    assert fit.status is Estimability.SEPARATED and not fit.converged


def test_logistic_status_is_the_one_rule():
    """The status function and the kernel result give the same verdict; a converged fit
    below the intercept-only model is NOT_CONVERGED; an OK fit does not run the LP."""
    x, y = _normal()
    Xa = np.column_stack([np.ones(len(y)), x])
    w = np.ones(len(y))
    fit = fit_logistic(Xa, y, w)
    assert logistic_status(Xa, y, w, fit.fitted, fit.coef, True) == (Estimability.OK, None)
    beta = np.array([0.0, 5.0, 5.0])  # far from the MLE, far below the null model
    status, _ = logistic_status(Xa, y, w, np.full(len(y), 0.3), beta, True)
    assert status is Estimability.NOT_CONVERGED
    assert logistic_status(Xa, y, w, fit.fitted, fit.coef, False)[0] is \
        Estimability.NOT_CONVERGED


def test_caller_policies_are_named_and_keep_their_rules():
    X, y = _quasi_separated()
    fit = fit_logistic(X, y, np.ones(len(y)))
    # benchmarks.methods: failed only when a PS is exactly 0 or 1
    assert monte_carlo_ps_failed(fit) == bool(((fit.fitted <= 0) | (fit.fitted >= 1)).any())
    # iptw_cox refits: Newton's flag and a floor of 1e-10
    assert bootstrap_ps_failed(fit) == (not fit.newton_converged or
                                        np.minimum(fit.fitted, 1 - fit.fitted).min()
                                        < BOOTSTRAP_PS_FLOOR)
    x, y2 = _normal()
    ok = fit_logistic(np.column_stack([np.ones(len(y2)), x]), y2, np.ones(len(y2)))
    assert not monte_carlo_ps_failed(ok) and not bootstrap_ps_failed(ok)


@pytest.mark.parametrize("case", ["one_valued", "rank_deficient", "zero_weights", "nan"])
def test_fit_logistic_never_raises_on_data(case):
    x, y = _normal(60)
    X = np.column_stack([np.ones(60), x])
    w = np.ones(60)
    if case == "one_valued":
        y = np.ones(60)
    elif case == "rank_deficient":
        X = np.column_stack([X, X[:, 1]])
    elif case == "zero_weights":
        w = np.zeros(60)
    else:
        X = X.copy()
        X[3, 1] = np.nan
    with np.errstate(all="ignore"):
        fit = fit_logistic(X, y, w)
        status = fit.status
    assert isinstance(status, Estimability)
    if case == "one_valued":
        assert status is not Estimability.OK


# ------------------------------------------------------------------------------ Cox

def _surv(n=120, seed=3):
    rng = np.random.default_rng(seed)
    z = (rng.random(n) < 0.5).astype(float)
    t = rng.exponential(1 / np.exp(0.5 * z))
    e = (rng.random(n) < 0.8).astype(float)
    return t, e, z


def test_normal_cox_fit_is_ok_and_agrees_with_cox_ph():
    t, e, z = _surv()
    fit = fit_cox(t, e, z[:, None], np.ones(len(t)))
    assert fit.status is Estimability.OK and fit.estimable
    res = cox_ph(t, e, z)
    assert res.status is Estimability.OK
    np.testing.assert_array_equal(res.coef, fit.coef)
    np.testing.assert_array_equal(res.se, fit.se)


def test_monotone_cox_is_monotone():
    t, e, z = _surv()
    e = np.where(z == 1, 0.0, e)  # no events in one arm: the HR diverges
    fit = fit_cox(t, e, z[:, None], np.ones(len(t)))
    assert fit.status is Estimability.MONOTONE_LIKELIHOOD and not fit.estimable
    assert np.isinf(fit.coef[0]) and np.isnan(fit.se[0])
    assert cox_ph(t, e, z).status is Estimability.MONOTONE_LIKELIHOOD


def test_singular_and_no_event_cox():
    t, e, z = _surv()
    X = np.column_stack([z, 2 * z])
    assert fit_cox(t, e, X, np.ones(len(t))).status is Estimability.SINGULAR
    none = fit_cox(t, np.zeros(len(t)), z[:, None], np.ones(len(t)))
    assert none.status is Estimability.NO_EVENTS and np.isnan(none.coef).all()
    empty = fit_cox(t[:0], e[:0], z[:0, None], np.ones(0))
    assert empty.status is Estimability.NO_EVENTS and np.isnan(empty.coef).all()
    assert cox_status(10, False, False, True, np.array([np.nan])) is Estimability.NOT_CONVERGED


# ------------------------------------------------------------------------------ KM, log-rank

def test_km_kernel_status_and_agreement():
    t, e, _ = _surv()
    fit = fit_km(t, e, None, "greenwood")
    assert fit.status is Estimability.OK
    pub = kaplan_meier(t, e)
    np.testing.assert_array_equal(pub.survival, fit.survival)
    assert fit_km(t[:0], e[:0], None, "greenwood").status is Estimability.EMPTY


def test_logrank_kernel_never_raises_with_one_group():
    t, e, _ = _surv()
    chi2, *_ = logrank_kernel(t, e, np.zeros(len(t), dtype=np.intp), 2)
    assert np.isnan(chi2) or chi2 == 0.0


# ------------------------------------------------------------------------------ matching, weights

def test_match_kernel_reports_no_match_and_the_public_function_raises():
    ps = np.r_[np.full(10, 0.9), np.full(10, 0.1)]
    z = np.r_[np.ones(10), np.zeros(10)]
    m = match_nearest_kernel(ps, z, caliper=0.01, caliper_scale="raw")
    assert m.status is Estimability.NO_MATCH and m.rows.size == 0
    assert "caliper" in m.message
    with pytest.raises(ValueError, match="met by no treated unit"):
        match_nearest(ps, z, caliper=0.01, caliper_scale="raw")
    ok = match_nearest_kernel(np.random.default_rng(2).uniform(0.2, 0.8, 20), z)
    assert ok.status is Estimability.OK and ok.message == ""


def test_match_kernel_one_arm_does_not_raise():
    m = match_nearest_kernel(np.full(5, 0.5), np.ones(5), caliper=0.2)
    assert m.status is Estimability.NO_MATCH


def test_weights_kernel_agrees_with_iptw_weights():
    x, z = _normal()
    ps = logistic_regression(x, z).fitted
    np.testing.assert_array_equal(iptw_weights_kernel(ps, z, "ATE", True, (1.0, 99.0)),
                                  iptw_weights(ps, z, stabilized=True, truncate=(1, 99)))
