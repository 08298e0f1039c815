"""The matched Cox model on 1:1 pairs (benchmarks.methods.matching._cox_on_pairs) against
the general path it shortcuts: the Cox kernel clustered on the pair ids."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.benchmarks.methods._common import cox_of_treatment
from tacebench.benchmarks.methods.matching import _cox_on_pairs


def _pairs(seed: int, kind: str):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 60))
    z = np.tile([1.0, 0.0], k)
    # tied: few distinct times; monotone: events in the treated only
    time = (rng.integers(1, 5, 2 * k).astype(float) if kind == "tied"
            else rng.exponential(10.0, 2 * k))
    event = (rng.random(2 * k) < 0.7).astype(np.int8)
    if kind == "monotone":
        event[1::2] = 0
        event[0] = 1
    X = rng.normal(size=(2 * k, 2)) if kind == "adjusted" else None
    return time, event, z, X, np.repeat(np.arange(k, dtype=np.intp), 2)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["plain", "tied", "monotone", "adjusted"]),
       st.sampled_from(["efron", "breslow"]))
def test_equals_the_clustered_kernel(seed, kind, ties):
    time, event, z, X, pair_id = _pairs(seed, kind)
    if not event.any():
        return
    want = cox_of_treatment(time, event, z, X, cluster=pair_id, ties=ties, extra={"a": 1.0})
    got = _cox_on_pairs(time, event, z, X, ties, {"a": 1.0})
    np.testing.assert_array_equal([got.estimate, got.se], [want.estimate, want.se])
    assert (got.converged, got.extra) == (want.converged, want.extra)


@pytest.mark.parametrize("time, event", [([5.0, 1.0], [1, 0]),            # one arm at risk
                                         ([5.0, 1.0, 3.0, 2.0], [1, 0, 0, 0])])
@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_singular_pairs_as_the_clustered_kernel(time, event, ties):
    # the only event's risk set holds the treated alone: no information, every number NaN
    time, event = np.array(time), np.array(event, dtype=np.int8)
    z = np.tile([1.0, 0.0], time.size // 2)
    want = cox_of_treatment(time, event, z, cluster=np.repeat(np.arange(time.size // 2), 2),
                            ties=ties)
    got = _cox_on_pairs(time, event, z, None, ties, {})
    assert np.isnan([got.estimate, got.se, want.estimate, want.se]).all()
    assert got.converged is want.converged is False


def test_no_events_raises_as_the_kernel():
    with pytest.raises(ValueError, match="no events"):
        _cox_on_pairs(np.array([1.0, 2.0]), np.zeros(2, dtype=np.int8), np.array([1.0, 0.0]),
                      None, "efron", {})
