"""Rubin's rules (estimators.rubin) against R mice::pool / mice::pool.scalar."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.rubin import barnard_rubin_df, rubin_pool
from tests.reference.cases import load_case

REL = 1e-6


@pytest.mark.parametrize("scenario", ["ordinary", "high_fmi", "tiny_between", "small_dfcom", "many_m"])
def test_pool_scalar_matches_mice(scenario):
    """R: ``p <- mice::pool.scalar(Q, U, n = dfcom + 1, k = 1)``; CI ``qbar +/- qt(.975, df) sqrt(t)``,
    p ``2 * pt(-|qbar / sqrt(t)|, df)`` (tests/reference/rubin_pool)."""
    data, expected = load_case("rubin_pool")
    rows = data[data["scenario"] == scenario]
    e = expected["scenarios"][scenario]
    r = rubin_pool(rows["q"], rows["u"], df_complete=float(rows["dfcom"].iloc[0]))
    assert r.estimate == pytest.approx(e["qbar"], rel=REL)
    assert r.within == pytest.approx(e["ubar"], rel=REL)
    assert r.between == pytest.approx(e["b"], rel=REL)
    assert r.total == pytest.approx(e["t"], rel=REL)
    assert r.df == pytest.approx(e["df"], rel=REL)
    assert r.riv == pytest.approx(e["r"], rel=REL)
    assert r.fmi == pytest.approx(e["fmi"], rel=REL)
    assert r.ci == pytest.approx((e["lower"], e["upper"]), rel=REL)
    assert r.p_value == pytest.approx(e["p_value"], rel=REL)


def test_pool_matches_mice_pool_on_nhanes_lm():
    """R: ``summary(pool(with(mice(nhanes, m = 5, seed = 1), lm(chl ~ age + bmi))), conf.int = TRUE)``
    pooled from the per-imputation coefficients and SEs R reports (dfcom = df.residual)."""
    _, e = load_case("rubin_pool")
    nh = e["nhanes_lm"]
    for i, term in enumerate(nh["terms"]):
        r = rubin_pool(nh["estimates"][i], se=nh["se"][i], df_complete=nh["dfcom"])
        assert r.estimate == pytest.approx(nh["estimate"][i], rel=REL), term
        assert r.se == pytest.approx(nh["std_error"][i], rel=REL), term
        assert r.df == pytest.approx(nh["df"][i], rel=REL), term
        assert r.p_value == pytest.approx(nh["p_value"][i], rel=REL), term
        assert r.ci == pytest.approx((nh["lower"][i], nh["upper"][i]), rel=REL), term
        assert r.within == pytest.approx(nh["ubar"][i], rel=REL), term
        assert r.between == pytest.approx(nh["b"][i], rel=REL), term
        assert r.riv == pytest.approx(nh["riv"][i], rel=REL), term
        assert r.lambda_ == pytest.approx(nh["lambda"][i], rel=REL), term
        assert r.fmi == pytest.approx(nh["fmi"][i], rel=REL), term


def test_identical_estimates_reduce_to_complete_data():
    r = rubin_pool([0.5, 0.5, 0.5], [0.04, 0.04, 0.04])
    assert r.estimate == 0.5 and r.between == 0.0 and r.total == pytest.approx(0.04)
    # lambda floored at 1e-4 as in mice: df = (m - 1) / 1e-8
    assert r.df == pytest.approx(2e8)
    assert r.ci == pytest.approx((0.5 - 1.959964 * 0.2, 0.5 + 1.959964 * 0.2), rel=1e-6)


def test_to_frame_and_dict():
    r = rubin_pool([0.1, 0.3, 0.2], se=[0.1, 0.12, 0.11])
    f = r.to_frame()
    assert list(f[["estimate", "ci_lower", "ci_upper"]].iloc[0]) == [r.estimate, *r.ci]
    assert r.to_dict()["m"] == 3


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=20),
       st.floats(1e-3, 2.0), st.floats(1.0, 1e4) | st.just(np.inf))
def test_df_bounds_and_permutation(q, u, dfcom):
    q = np.array(q)
    u_arr = np.full(q.size, u)
    r = rubin_pool(q, u_arr, df_complete=dfcom)
    assert r.df > 0 and (np.isinf(dfcom) or r.df <= dfcom * (dfcom + 1) / (dfcom + 3) + 1e-9)
    assert r.total >= r.within
    assert 0 <= r.fmi <= 1 + 1e-12
    r2 = rubin_pool(q[::-1], u_arr, df_complete=dfcom)
    assert r2.estimate == pytest.approx(r.estimate) and r2.total == pytest.approx(r.total)


def test_barnard_rubin_df_infinite_dfcom_is_rubin_1987():
    assert barnard_rubin_df(5, 0.01, 0.05) == pytest.approx(4 / (1.2 * 0.01 / 0.05) ** 2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(estimates=[0.1], variances=[0.1]), "m >= 2"),
    (dict(estimates=[0.1, np.nan], variances=[0.1, 0.1]), "estimates"),
    (dict(estimates=[0.1, 0.2], variances=[0.1, -0.1]), "variances"),
    (dict(estimates=[0.1, 0.2], se=[0.1, -0.1]), "se"),
    (dict(estimates=[0.1, 0.2], variances=[0.1]), "mismatched lengths"),
    (dict(estimates=[0.1, 0.2]), "exactly one of variances and se"),
    (dict(estimates=[0.1, 0.2], variances=[0.1, 0.1], se=[0.1, 0.1]), "exactly one"),
    (dict(estimates=[0.1, 0.2], variances=[0.1, 0.1], df_complete=0), "df_complete"),
    (dict(estimates=[0.1, 0.2], variances=[0.1, 0.1], conf_level=1.5), "conf_level"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rubin_pool(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(conf_level="0.95"), r"conf_level must be a number in \(0, 1\); got '0.95'"),
    (dict(df_complete="5"), r"df_complete must be a number \(int or float\); got '5'"),
])
def test_arguments_of_the_wrong_type_are_named(kwargs, match):
    with pytest.raises(TypeError, match=match):
        rubin_pool([0.1, 0.2], [0.01, 0.02], **kwargs)


def test_df_complete_may_be_infinite_not_nan():
    assert rubin_pool([0.1, 0.2], [0.01, 0.02], df_complete=np.inf).df > 0
    with pytest.raises(ValueError, match=r"df_complete must be positive \(or inf\); got nan"):
        rubin_pool([0.1, 0.2], [0.01, 0.02], df_complete=np.nan)
