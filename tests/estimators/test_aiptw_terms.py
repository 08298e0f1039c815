"""The AIPTW's arm-free terms (estimators.survival.aiptw_terms), computed once for both
arms: each arm's risk and influence function those of an arm that computes them itself,
bit for bit, and neither arm can alter what the other reads."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.survival.aiptw import aiptw_arm
from tacebench.estimators.survival.aiptw_terms import arm_free_terms
from tacebench.estimators.survival.ate_models import WorkingModels
from tests.estimators.test_survival_ate_properties import cohort


def _arms(seed, ties, censoring, horizons, contrast):
    time, event, z, X = cohort(seed, 150, ties=ties)
    Xc = np.column_stack([z, X]) if censoring == "cox" else np.empty((z.size, 0))
    models = WorkingModels(time, event, z, X, X, Xc)
    out, trt, cens = models.outcome(), models.treatment(), models.censoring()
    Zc = models.censoring_design
    shared = arm_free_terms(time, event, out, cens, Zc, horizons, contrast)
    for arm in (0, 1):
        D = models.design.copy()
        D[:, 0] = arm
        args = (arm, time, event, z, out, D, trt, cens, Zc, horizons, contrast)
        yield aiptw_arm(*args), aiptw_arm(*args, shared), shared


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from(["cox", "marginal"]),
       st.booleans())
def test_shared_terms_give_the_bits_of_an_arm_alone(seed, ties, censoring, rmst):
    # few horizons (the risks' product path) or every event time contracted (the RMST's
    # grouped path)
    time = cohort(seed, 150, ties=ties)[0]
    horizons = np.unique(time)[5:-5:3] if rmst else np.array([3.0, 8.0])
    contrast = np.ones((horizons.size, 2)) * [1.0, 0.5] if rmst else None
    for alone, shared, _ in _arms(seed, ties, censoring, horizons, contrast):
        np.testing.assert_array_equal(alone.risk, shared.risk)
        np.testing.assert_array_equal(alone.iid, shared.iid)


def test_shared_arrays_are_read_only():
    horizons = np.array([3.0, 8.0])
    _, _, shared = next(_arms(4, False, "cox", horizons, None))
    for name in ("G_s", "dM_C", "at_risk", "mask_w", "died_W", "rho"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(shared, name)[...] = 0.0


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from(["cox", "marginal"]),
       st.booleans())
def test_both_arms_at_once_equal_each_arm_alone(seed, ties, censoring, rmst):
    """aiptw_arms applies the outcome and censoring models' chain rule to both arms'
    gradients in one pass: each arm's risk and IF are aiptw_arm's to rounding."""
    from tacebench.estimators.survival.aiptw import aiptw_arms

    time, event, z, X = cohort(seed, 150, ties=ties)
    horizons = np.unique(time)[5:-5:3] if rmst else np.array([3.0, 8.0])
    contrast = np.ones((horizons.size, 2)) * [1.0, 0.5] if rmst else None
    Xc = np.column_stack([z, X]) if censoring == "cox" else np.empty((z.size, 0))
    models = WorkingModels(time, event, z, X, X, Xc)
    out, trt, cens = models.outcome(), models.treatment(), models.censoring()
    Zc = models.censoring_design
    designs = []
    for arm in (0, 1):
        designs.append(models.design.copy())
        designs[arm][:, 0] = arm
    both = aiptw_arms(time, event, z, out, designs, trt, cens, Zc, horizons, contrast)
    for arm in (0, 1):
        alone = aiptw_arm(arm, time, event, z, out, designs[arm], trt, cens, Zc, horizons,
                          contrast)
        np.testing.assert_allclose(both[arm].risk, alone.risk, rtol=1e-12, atol=0)
        scale = np.abs(alone.iid).max()
        np.testing.assert_allclose(both[arm].iid, alone.iid, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(np.sqrt((both[arm].iid ** 2).sum(axis=0)),
                                   np.sqrt((alone.iid ** 2).sum(axis=0)), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60), st.integers(1, 7), st.integers(1, 40))
def test_rows_added_at_is_add_at_bit_for_bit(seed, N, m, size):
    """The jump gradients' scatter-add: ``np.add.at``'s sums, the same additions in the
    same order (repeated indices included), so the same bits."""
    from tacebench.estimators.survival.ate_nuisance import rows_added_at

    rng = np.random.default_rng(seed)
    k = rng.integers(0, size, N)
    weights = rng.standard_normal((N, m)) * 10.0 ** rng.integers(-8, 8, (N, m))
    expected = np.zeros((size, m))
    np.add.at(expected, k, weights)
    np.testing.assert_array_equal(rows_added_at(k, weights, size), expected)
