"""cox_point_kernel (estimators.survival.cox_point) against the full Cox kernel: the same
coefficients, model-based covariance and status, bit for bit, on plain, tied, weighted,
monotone, singular and empty data, one covariate or many."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.kernels import Estimability, cox_point_kernel, fit_cox


def _data(seed: int, kind: str, p: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 120))
    X = np.column_stack([rng.normal(size=n) if j % 2 else (rng.random(n) < 0.3).astype(float)
                         for j in range(p)])
    time = (rng.integers(1, 6, n).astype(float) if kind == "tied"
            else rng.exponential(10.0, n))
    event = (rng.random(n) < rng.uniform(0.0, 1.0)).astype(np.float64)
    w = rng.uniform(0.2, 3.0, n) if kind == "weighted" else np.ones(n)
    if kind == "monotone":     # events only where the first (0/1) column is 1
        event[X[:, 0] == 0] = 0.0
    if kind == "singular":     # a column constant on every row
        X[:, -1] = 1.0
    if kind == "collinear" and p > 1:
        X[:, -1] = X[:, 0] * 2.0
    return time, event, X, w


def _same(a, b) -> bool:
    return np.array_equal(a, b, equal_nan=True)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 10 ** 9),
       st.sampled_from(["plain", "tied", "weighted", "monotone", "singular", "collinear"]),
       st.integers(1, 5), st.sampled_from(["efron", "breslow"]))
def test_equals_fit_cox_bit_for_bit(seed, kind, p, ties):
    time, event, X, w = _data(seed, kind, p)
    full = fit_cox(time, event, X, w, ties=ties)
    got = cox_point_kernel(time, event, X, w, ties=ties)
    assert got.status is full.status
    assert _same(got.coef, full.coef)
    assert _same(got.var, full.var)


@pytest.mark.parametrize("p", [1, 3])
def test_no_rows_and_no_events(p):
    empty = cox_point_kernel(np.empty(0), np.empty(0), np.empty((0, p)), np.empty(0))
    assert empty.status is Estimability.NO_EVENTS and np.isnan(empty.coef).all()
    time, event, X, w = _data(3, "plain", p)
    none = cox_point_kernel(time, np.zeros_like(event), X, w)
    assert none.status is fit_cox(time, np.zeros_like(event), X, w).status
    assert none.status is Estimability.NO_EVENTS


def test_the_statuses_the_comparison_covers():
    """The data kinds above reach every status of a Cox fit (so the comparison sees them)."""
    seen = set()
    for seed in range(200):
        for kind in ("plain", "monotone", "singular"):
            seen.add(cox_point_kernel(*_data(seed, kind, 2)).status)
    assert {Estimability.OK, Estimability.MONOTONE_LIKELIHOOD, Estimability.SINGULAR,
            Estimability.NO_EVENTS} <= seen


def _reused_equals_alone(time, event, X, w, ties, seed):
    """Fits with other weights on the risk sets of the one before (``like``), down a chain
    of reuses, are the fits on their own, bit for bit."""
    rng = np.random.default_rng(seed + 1)
    others = [rng.uniform(0.1, 4.0, time.size), np.ones(time.size), w]
    like = cox_point_kernel(time, event, X, w, ties=ties).risk_sets
    for v in others:
        alone = cox_point_kernel(time, event, X, v, ties=ties)
        got = cox_point_kernel(time, event, X, v, ties=ties, like=like)
        assert got.status is alone.status
        assert _same(got.coef, alone.coef)
        assert _same(got.var, alone.var)
        like = got.risk_sets


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10 ** 9),
       st.sampled_from(["plain", "tied", "weighted", "monotone", "singular", "collinear"]),
       st.integers(1, 5), st.sampled_from(["efron", "breslow"]))
def test_reused_risk_sets_give_the_fit_bit_for_bit(seed, kind, p, ties):
    _reused_equals_alone(*_data(seed, kind, p), ties, seed)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_reused_risk_sets_with_sums_on_pairs_of_rows(ties):
    """At 1,700 rows and 4 columns (8,500 cells) the risk-set sums run on pairs of rows,
    whose arrays the reused risk sets share."""
    rng = np.random.default_rng(8)
    n = 1700
    X = np.column_stack([(rng.random(n) < 0.4).astype(float), rng.normal(size=(n, 3))])
    time = np.ceil(rng.exponential(10.0, n))
    event = (rng.random(n) < 0.6).astype(float)
    _reused_equals_alone(time, event, X, rng.uniform(0.3, 3.0, n), ties, 8)
