"""The Cox kernel's risk-set sums (cumulative sums run on pairs of covariate rows read as
complex numbers) against numpy's cumulative sum over the rows: the same additions in the
same order, so the same doubles to the last bit, for any number of covariates, ties, entry
times and overflowing risk scores (inf, NaN)."""
from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tacebench.estimators.kernels import CoxRiskSets as RiskSets, evaluate_cox as evaluate


def _term_sums(rs, Z):
    """The sums of the kernel's likelihood terms, one numpy cumulative sum per row."""
    S = np.add.accumulate(Z, axis=1).take(rs.end, axis=1)
    if rs.entry_order is not None:
        late = Z.take(rs.entry_order, axis=1).cumsum(axis=1).take(rs.entry_end, axis=1)
        S -= late * rs.entry_mask
    if not rs.efron:
        return S
    dsum = np.add.reduceat(Z.take(rs.death_pos, axis=1), rs.set_starts, axis=1)
    return S.take(rs.tset, axis=1) - rs.tfrac * dsum.take(rs.tset, axis=1)


@settings(max_examples=60, deadline=None)
@example(seed=1, n=700, p=12, ties="efron", with_entry=True, scale=0.3)    # 9,100 cells
@example(seed=2, n=800, p=11, ties="breslow", with_entry=False, scale=400.0)
@given(st.integers(0, 2**32 - 1), st.integers(2, 800), st.integers(2, 12),
       st.sampled_from(["efron", "breslow"]), st.booleans(), st.sampled_from([0.3, 400.0]))
def test_risk_set_sums_equal_numpy_cumsum_to_the_bit(seed, n, p, ties, with_entry, scale):
    # (up to 10,400 cells: the pairs run from PAIRED_MIN_CELLS = 8000, (p + 1) * n)
    rng = np.random.default_rng(seed)
    time = np.ceil(rng.exponential(1.0, n) * 4) / 4 + 0.25
    event = (rng.random(n) < 0.7).astype(float)
    event[0] = 1.0
    X = rng.normal(size=(n, p))
    w = rng.uniform(0.5, 2.0, n)
    entry = time * rng.uniform(0, 0.9, n) * (rng.random(n) < 0.5) if with_entry else None
    rs = RiskSets(time, event, X, w, ties, entry)
    beta = rng.normal(size=p) * scale      # 400: exp() overflows, sums become inf or NaN
    with np.errstate(all="ignore"):
        ev = evaluate(rs, beta)
        want = _term_sums(rs, rs.X1T * (rs.w * np.exp(beta @ rs.XT)))
    assert ev.T.shape == want.shape
    assert np.array_equal(ev.T.view(np.int64), want.view(np.int64))
