"""Absolute risk reduction between Kaplan–Meier curves and the Altman NNT
(estimators.risk_difference)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter

from tacebench.estimators.risk_difference import absolute_risk_reduction, nnt_label, risk_difference_at
from tacebench.estimators.survival import kaplan_meier
from tests.reference.cases import load_case

REL = 1e-6


@pytest.fixture(scope="module")
def case():
    return load_case("risk_difference_km")


def _curves(d, weighted):
    kw = dict(variance="ij") if weighted else {}
    arms = [d[d.treated == a] for a in (1, 0)]
    return [kaplan_meier(a.time, a.event, a.w if weighted else None, **kw) for a in arms]


@pytest.mark.parametrize("key, weighted", [("greenwood_12", False), ("greenwood_6", False),
                                           ("ij_12", True), ("ij_24", True)])
def test_matches_r_survfit(case, key, weighted):
    """R: ``s <- summary(survfit(Surv(time, event) ~ 1, data = arm [, weights = w, robust = TRUE]),
    times = t)`` per arm; ``ARR = s_T$surv - s_C$surv``, ``SE = sqrt(s_T$std.err^2 +
    s_C$std.err^2)``, Wald CI, ``NNT = 1 / ARR``."""
    d, e = case
    e = e[key]
    kt, kc = _curves(d, weighted)
    r = risk_difference_at(kt, kc, e["t"])
    assert r.survival_treated == pytest.approx(e["s_t"], rel=REL)
    assert r.se_control == pytest.approx(e["se_c"], rel=REL)
    assert r.arr == pytest.approx(e["arr"], rel=REL)
    assert r.se == pytest.approx(e["se"], rel=REL)
    assert r.ci == pytest.approx((e["lower"], e["upper"]), rel=REL)
    assert r.p_value == pytest.approx(e["p"], rel=REL)
    assert r.nnt == pytest.approx(e["nnt"], rel=REL)
    assert r.nnt_limits == pytest.approx((e["nnt_lower_limit"], e["nnt_upper_limit"]), rel=REL)
    assert r.ci_spans_zero == (e["lower"] <= 0 <= e["upper"])


def test_matches_lifelines(case):
    d, _ = case
    kt, kc = _curves(d, False)
    r = risk_difference_at(kt, kc, 12.0)
    s = []
    for a in (1, 0):
        sub = d[d.treated == a]
        s.append(KaplanMeierFitter().fit(sub.time, sub.event).survival_function_at_times(12.0).item())
    assert r.arr == pytest.approx(s[0] - s[1], rel=1e-10)


def test_xie_liu_default_under_weights(case):
    d, _ = case
    arms = [d[d.treated == a] for a in (1, 0)]
    kt, kc = [kaplan_meier(a.time, a.event, a.w) for a in arms]
    assert kt.variance == "xie_liu"
    r = risk_difference_at(kt, kc, 12)
    at_t, at_c = kt.survival_at([12]), kc.survival_at([12])
    assert r.se == pytest.approx(np.hypot(at_t.se[0], at_c.se[0]), rel=1e-12)


def test_altman_nnt_conventions():
    # benefit, CI excludes 0: NNTB 1/U to 1/L
    b = absolute_risk_reduction(0.6, 0.02, 0.4, 0.02)
    assert b.nnt_kind == "benefit" and not b.ci_spans_zero
    assert b.nnt == pytest.approx(5.0)
    lo, hi = b.ci
    assert b.describe() == f"NNTB 5.0 (95% CI NNTB {1 / hi:.1f} to {1 / lo:.1f})"
    # harm
    h = absolute_risk_reduction(0.3, 0.02, 0.5, 0.02)
    assert h.nnt_kind == "harm" and h.nnt == pytest.approx(-5.0)
    assert h.describe().startswith("NNTH 5.0 (95% CI NNTH ")
    # Altman's worked example: ARR 0.1 with CI about (-0.05, 0.25) -> NNTB 10 (NNTH 20 to inf to NNTB 4)
    se = 0.15 / 1.959963984540054
    a = absolute_risk_reduction(0.6, se / np.sqrt(2), 0.5, se / np.sqrt(2))
    assert a.ci == pytest.approx((-0.05, 0.25))
    assert a.ci_spans_zero
    assert a.nnt_limits == pytest.approx((-20.0, 4.0))
    assert a.describe() == "NNTB 10.0 (95% CI NNTH 20.0 to inf to NNTB 4.0)"
    z = absolute_risk_reduction(0.5, 0.0, 0.5, 0.0)
    assert z.nnt == np.inf and z.nnt_kind == "none" and nnt_label(z.nnt) == "inf"
    assert set(a.to_frame().columns) >= {"arr", "ci_lower", "nnt", "nnt_at_ci_upper", "nnt_kind"}


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1), st.floats(1e-4, 0.2), st.floats(1e-4, 0.2))
def test_swapping_arms_negates(st_, sc, et, ec):
    a = absolute_risk_reduction(st_, et, sc, ec)
    b = absolute_risk_reduction(sc, ec, st_, et)
    assert b.arr == pytest.approx(-a.arr, abs=1e-15)
    assert b.ci == pytest.approx((-a.ci[1], -a.ci[0]), abs=1e-12)
    assert b.se == a.se and b.p_value == pytest.approx(a.p_value)
    if a.ci[0] > 0 or a.ci[1] < 0:
        assert a.ci_spans_zero is False and np.sign(a.nnt_limits[0]) == np.sign(a.nnt_limits[1])


def test_bad_input(case):
    d, _ = case
    kt, kc = _curves(d, False)
    with pytest.raises(ValueError, match="t must be a finite non-negative"):
        risk_difference_at(kt, kc, -1)
    with pytest.raises(ValueError, match="t must be a number"):
        risk_difference_at(kt, kc, "12m")
    with pytest.raises(ValueError, match="beyond the last observed time of km_"):
        risk_difference_at(kt, kc, 1000)
    with pytest.raises(ValueError, match="km_control must be a KaplanMeier"):
        risk_difference_at(kt, [0.5], 12)
    with pytest.raises(ValueError, match="survival_treated must be a survival probability"):
        absolute_risk_reduction(1.2, 0.1, 0.5, 0.1)
    with pytest.raises(ValueError, match="se_control must be a finite non-negative"):
        absolute_risk_reduction(0.5, 0.1, 0.5, np.nan)
    with pytest.raises(ValueError, match="conf_level"):
        absolute_risk_reduction(0.5, 0.1, 0.5, 0.1, conf_level=2)


def test_a_time_given_as_a_string_is_refused(case):
    """``"5"`` used to be read as 5 (``float("5")``): times must be numbers."""
    d, _ = case
    kt, kc = _curves(d, False)
    with pytest.raises(TypeError, match=r"t must be a number \(int or float\); got '5'"):
        risk_difference_at(kt, kc, "5")
    with pytest.raises(TypeError, match=r"conf_level must be a number in \(0, 1\)"):
        absolute_risk_reduction(0.5, 0.1, 0.4, 0.1, conf_level="0.9")
