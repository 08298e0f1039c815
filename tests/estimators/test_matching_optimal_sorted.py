"""The sorted dynamic program of optimal 1:1 matching on a line against the general linear
assignment solver it replaced (scipy.optimize.linear_sum_assignment)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st
from scipy import optimize

from tacebench.estimators.matching_optimal import match_optimal, sorted_pairs


def _problem(seed: int, tied: bool | str):
    rng = np.random.default_rng(seed)
    n1 = int(rng.integers(1, 40))
    n0 = n1 + int(rng.integers(0, 40))
    # tied: few distinct values, so distances tie often (PS of discrete covariates);
    # "near": those values moved by a few units in the last place, so totals of different
    # paths tie or nearly tie after rounding
    v = rng.integers(0, 6, n1 + n0).astype(float) if tied else rng.normal(size=n1 + n0)
    if tied == "near":
        v += rng.integers(-3, 4, v.size) * np.spacing(6.0)
    return v[:n1], v[n1:]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_total_equals_linear_assignment(seed, tied):
    dt, dc = _problem(seed, tied)
    D = np.abs(dt[:, None] - dc[None, :])
    r, c = optimize.linear_sum_assignment(D)
    got = sorted_pairs(dt, dc)
    assert np.unique(got).size == dt.size           # 1:1
    lsap, ours = D[r, c].sum(), D[np.arange(dt.size), got].sum()
    assert abs(ours - lsap) <= 1e-12 * max(1.0, lsap)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_same_controls_and_non_crossing_without_ties(seed):
    """Distinct continuous values: the matched controls are the linear assignment's (the
    optimum's control set is unique); the pairs among them are the non-crossing ones."""
    dt, dc = _problem(seed, tied=False)
    D = np.abs(dt[:, None] - dc[None, :])
    _, c = optimize.linear_sum_assignment(D)
    got = sorted_pairs(dt, dc)
    np.testing.assert_array_equal(np.sort(got), np.sort(c))
    order = np.argsort(dt)
    assert (np.diff(dc[got[order]]) >= 0).all()


def test_ties_take_the_lowest_control():
    """Two controls equally far from the one treated unit: the lower in sorted order."""
    assert sorted_pairs(np.array([0.0]), np.array([1.0, -1.0])).tolist() == [1]
    # nested pairs: the non-crossing assignment, not the equal-cost crossing one
    assert sorted_pairs(np.array([0.0, 0.5]), np.array([2.0, 1.0])).tolist() == [1, 0]


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["logit", "ps"]))
def test_kernel_total_matches_linear_assignment(seed, distance):
    rng = np.random.default_rng(seed)
    n1 = int(rng.integers(1, 30))
    n0 = n1 + int(rng.integers(0, 30))
    ps = rng.uniform(0.02, 0.98, n1 + n0)
    z = rng.permutation(np.r_[np.ones(n1, int), np.zeros(n0, int)])
    res = match_optimal(ps, z, distance=distance)
    d = np.log(ps / (1 - ps)) if distance == "logit" else ps
    D = np.abs(d[z == 1][:, None] - d[z == 0][None, :])
    r, c = optimize.linear_sum_assignment(D)
    total = float(res.method.rsplit(" ", 1)[1].rstrip(")"))
    assert abs(total - D[r, c].sum()) <= 1e-10 * max(1.0, D[r, c].sum())
    np.testing.assert_array_equal(res.treated_index, np.flatnonzero(z == 1))
    assert set(res.control_index[:, 0]) <= set(np.flatnonzero(z == 0))


def _tables(dt, dc):
    """The forward tables of sorted_pairs' dynamic program (totals and running minima)."""
    n1, n0 = dt.size, dc.size
    t, c = np.sort(dt, kind="stable"), np.sort(dc, kind="stable")
    w = n0 - n1 + 1
    cost = np.abs(t[:, None] - c[np.arange(n1)[:, None] + np.arange(w)])
    total, best, prev = np.empty_like(cost), np.empty_like(cost), np.zeros(w)
    for i in range(n1):
        total[i] = prev + cost[i]
        best[i] = prev = np.minimum.accumulate(total[i])
    return total, best


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([False, True, "near"]))
def test_path_backtracking_is_the_whole_table_backtracking(seed, tied):
    """The backtracking on the path (an argmin over each row's prefix) picks what the
    whole-table running minima pick (kept for NaN totals), ties and near-ties included;
    the tables are the program's written out row by row (a gathered cost matrix, no
    strided window, no in-place rows), so its pairs are those tables' pairs."""
    from tacebench.estimators.matching_optimal import positions_of_running_minima

    dt, dc = _problem(seed, tied)
    total, best = _tables(dt, dc)
    n1, w = total.shape
    ot, oc = np.argsort(dt, kind="stable"), np.argsort(dc, kind="stable")
    whole = np.empty(n1, dtype=np.intp)
    whole[ot] = oc[positions_of_running_minima(total, best)]
    np.testing.assert_array_equal(sorted_pairs(dt, dc), whole)


def test_nan_distances_take_the_whole_table_backtracking():
    """A NaN total (infinite logits on both arms) reaches the last entry; the pairs are
    still a 1:1 assignment."""
    with np.errstate(invalid="ignore"):  # inf - inf
        got = sorted_pairs(np.array([np.inf, 0.0]), np.array([np.inf, 1.0, -1.0]))
    assert np.unique(got).size == 2
