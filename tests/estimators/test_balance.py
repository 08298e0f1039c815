"""Standardized mean differences, variance ratios and the balance table (estimators.balance)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tacebench.estimators.balance import balance_table, standardized_mean_difference
from tacebench.estimators.matching_exact import match_exact
from tests.reference.cases import load_case

REL = 1e-6


@pytest.fixture(scope="module")
def case():
    return load_case("balance_smd")


@pytest.mark.parametrize("var", ["age", "afp", "male"])
def test_unweighted_matches_r(case, var):
    """R (tests/reference/balance_smd): ``(m1 - m0) / sqrt((s1^2 + s0^2) / 2)`` with ``var()``
    (continuous) or ``p (1 - p)`` (binary), as ``cobalt::col_w_smd(s.d.denom = "pooled")``;
    variance ratio ``var(x[tr]) / var(x[!tr])``."""
    d, e = case
    e = e[var]
    r = standardized_mean_difference(d[var], d["treated"])
    assert r.kind == ("binary" if var == "male" else "continuous")
    assert r.smd == pytest.approx(e["smd"], rel=REL)
    assert r.mean_treated[0] == pytest.approx(e["mean_t"], rel=REL)
    assert r.sd_control[0] == pytest.approx(e["sd_c"], rel=REL)
    if var == "male":
        assert np.isnan(r.variance_ratio) and np.isnan(e["vr"])
    else:
        assert r.variance_ratio == pytest.approx(e["vr"], rel=REL)
    assert standardized_mean_difference(d[var], d["treated"], denominator="treated").smd == \
        pytest.approx(e["smd_treated_denom"], rel=REL)
    assert standardized_mean_difference(d[var], d["treated"], denominator="all").smd == \
        pytest.approx(e["smd_all_denom"], rel=REL)


@pytest.mark.parametrize("var", ["age", "afp", "male"])
@pytest.mark.parametrize("wcol", ["w", "mw"])
def test_weighted_and_matched_match_r(case, var, wcol):
    """R: weighted means ``sum(w x) / sum(w)``, weighted variances
    ``cov.wt(cbind(x), wt = w / sum(w), method = "unbiased")$cov``; SMD over the unadjusted
    pooled SD (cobalt default) and over the weighted pooled SD (``denominator_weighted``)."""
    d, e = case
    e = e[var][wcol]
    r = standardized_mean_difference(d[var], d["treated"], d[wcol])
    assert r.weighted
    assert r.smd == pytest.approx(e["smd"], rel=REL)
    assert r.mean_treated[0] == pytest.approx(e["mean_t"], rel=REL)
    assert r.mean_control[0] == pytest.approx(e["mean_c"], rel=REL)
    assert r.sd_treated[0] == pytest.approx(e["sd_t"], rel=REL)
    assert r.sd_control[0] == pytest.approx(e["sd_c"], rel=REL)
    if var != "male":
        assert r.variance_ratio == pytest.approx(e["vr"], rel=REL)
    rw = standardized_mean_difference(d[var], d["treated"], d[wcol], denominator_weighted=True)
    assert rw.smd == pytest.approx(e["smd_weighted_denom"], rel=REL)


def test_categorical_yang_dalton_matches_r(case):
    """R: ``sqrt(t(d) %*% solve(S) %*% d)`` over levels 2..K with
    ``S_kk = (p1k (1 - p1k) + p0k (1 - p0k)) / 2``, ``S_kl = -(p1k p1l + p0k p0l) / 2``
    (Yang & Dalton 2012), plus per-level binary SMDs."""
    d, e = case
    e = e["child_pugh"]
    r = standardized_mean_difference(d["child_pugh"], d["treated"])
    assert r.kind == "categorical" and r.levels == ("A5", "A6", "B7")
    assert r.smd == pytest.approx(e["yd"], rel=REL)
    assert r.smd == pytest.approx(e["yd_reordered"], rel=REL)
    for i, lev in enumerate(r.levels):
        assert r.level_smd[i] == pytest.approx(e["levels"][lev]["smd"], rel=REL)
        assert r.mean_treated[i] == pytest.approx(e["levels"][lev]["mean_t"], rel=REL)
    assert r.count_treated.sum() == d["treated"].sum()
    for wcol in ("w", "mw"):
        rw = standardized_mean_difference(d["child_pugh"], d["treated"], d[wcol])
        assert rw.smd == pytest.approx(e[f"yd_{wcol}"], rel=REL)
        for i, lev in enumerate(rw.levels):
            assert rw.level_smd[i] == pytest.approx(e["levels"][lev][wcol]["smd"], rel=REL)
        rww = standardized_mean_difference(d["child_pugh"], d["treated"], d[wcol], denominator_weighted=True)
        assert rww.smd == pytest.approx(e[f"yd_{wcol}_weighted_denom"], rel=REL)


def test_balance_table_frame(case):
    d, e = case
    tab = balance_table(d, "treated", ["age", "male", "child_pugh", "afp"], weights="w")
    f = tab.to_frame()
    assert list(f["variable"]) == ["age", "male"] + ["child_pugh"] * 4 + ["afp"]
    assert f.loc[f["variable"] == "age", "smd"].item() == pytest.approx(e["age"]["smd"], rel=REL)
    assert f.loc[f["variable"] == "age", "smd_w"].item() == pytest.approx(e["age"]["w"]["smd"], rel=REL)
    head = f[(f["variable"] == "child_pugh") & f["level"].isna()]
    assert head["smd_w"].item() == pytest.approx(e["child_pugh"]["yd_w"], rel=REL)
    assert tab.sum_weights_treated == pytest.approx(e["age"]["w"]["sum_w_t"], rel=REL)
    assert tab.n_treated + tab.n_control == len(d)
    assert tab.smd(weighted=False)["male"] == pytest.approx(e["male"]["smd"], rel=REL)
    assert tab.max_abs_smd() == pytest.approx(tab.smd().abs().max())
    assert "age" in tab.imbalanced(weighted=False)
    # weighted counts of a binary row are sums of weights
    male = f[f["variable"] == "male"]
    assert male["treated_count_w"].item() == pytest.approx(d.loc[d.treated == 1, "w"].mul(d.male).sum())


def test_balance_table_integer_codes_with_levels(case):
    d, _ = case
    codes = d["child_pugh"].map({"A5": 0, "A6": 1, "B7": 2})
    frame = d.assign(child_pugh=codes)
    a = balance_table(frame, "treated", ["child_pugh"], categorical={"child_pugh": ["A5", "A6", "B7"]})
    b = balance_table(d, "treated", ["child_pugh"])
    assert a.unweighted[0].levels == ("A5", "A6", "B7")
    assert a.unweighted[0].smd == pytest.approx(b.unweighted[0].smd)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_two_level_categorical_equals_abs_binary(case):
    d, _ = case
    b = standardized_mean_difference(d["male"], d["treated"], d["w"])
    c = standardized_mean_difference(d["male"].astype(str), d["treated"], d["w"])
    assert c.kind == "categorical" and c.smd == pytest.approx(abs(b.smd), rel=1e-12)


def test_zero_difference_over_zero_sd_is_zero():
    r = standardized_mean_difference([1.0, 1.0, 1.0, 1.0], [0, 0, 1, 1], kind="continuous")
    assert r.smd == 0.0
    r = standardized_mean_difference([0.0, 0.0, 1.0, 1.0], [0, 0, 1, 1], kind="continuous")
    assert r.smd == np.inf


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.int64, st.integers(20, 80), elements=st.integers(0, 3)), st.integers(0, 2**32 - 1),
       st.sampled_from([1, 2]))
def test_smd_zero_after_exact_matching(x, seed, ratio):
    """After exact matching on x (estimators.matching_exact.match_exact, MatchIt-style
    weights), the SMD of x itself is 0, continuous or categorical."""
    rng = np.random.default_rng(seed)
    t = (rng.random(len(x)) < 0.5).astype(int)
    frame = pd.DataFrame({"x": x, "t": t})
    try:
        w = match_exact(frame, "t", ["x"], ratio=ratio, rng=rng).weights
    except ValueError:  # nobody matched: nothing to check
        return
    if min(np.count_nonzero(w[t == 1]), np.count_nonzero(w[t == 0])) < 2 or np.unique(x).size < 2:
        return
    for kind in ("continuous", "categorical"):
        r = standardized_mean_difference(x, t, w, kind=kind)
        assert abs(r.smd) < 1e-12
        assert np.allclose(r.level_smd, 0, atol=1e-12)


# |x| below 1e-100 (other than 0) is left out: a squared deviation of such a value is
# subnormal (1.4e-157 ** 2 = 2e-314), where products with weights lose relative precision
# in IEEE arithmetic, so scaling the weights by 0.5 moved a weighted SD by 2e-9 relative.
# That is the floating-point format, not the estimator; values of covariates in a
# cohort are never this small.
finite = st.floats(-1e3, 1e3, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-100)


@settings(max_examples=60, deadline=None)
@given(st.integers(10, 60).flatmap(lambda n: st.tuples(
    hnp.arrays(float, n, elements=finite), hnp.arrays(np.int8, n, elements=st.integers(0, 1)),
    hnp.arrays(float, n, elements=st.floats(0.1, 10)))), st.floats(1e-3, 1e3))
def test_label_swap_and_weight_scaling(data, c):
    x, t, w = data
    if min(t.sum(), (1 - t).sum()) < 2:
        return
    r = standardized_mean_difference(x, t, w)
    s = standardized_mean_difference(x, 1 - t, w)
    k = standardized_mean_difference(x, t, c * w)
    if np.isfinite(r.smd):
        assert s.smd == pytest.approx(-r.smd, rel=1e-9, abs=1e-9)
        assert k.smd == pytest.approx(r.smd, rel=1e-9, abs=1e-9)
    if np.isfinite(r.variance_ratio) and r.variance_ratio > 0:
        assert s.variance_ratio == pytest.approx(1 / r.variance_ratio, rel=1e-9)
    kd = standardized_mean_difference(x, t, c * w, denominator_weighted=True)
    rd = standardized_mean_difference(x, t, w, denominator_weighted=True)
    if np.isfinite(rd.smd):
        assert kd.smd == pytest.approx(rd.smd, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_categorical_invariant_to_label_swap_and_level_order(seed):
    rng = np.random.default_rng(seed)
    x = rng.choice(list("abcd"), 80)
    t = (rng.random(80) < 0.4).astype(int)
    if min(t.sum(), 80 - t.sum()) < 2:
        return
    a = standardized_mean_difference(x, t)
    b = standardized_mean_difference(x, 1 - t)
    c = standardized_mean_difference(x, t, levels=sorted(set(x), reverse=True))
    assert b.smd == pytest.approx(a.smd, rel=1e-9, abs=1e-12)
    assert c.smd == pytest.approx(a.smd, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 2, 1]), "treated must be 0/1"),
    (lambda: standardized_mean_difference([1, 2, 3], [0, 1, 0, 1]), "mismatched lengths"),
    (lambda: standardized_mean_difference([1, np.nan, 3, 4], [0, 1, 0, 1]), "x has 1 missing"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 0, 1], [1, -1, 1, 1]), "weights must be non-negative"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 0, 1], [1, np.nan, 1, 1]), "weights must be finite"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 0, 0, 1]), "treated arm needs at least 2"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 0, 1], [1, 0, 1, 1], denominator_weighted=True), "treated arm needs at least 2"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 0, 1], [1, 0, 1, 0]), "treated arm needs 2 units, and 1 with positive weight.*got 2 and 0"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 0, 1], kind="ordinal"), "kind must be one of"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 0, 1], denominator="hedges"), "denominator must be one of"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 0, 1], kind="binary"), "x must be 0/1"),
    (lambda: standardized_mean_difference(["a", "b", "c", "a"], [0, 1, 0, 1], levels=["a", "b"]), "not among levels"),
    (lambda: standardized_mean_difference(["a", "a", "a", "a"], [0, 1, 0, 1]), "at least 2 levels"),
    (lambda: balance_table(pd.DataFrame({"t": [0, 1, 0, 1]}), "t", ["age"]), "not columns of frame"),
    (lambda: balance_table(pd.DataFrame({"t": [0, 1, 0, 1], "a": [1, 2, 3, 4]}), "t", "a"), "covariates must be a sequence"),
    (lambda: balance_table(pd.DataFrame({"t": [0, 1, 0, 1], "a": [1, 2, 3, 4]}), "t", ["a"], categorical=["b"]), "categorical lists"),
    (lambda: balance_table(pd.DataFrame({"t": [0, 1, 0, 1], "a": [0, 1, 5, 1]}), "t", ["a"], categorical={"a": ["x", "y"]}), "codes \\[5\\]"),
    (lambda: balance_table(pd.DataFrame({"t": [0, 1, 0, 1], "a": [1, 2, None, 4]}), "t", ["a"]), r"frame\['a'\] has 1 missing"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, error, match", [
    (lambda: balance_table(pd.DataFrame({"z": [0, 1, 0, 1], "x": [1.0, 2, 3, 5]}), "z", ["x"], "ww"),
     ValueError, r"weights column 'ww' is not in frame \(columns: \['z', 'x'\]\)"),
    (lambda: balance_table(pd.DataFrame({"z": [0, 1, 0, 1], "x": [1.0, 2, 3, 5]}), "t", ["x"]),
     ValueError, "treated column 't' is not in frame"),
    (lambda: balance_table(pd.DataFrame({"z": [0, 1, 0, 1], "x": [1.0, 2, 3, 5]}), "z", ["x"],
                           denominator_weighted="yes"),
     TypeError, "denominator_weighted must be True or False; got 'yes'"),
    (lambda: balance_table(pd.DataFrame({"z": [0, 1, 0, 1], "x": [1.0, 2, 3, 5]}), "z", ["x"],
                           threshold="0.1"),
     TypeError, "threshold must be a number"),
    (lambda: standardized_mean_difference([1, 2, 3, 4], [0, 1, 0, 1], denominator_weighted=1),
     TypeError, "denominator_weighted must be True or False; got 1"),
])
def test_bad_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_arms_constant_at_different_values_give_an_infinite_smd():
    """Both arms constant, at different values: the pooled SD is 0, the SMD -inf (as R
    tableone's ``StdDiff``), and the balance table lists the covariate as imbalanced (a
    NaN would compare False and pass). cobalt's whole-sample-SD fallback is
    ``denominator="all"``: -1 / sd([1, 1, 1, 2, 2, 2])."""
    x, z = [1.0, 1, 1, 2, 2, 2], [1, 1, 1, 0, 0, 0]
    assert standardized_mean_difference(x, z).smd == -np.inf
    assert standardized_mean_difference(x, z, denominator="all").smd == pytest.approx(
        -1 / np.std(x, ddof=1), rel=1e-15)
    assert standardized_mean_difference([1.0, 1, 1, 1, 1, 1], z).smd == 0.0
    table = balance_table(pd.DataFrame({"z": z, "x": x}), "z", ["x"])
    assert table.imbalanced() == ["x"] and table.max_abs_smd() == np.inf


def test_one_unit_of_positive_weight_under_the_unweighted_denominator():
    """The SMD is defined when a weighted arm has one unit of positive weight and the
    denominator is the unweighted pooled SD (cobalt's default): weighted means 1 and 4.5,
    unweighted SDs 1 and sqrt(2.5), d = -3.5 / sqrt(1.75). That arm's weighted SD and the
    variance ratio are NaN, and the message says why; the balance table agrees."""
    x = np.arange(1.0, 9.0)
    z = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    w = np.array([1, 0, 0, 1, 1, 0, 0, 0.0])
    r = standardized_mean_difference(x, z, w)
    assert r.smd == pytest.approx(-3.5 / np.sqrt(1.75), rel=1e-14)
    assert np.isnan(r.sd_treated[0]) and r.sd_control[0] == pytest.approx(np.sqrt(0.5))
    assert np.isnan(r.variance_ratio) and "treated arm has one unit" in r.message
    assert standardized_mean_difference(x, z).message == ""
    b = balance_table(pd.DataFrame({"z": z, "x": x, "w": w}), "z", ["x"], "w")
    assert b.weighted[0].smd == r.smd and b.weighted[0].message == r.message
    with pytest.raises(ValueError, match="treated arm needs at least 2"):
        balance_table(pd.DataFrame({"z": z, "x": x, "w": w}), "z", ["x"], "w",
                      denominator_weighted=True)
    rb = standardized_mean_difference((x > 4).astype(float), z, w)   # binary: p(1 - p)
    assert rb.sd_treated[0] == 0.0 and rb.message == ""
