"""The many-columns SMD kernel (estimators.smd_columns.smd_columns_kernel) against the one-column
kernel it batches, column by column (bit for bit), and against R's fixture."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.kernels import smd_columns_kernel, smd_kernel
from tests.estimators.smd_rounding import within_summation_rounding
from tests.reference.cases import load_case


def _one_by_one(C, t, w, binary, denominator, denominator_weighted, weighted):
    return np.array([smd_kernel(C[:, k], t, w, "binary" if binary[k] else "continuous",
                                None, denominator, denominator_weighted, weighted).smd
                     for k in range(C.shape[1])])


def _same(a, b):
    """Bit for bit (NaN where the other is NaN)."""
    return bool(((a == b) | (np.isnan(a) & np.isnan(b))).all())


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(6, 120), st.integers(1, 12),
       st.sampled_from(["pooled", "treated", "control", "all"]), st.booleans(), st.booleans())
def test_equals_the_one_column_kernel(seed, n, k, denominator, den_weighted, weighted):
    rng = np.random.default_rng(seed)
    t = (rng.random(n) < 0.4).astype(np.int8)
    t[:4] = (0, 1, 0, 1)                     # two patients in each arm at least
    binary = rng.random(k) < 0.5
    C = np.where(binary, (rng.random((n, k)) < rng.random(k)).astype(float),
                 rng.normal(rng.normal(0, 5, k), rng.exponential(2, k), (n, k)))
    C[:, rng.random(k) < 0.15] = 1.0         # constant columns: SMD 0
    w = rng.exponential(1.0, n) if weighted else np.ones(n)
    if weighted and rng.random() < 0.3:      # near-separated IPT weights: a few dominate
        w *= np.exp(rng.normal(0, 15, n))
    # (denominator "all" of a constant 0/1 column: a weighted mean 1 + eps gives p (1 - p)
    # = -eps and a NaN SD in both kernels alike)
    with np.errstate(invalid="ignore"):
        got = smd_columns_kernel(C, t, w, binary, denominator, den_weighted, weighted)
        want = _one_by_one(C, t, w, binary, denominator, den_weighted, weighted)
    assert _same(got, want), (got, want)


def test_a_difference_over_zero_sd_is_infinite_per_column():
    t = np.array([0, 0, 1, 1], dtype=np.int8)
    C = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    got = smd_columns_kernel(C, t, np.ones(4), np.array([False, True]), "pooled", False,
                             False)
    assert got[0] == np.inf and got[1] == 0.0


@pytest.mark.parametrize("wcol", [None, "w", "mw"])
@pytest.mark.parametrize("den_weighted", [False, True])
def test_matches_r_on_the_balance_fixture(wcol, den_weighted):
    """R (tests/reference/balance_smd, cobalt's pooled SMDs): age, afp (continuous) and
    male (binary) in one call, unweighted, IPT-weighted and matched."""
    d, e = load_case("balance_smd")
    names = ["age", "afp", "male"]
    t = d["treated"].to_numpy().astype(np.int8)
    C = d[names].to_numpy(dtype=float)
    w = np.ones(len(t)) if wcol is None else d[wcol].to_numpy(dtype=float)
    if wcol is None and den_weighted:
        pytest.skip("no weights: the weighted denominator is the unweighted one")
    got = smd_columns_kernel(C, t, w, np.array([False, False, True]), "pooled", den_weighted,
                             wcol is not None)
    key = "smd_weighted_denom" if den_weighted else "smd"
    want = [e[v]["smd"] if wcol is None else e[v][wcol][key] for v in names]
    np.testing.assert_allclose(got, want, rtol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(6, 120), st.integers(1, 12))
def test_pooled_columns_equal_the_kernel_under_every_weighting(seed, n, k):
    """PooledSMDColumns (weight-free parts once, then one weighting after another) gives
    the kernel's pre-adjustment pooled SMDs, unweighted and weighted, to the rounding of
    sums added in another order (one matrix product instead of a dot product per column;
    near-separated weights included)."""
    from tacebench.estimators.smd_columns import PooledSMDColumns

    rng = np.random.default_rng(seed)
    t = (rng.random(n) < 0.4).astype(np.int8)
    t[:4] = (0, 1, 0, 1)
    binary = rng.random(k) < 0.5
    C = np.where(binary, (rng.random((n, k)) < rng.random(k)).astype(float),
                 rng.normal(rng.normal(0, 5, k), rng.exponential(2, k), (n, k)))
    C[:, rng.random(k) < 0.15] = 1.0
    pooled = PooledSMDColumns.of(C, t, binary)
    with np.errstate(invalid="ignore"):
        assert within_summation_rounding(
            pooled.smd(None), smd_columns_kernel(C, t, np.ones(n), binary, "pooled", False,
                                                 False), C, t)
        for w in (rng.exponential(1.0, n), np.exp(rng.normal(0, 15, n)),
                  (rng.random(n) < 0.6) * rng.choice([1.0, 0.5, 2.0], n)):
            got = pooled.smd(w)
            want = smd_columns_kernel(C, t, w, binary, "pooled", False, True)
            assert within_summation_rounding(got, want, C, t), (got, want)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(6, 150), st.integers(1, 10),
       st.sampled_from([1.0, 3.0, 2.0**40 + 1, 2.0**50 + 1]))
def test_integer_columns_under_integer_weights_equal_the_kernel(seed, n, k, big):
    """Binary columns under integer weights whose sums stay below 2**53 have exact means
    in any order and the SD p (1 - p) of them: there the matrix product's SMDs are the
    kernel's bit for bit (most of the balance of 1:1 matched samples). Counts (their
    variances are sums of non-integers), continuous columns, non-integer weights and sums
    past 2**53 (odd weights up to 2**50 + 1) are equal to rounding."""
    from tacebench.estimators.smd_columns import PooledSMDColumns

    rng = np.random.default_rng(seed)
    t = (rng.random(n) < 0.5).astype(np.int8)
    t[:4] = (0, 1, 0, 1)
    kind = rng.integers(0, 3, k)             # 0: binary, 1: counts, 2: continuous
    C = np.where(kind == 0, rng.random((n, k)) < 0.3,
                 np.where(kind == 1, rng.integers(-3, 40, (n, k)),
                          rng.normal(50, 10, (n, k)))).astype(float)
    binary = ((C == 0) | (C == 1)).all(axis=0)
    pooled = PooledSMDColumns.of(C, t, binary)
    with np.errstate(invalid="ignore"):
        for w in (rng.integers(0, 4, n).astype(float),
                  (rng.random(n) < 0.5) * (big + 2 * rng.integers(0, 1000, n)),
                  rng.integers(0, 4, n) + 0.5):
            w[:4] = 1.0
            got = pooled.smd(w)
            want = smd_columns_kernel(C, t, w, binary, "pooled", False, True)
            exact = binary & ((w == np.rint(w)).all() and w.sum() < 2.0**53)
            assert _same(got[exact], want[exact]), (got, want)
            assert within_summation_rounding(got, want, C, t), (got, want)
