"""The separation check's shortcut: ``is_separated`` and ``logistic_estimability`` give the
linear program's verdict, and skip the program only on a one-column certificate."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators import status
from tacebench.estimators.kernels import fit_glm_binomial
from tacebench.estimators.status import (Estimability, is_separated, logistic_estimability,
                                         logistic_status, separating_direction)


def _design(seed: int, n: int, one_arm_level: bool):
    """Intercept, a 0/1 level (seen in one arm only when ``one_arm_level``) and a normal."""
    rng = np.random.default_rng(seed)
    level = (rng.random(n) < 0.2).astype(float)
    y = (rng.random(n) < 0.5).astype(float)
    if one_arm_level:
        y[level == 1] = 1.0
    return np.column_stack([np.ones(n), level, rng.standard_normal(n)]), y


def _count_programs(monkeypatch) -> list:
    calls = []
    real = status.separating_direction

    def counted(*args):
        calls.append(1)
        return real(*args)
    monkeypatch.setattr(status, "separating_direction", counted)
    return calls


def test_one_arm_level_is_separated_without_the_program(monkeypatch):
    X, y = _design(3, 60, one_arm_level=True)
    assert separating_direction(X, y, np.ones(len(y))) is not None
    calls = _count_programs(monkeypatch)
    assert is_separated(X, y, np.ones(len(y)))
    assert calls == []


def test_without_a_certificate_the_program_decides(monkeypatch):
    X, y = _design(4, 80, one_arm_level=False)
    calls = _count_programs(monkeypatch)
    assert not is_separated(X, y, np.ones(len(y)))
    assert calls == [1]


def test_zero_weight_rows_take_no_part():
    """The level's one patient in the other arm has weight 0: separated, as the program
    says."""
    X, y = _design(5, 60, one_arm_level=True)
    w = np.ones(len(y))
    j = np.flatnonzero(X[:, 1] == 1)[0]
    y[j], w[j] = 0.0, 0.0
    assert is_separated(X, y, w) == (separating_direction(X, y, w) is not None) is True
    w[j] = 1.0
    assert is_separated(X, y, w) == (separating_direction(X, y, w) is not None)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 40), one_arm=st.booleans(),
       zero_weights=st.booleans())
def test_is_separated_is_the_programs_verdict(seed, n, one_arm, zero_weights):
    X, y = _design(seed, n, one_arm)
    w = np.ones(n)
    if zero_weights:
        w[np.random.default_rng(seed + 1).random(n) < 0.3] = 0.0
    assert is_separated(X, y, w) == (separating_direction(X, y, w) is not None)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 60), one_arm=st.booleans())
def test_logistic_estimability_is_logistic_status(seed, n, one_arm):
    X, y = _design(seed, n, one_arm)
    w = np.ones(n)
    fit = fit_glm_binomial(X, y, w)
    X, coef = X[:, ~fit.aliased], fit.coef[~fit.aliased]    # as BinomialFit judges it
    expected, direction = logistic_status(X, y, w, fit.fitted, coef, fit.converged)
    assert logistic_estimability(X, y, w, fit.fitted, coef, fit.converged) is expected
    assert fit.status is expected
    assert fit.separated == (separating_direction(X, y, w) is not None)
    assert (direction is not None) == (expected is Estimability.SEPARATED)
