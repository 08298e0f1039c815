"""The damped Newton solver of the balancing problems: it reaches the gradient tolerance,
computes derivatives only at the points it keeps, and stops on an infeasibility proof."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from tacebench.estimators.convex_newton import GTOL, minimize_convex


def _pseudo_huber(counts: dict):
    """``sum(sqrt(1 + x_j^2))``: strictly convex, minimum 0 at the origin, and a full
    Newton step from |x| > 1 overshoots (to -x^3), so the line search must backtrack."""
    def fun(x):
        counts["values"] += 1
        r = np.sqrt(1.0 + x * x)

        def derivatives():
            counts["derivatives"] += 1
            return x / r, np.diag(r ** -3.0)
        return float(r.sum()), derivatives
    return fun


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-4.0, 4.0), min_size=1, max_size=6))
def test_reaches_the_minimum_and_derives_only_where_it_steps(start):
    counts = {"values": 0, "derivatives": 0}
    x, it, ok = minimize_convex(_pseudo_huber(counts), np.array(start))
    assert ok and np.linalg.norm(x / np.sqrt(1.0 + x * x)) <= GTOL
    # one Hessian at the start and one per step taken; rejected trial points cost values
    assert counts["derivatives"] == it + 1
    if max(abs(v) for v in start) > 1.5:
        assert counts["values"] > counts["derivatives"]


def test_an_infeasibility_proof_stops_the_search():
    """``f(x) = sqrt(1 + x^2) - 2x`` has no minimum (``f' <= -1``); ``x > 3`` is taken as
    the proof: the search stops at the first step past it."""
    def fun(x):
        r = float(np.sqrt(1.0 + x[0] ** 2))
        return r - 2.0 * x[0], lambda: (np.array([x[0] / r - 2.0]), np.array([[r ** -3.0]]))
    x, it, ok = minimize_convex(fun, np.zeros(1), infeasible=lambda x: x[0] > 3.0)
    assert not ok and x[0] > 3.0
    x_all, it_all, ok_all = minimize_convex(fun, np.zeros(1))
    assert not ok_all and x_all[0] > x[0]
