"""The Cox kernel of 1:1 pairs (estimators.matching_cox) against the general Cox kernel
clustered on the pair ids, which is checked against R's coxph(cluster = pair)
(tests/reference/matching_nearest): the same coefficient, SE and status, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.kernels import Estimability, cox_of_pairs_kernel, fit_cox


def _pairs(seed: int, kind: str):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 60))
    z = np.zeros(2 * k)
    z[rng.integers(0, 2, k) + 2 * np.arange(k)] = 1.0   # one treated per pair, either row
    time = (rng.integers(1, 5, 2 * k).astype(float) if kind == "tied"
            else rng.exponential(10.0, 2 * k))
    event = (rng.random(2 * k) < rng.uniform(0.0, 1.0)).astype(np.float64)
    if kind == "monotone":  # events in the treated only
        event[z == 0] = 0.0
    return time, event, z


def _clustered(time, event, z, ties):
    fit = fit_cox(time, event, z[:, None], np.ones(time.size), ties=ties,
                  cluster=np.repeat(np.arange(time.size // 2), 2), robust=True)
    return fit.coef[0], fit.robust_se[0], fit.status


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["plain", "tied", "monotone"]),
       st.sampled_from(["efron", "breslow"]))
def test_equals_the_clustered_kernel(seed, kind, ties):
    time, event, z = _pairs(seed, kind)
    got = cox_of_pairs_kernel(time, event, z, ties)
    coef, se, status = _clustered(time, event, z, ties)
    np.testing.assert_array_equal([got.coef, got.se], [coef, se])
    assert got.status is status


@pytest.mark.parametrize("time, event, status", [
    ([5.0, 1.0], [1.0, 0.0], Estimability.SINGULAR),   # the event's risk set: treated alone
    ([5.0, 1.0, 3.0, 2.0], [0.0, 0.0, 0.0, 0.0], Estimability.NO_EVENTS),
    ([], [], Estimability.NO_EVENTS)])
def test_degenerate_pairs(time, event, status):
    time, event = np.array(time), np.array(event)
    z = np.tile([1.0, 0.0], time.size // 2)
    got = cox_of_pairs_kernel(time, event, z)
    assert np.isnan([got.coef, got.se]).all() and got.status is status
    if time.size:
        assert _clustered(time, event, z, "efron")[2] is status
