"""Working models shared by several survival ATE kernel calls on one data set
(estimators.survival.ate_models.WorkingModels): each model fitted once, the numbers those of
separate calls."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators.survival.ate import survival_ate_kernel
from tacebench.estimators.survival.ate_models import WorkingModels
from tacebench.estimators.survival.ate_rmst import survival_rmst_kernel
from tests.estimators.test_survival_ate_properties import cohort

HORIZONS = np.array([3.0, 8.0])


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from(["cox", "marginal"]))
def test_shared_models_give_the_numbers_of_separate_calls(seed, ties, censoring):
    time, event, z, X = cohort(seed, 150, ties=ties)
    Xc = np.column_stack([z, X]) if censoring == "cox" else np.empty((z.size, 0))
    models = WorkingModels(time, event, z, X, X, Xc)
    for kernel in (survival_ate_kernel, survival_rmst_kernel):
        for est in (("gformula",), ("iptw",), ("aiptw",), ("gformula", "iptw", "aiptw")):
            alone = kernel(time, event, z, X, X, Xc, HORIZONS, est, censoring)
            shared = kernel(time, event, z, X, X, Xc, HORIZONS, est, censoring, models=models)
            for a, b in ((alone.difference, shared.difference),
                         (alone.se_difference, shared.se_difference), (alone.iid, shared.iid)):
                np.testing.assert_array_equal(a, b)


def test_each_model_is_fitted_once():
    time, event, z, X = cohort(1, 120)
    Xc = np.column_stack([z, X])
    models = WorkingModels(time, event, z, X, X, Xc)
    survival_ate_kernel(time, event, z, X, X, Xc, HORIZONS, ("gformula",), models=models)
    outcome = models.outcome()
    survival_rmst_kernel(time, event, z, X, X, Xc, HORIZONS, ("aiptw",), models=models)
    assert models.outcome() is outcome
    treatment, censoring = models.treatment(), models.censoring()
    survival_ate_kernel(time, event, z, X, X, Xc, HORIZONS, ("iptw",), models=models)
    assert models.treatment() is treatment and models.censoring() is censoring


def test_nothing_censored_fits_the_censoring_without_covariates():
    time, event, z, X = cohort(2, 80)
    event = np.ones_like(event)
    models = WorkingModels(time, event, z, X, X, np.column_stack([z, X]))
    assert models.censoring_design.shape == (80, 0) and models.censoring().times.size == 0


def test_models_of_other_arrays_are_refused():
    time, event, z, X = cohort(3, 60)
    Xc = np.column_stack([z, X])
    models = WorkingModels(time, event, z, X, X, Xc)
    with pytest.raises(ValueError, match="other arrays"):
        survival_ate_kernel(time.copy(), event, z, X, X, Xc, HORIZONS, models=models)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(12, 60), st.sampled_from([0.0, 1.5, 4.0, 12.0]),
       st.booleans())
def test_the_treatment_models_verdict_is_the_fits(seed, n, strength, one_arm_level):
    """The treatment model decides separation by a one-column certificate before the linear
    program: its status is the logistic fit's own (which always solves the program), on
    separated, nearly separated and well-behaved data alike."""
    from tacebench.estimators.propensity import fit_logistic
    from tacebench.estimators.survival.ate_nuisance import fit_treatment_model

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = (rng.random(n) < 1 / (1 + np.exp(-strength * x))).astype(float)
    level = rng.binomial(1, 0.2, n).astype(float)
    if one_arm_level:  # a covariate level seen in the treated arm only
        level *= z
    X = np.column_stack([x, level])
    Xa = np.column_stack([np.ones(n), X])
    expected = fit_logistic(Xa, z, np.ones(n)).status
    assert fit_treatment_model(z, X).status is expected
