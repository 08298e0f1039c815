"""The Cox kernel of 1:1 pairs (estimators.matching_cox) against R's coxph(cluster = pair)
on greedy pairs (tests/reference/matching_nearest), and against the general Cox kernel
clustered on the pair ids: the same coefficient, SE and status, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators.kernels import Estimability, cox_of_pairs_kernel, fit_cox
from tacebench.estimators.matching import match_nearest
from tests.reference.cases import load_case


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_matches_r_on_greedy_pairs(ties):
    """R: coxph(Surv(time, event) ~ treated, data = matched, cluster = pair, ties = ties) on
    the greedy 1:1 pairs (logit PS, caliper 0.2 overall SD, data order)."""
    data, exp = load_case("matching_nearest")
    m = match_nearest(data["ps"], data["treated"], caliper_sd="overall")
    ref = exp["matched_cox_pairs"][ties]
    assert m.rows.size == ref["n"] == 2 * m.n_sets
    z = np.tile([1.0, 0.0], m.n_sets)          # each pair lists its treated unit first
    time, event = data["time"].to_numpy()[m.rows], data["event"].to_numpy()[m.rows]
    fit = cox_of_pairs_kernel(time, event.astype(np.float64), z, ties)
    np.testing.assert_allclose([fit.coef, fit.se], [ref["coef"], ref["se_robust"]], rtol=1e-8)
    assert fit.status is Estimability.OK


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
