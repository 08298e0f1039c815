"""The separation check's shortcuts: ``is_separated`` and ``logistic_estimability`` give the
linear program's verdict, and skip the program only on a one-column certificate of
separation or a dual certificate of none."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tacebench.estimators import status
from tacebench.estimators.kernels import fit_glm_binomial
from tacebench.estimators.status import (Estimability, certainly_not_separated, is_separated,
                                         logistic_estimability, logistic_status,
                                         separating_direction)


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


def _nearly_separated(seed: int, n: int, slope: float, separated: bool):
    """Intercept and two normals, ``y`` from a steep logistic in their sum (fitted
    probabilities far into the tails) or, with ``separated``, the sign of the sum: no
    column is seen in one arm only."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 2))])
    s = X[:, 1] + X[:, 2]
    y = (s > 0) if separated else (rng.random(n) < 1.0 / (1.0 + np.exp(-slope * s)))
    return X, y.astype(float)


def test_without_a_certificate_the_program_decides(monkeypatch):
    """Separated by a combination of columns: neither certificate applies."""
    X, y = _nearly_separated(4, 80, 0.0, separated=True)
    calls = _count_programs(monkeypatch)
    assert is_separated(X, y, np.ones(len(y)))
    assert calls == [1]


def test_overlap_is_not_separated_without_the_program(monkeypatch):
    """Overlapping arms, fitted probabilities within 1e-6 of 0 or 1 (the symptom that asks
    for the check): the dual bound proves the program's verdict."""
    X, y = _nearly_separated(4, 200, 12.0, separated=False)
    fit = fit_glm_binomial(X, y, np.ones(len(y)))
    assert min(fit.fitted.min(), 1.0 - fit.fitted.max()) < 1e-6
    assert separating_direction(X, y, np.ones(len(y))) is None
    calls = _count_programs(monkeypatch)
    assert not is_separated(X, y, np.ones(len(y)))
    assert calls == []


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 120), slope=st.floats(0.0, 30.0),
       separated=st.booleans())
def test_no_separation_certificate_only_without_separation(seed, n, slope, separated):
    """The dual bound never certifies data that the program separates, and with it
    ``is_separated`` is the program's verdict."""
    X, y = _nearly_separated(seed, n, slope, separated)
    w = np.ones(n)
    program = separating_direction(X, y, w) is not None
    A = (2.0 * y - 1.0)[:, None] * X
    if certainly_not_separated(A):
        assert not program
    assert is_separated(X, y, w) == program


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
