"""Entropy balancing, just-identified CBPS and matching weights, against plain-R references
(tests/reference/balancing_weights/reference.R) and their defining properties."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators import balancing_weights, cbps_weights, entropy_balancing, matching_weights
from tacebench.estimators.balancing_weights import METHODS
from tacebench.estimators.weights_cbps import cbps_weights_kernel
from tacebench.estimators.weights_ebal import entropy_balancing_kernel
from tests.reference.cases import load_case

COLS = ["x1", "x2", "x3"]


@pytest.fixture(scope="module")
def case():
    return load_case("balancing_weights")


def _effect(y, z, w):
    """Weighted difference in means, R's coef(lm(y ~ treated, weights = w))[2]."""
    return np.average(y[z == 1], weights=w[z == 1]) - np.average(y[z == 0], weights=w[z == 0])


@pytest.mark.parametrize("name, estimand, moments", [
    ("ATT", "ATT", 1), ("ATC", "ATC", 1), ("ATE", "ATE", 1),
    ("ATT_moments2", "ATT", 2), ("ATE_moments2", "ATE", 2)])
def test_entropy_balancing_equals_r_newton_on_the_dual(case, name, estimand, moments):
    """R: Newton on log(sum(exp(C lambda))) per reweighted arm, weights scaled to mean 1;
    effect coef(lm(y ~ treated, weights = w))[2]."""
    data, exp = case
    ref = exp["ebal"][name]
    z = data["treated"].to_numpy()
    res = entropy_balancing(data[COLS], z, estimand=estimand, moments=moments)
    np.testing.assert_allclose(res.weights, ref["weights"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(res.weighted_means, ref["weighted_means"], rtol=1e-8)
    np.testing.assert_allclose(_effect(data["y"].to_numpy(), z, res.weights), ref["effect"],
                               rtol=1e-6)
    assert res.names[:3] == tuple(COLS) and len(res.names) == (3 if moments == 1 else 5)


@pytest.mark.parametrize("estimand", ["ATT", "ATC", "ATE"])
@pytest.mark.parametrize("moments", [1, 2])
def test_entropy_balancing_constraints_hold_exactly(case, estimand, moments):
    """Weighted means of every balanced column equal the target to 1e-8 in each
    reweighted arm (the dual is solved to a gradient of 1e-10 SD)."""
    data, _ = case
    res = entropy_balancing(data[COLS], data["treated"], estimand=estimand, moments=moments)
    arms = {"ATT": [0], "ATC": [1], "ATE": [0, 1]}[estimand]
    for a in arms:
        np.testing.assert_allclose(res.weighted_means[a], res.target, rtol=0, atol=1e-8)
    assert res.status.ok and res.max_imbalance < 1e-8
    assert set(res.balance()["covariate"]) == set(res.names)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_cbps_equals_r_newton_on_the_moment_conditions(case, estimand):
    """R: Newton on mean(d * (z / e - (1 - z) / (1 - e))) = 0 (ATE) or
    mean(d * (z - (1 - z) e / (1 - e))) = 0 (ATT), started at glm()."""
    data, exp = case
    ref = exp["cbps"][estimand]
    z = data["treated"].to_numpy()
    res = cbps_weights(data[COLS], z, estimand=estimand)
    np.testing.assert_allclose(res.coef, ref["coef"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(res.ps, ref["ps"], rtol=1e-6)
    np.testing.assert_allclose(res.weights, ref["weights"], rtol=1e-6)
    np.testing.assert_allclose(res.weighted_means, ref["weighted_means"], rtol=1e-8)
    np.testing.assert_allclose(_effect(data["y"].to_numpy(), z, res.weights), ref["effect"],
                               rtol=1e-6)
    # just-identified: the weighted arm means are equal (to 1e-8)
    assert res.max_imbalance < 1e-8


def test_matching_weights_equal_r(case):
    """R: pmin(ps, 1 - ps) / ifelse(z == 1, ps, 1 - ps) with ps from glm()."""
    data, exp = case
    ref = exp["matching"]
    z = data["treated"].to_numpy()
    res = matching_weights(ref["ps"], z)
    np.testing.assert_allclose(res.weights, ref["weights"], rtol=1e-12)
    np.testing.assert_allclose(_effect(data["y"].to_numpy(), z, res.weights), ref["effect"],
                               rtol=1e-6)
    assert res.estimand == "ATM" and list(res.to_frame().columns) == ["row", "treated", "ps",
                                                                       "weight"]


covariate_data = st.integers(0, 2**32 - 1).map(lambda s: _draw(np.random.default_rng(s)))


def _draw(rng):
    n = int(rng.integers(40, 120))
    X = rng.normal(size=(n, 3)) * rng.uniform(0.1, 50, 3) + rng.normal(0, 20, 3)
    z = rng.binomial(1, 1 / (1 + np.exp(-(X - X.mean(0)) / X.std(0) @ rng.normal(0, 0.5, 3))))
    z[:3], z[3:6] = 1, 0
    return X, z


@settings(max_examples=25, deadline=None)
@given(covariate_data)
def test_cbps_att_is_entropy_balancing_att(data):
    """Just-identified CBPS for the ATT has control weights exp(d'beta) solving the same
    balance equations as entropy balancing (Zhao & Percival 2017): equal after scaling."""
    X, z = data
    e = entropy_balancing_kernel(X, z, "ATT")
    c = cbps_weights(X, z, estimand="ATT") if e.status.ok else None
    if c is None:
        return
    we, wc = e.weights[z == 0], c.weights[z == 0]
    np.testing.assert_allclose(we / we.sum(), wc / wc.sum(), rtol=1e-7, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(covariate_data, st.floats(0.01, 100), st.floats(-1000, 1000))
def test_entropy_balancing_weights_do_not_depend_on_units(data, scale, shift):
    """Rescaling and shifting a covariate leaves the weights unchanged."""
    X, z = data
    a = entropy_balancing_kernel(X, z, "ATE")
    if not a.status.ok:
        return
    X2 = X.copy()
    X2[:, 1] = X2[:, 1] * scale + shift
    b = entropy_balancing_kernel(X2, z, "ATE")
    np.testing.assert_allclose(b.weights, a.weights, rtol=1e-7)


def test_infeasible_target_is_reported_not_returned():
    """Every control below every treated unit: no control weights reach the treated mean."""
    X = np.r_[np.linspace(0, 1, 20), np.linspace(2, 3, 10)][:, None]
    z = np.r_[np.zeros(20), np.ones(10)]
    assert not entropy_balancing_kernel(X, z, "ATT").status.ok
    with pytest.raises(ValueError, match="convex hull"):
        entropy_balancing(X, z)


def test_infeasible_target_stops_early_on_a_separating_hyperplane():
    """Five covariates, the treated mean outside the controls' hull along a direction that
    no single covariate shows: the dual stops within a few Newton steps, and its last
    iterate is the certificate (every control on the far side of a hyperplane through the
    target), not the iteration limit."""
    rng = np.random.default_rng(7)
    Xc = rng.normal(size=(60, 5))
    Xc[:, 0] = -np.abs(Xc[:, 0]) - 0.2 * Xc[:, 1] ** 2        # controls: x0 < -0.2 x1^2
    Xt = rng.normal(size=(25, 5))
    Xt[:, 0] = np.abs(Xt[:, 0]) + 0.5                         # treated: x0 > 0.5
    X, z = np.vstack([Xc, Xt]), np.r_[np.zeros(60), np.ones(25)].astype(int)
    res = entropy_balancing_kernel(X, z, "ATT")
    assert not res.status.ok and res.n_iter <= 20
    assert ((Xc - res.target) @ res.coef).max() < 0


def _strictly_inside_hull(C: np.ndarray) -> float:
    """Largest t such that weights w >= t, sum 1, put the origin at C' w (LP): > 0 iff the
    origin is in the relative interior of the rows' convex hull (entropy balancing's
    feasibility condition)."""
    from scipy.optimize import linprog
    n, p = C.shape
    A_eq = np.vstack([np.c_[C.T, np.zeros(p)], np.r_[np.ones(n), 0.0]])
    A_ub = np.c_[-np.eye(n), np.ones(n)]                       # t - w_i <= 0
    res = linprog(np.r_[np.zeros(n), -1.0], A_ub=A_ub, b_ub=np.zeros(n), A_eq=A_eq,
                  b_eq=np.r_[np.zeros(p), 1.0], bounds=[(0, None)] * n + [(None, 1)],
                  method="highs")
    return -res.fun if res.status == 0 else -np.inf   # status 2: no weights at all


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 30), st.integers(1, 4),
       st.floats(0.0, 3.0))
def test_entropy_balancing_converges_iff_the_target_is_inside_the_hull(seed, n0, p, shift):
    """Converged: the controls' weighted means equal the treated means. Not converged:
    an LP says no strictly positive weights reach them (the early stop on a separating
    hyperplane is never a false alarm)."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n0, p)), rng.normal(shift, 1.0, size=(8, p))])
    z = np.r_[np.zeros(n0), np.ones(8)].astype(int)
    res = entropy_balancing_kernel(X, z, "ATT")
    inside = _strictly_inside_hull(X[z == 0] - X[z == 1].mean(axis=0))
    if res.status.ok:
        np.testing.assert_allclose(res.weighted_means[0], res.target, atol=1e-8)
    else:
        assert inside < 1e-6, (inside, res.n_iter)


@pytest.mark.parametrize("estimand", ["ATE", "ATT", "ATC"])
def test_cbps_on_separated_arms_is_not_converged_never_an_error(estimand):
    """A covariate that separates the arms makes the CBPS dual unbounded: the kernel says
    not converged (it once raised scipy's "array must not contain infs or NaNs" for the
    ATE, after exp() overflowed the Hessian), and the public function names the cause."""
    rng = np.random.default_rng(1)
    z = np.r_[np.ones(40), np.zeros(20)].astype(int)
    X = np.column_stack([5.0 * z + 0.01 * rng.normal(size=60), rng.normal(size=60)])
    res = cbps_weights_kernel(X, z, estimand)
    assert not res.status.ok and "separated" in res.message
    with pytest.raises(ValueError, match="not solved"):
        cbps_weights(X, z, estimand=estimand)


def test_capability_table_drives_validation():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
    z = np.r_[np.ones(20), np.zeros(30)]
    for method, cap in METHODS.items():
        x = np.full(50, 0.4) if cap.takes == "ps" else X
        res = balancing_weights(x, z, method=method)
        assert res.estimand == cap.estimands[0] and res.method == method
        with pytest.raises(ValueError, match=f"not defined for method='{method}'"):
            balancing_weights(x, z, method=method, estimand="ATX")
        if not cap.moments:
            with pytest.raises(ValueError, match="moments=2 is not supported"):
                balancing_weights(x, z, method=method, moments=2)
    assert balancing_weights(X, z, method="ebal").names == ("a", "b")
    with pytest.raises(ValueError, match="method must be one of"):
        balancing_weights(X, z, method="ps")
    with pytest.raises(ValueError, match="names does not apply"):
        balancing_weights(np.full(50, 0.4), z, method="matching", names=["a"])


@pytest.mark.parametrize("call, match", [
    (lambda X, z: entropy_balancing(X, z, moments=4), "moments must be one of"),
    (lambda X, z: entropy_balancing(np.c_[X, np.ones(50)], z), "constant columns"),
    (lambda X, z: entropy_balancing(np.c_[X, 2 * X[:, 0]], z), "linearly dependent"),
    (lambda X, z: cbps_weights(X, np.ones(50)), "both arms"),
    (lambda X, z: cbps_weights(X[:40], z), "mismatched lengths"),
    (lambda X, z: matching_weights(np.full(50, 1.0), z), r"ps must lie in \(0, 1\)"),
])
def test_bad_input_names_the_argument(call, match):
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match=match):
        call(rng.normal(size=(50, 2)), np.r_[np.ones(20), np.zeros(30)])


def _raised(call):
    with pytest.raises(ValueError) as err:
        call()
    return str(err.value)


@pytest.mark.parametrize("method, estimand, case", [
    ("ebal", "ATT", "outside_hull"), ("ebal", "ATT", "dependent"), ("ebal", "ATE", "ok"),
    ("cbps", "ATE", "separated"), ("cbps", "ATC", "separated"), ("cbps", "ATT", "ok")])
def test_checked_kernel_result_is_the_public_function_without_solving_again(method, estimand,
                                                                            case):
    """``balancing_weights_checked(kernel result, X, z)`` returns the kernel's result where
    the public function returns, and raises the public function's very error where it
    raises."""
    from tacebench.estimators.balancing_weights import balancing_weights_checked

    rng = np.random.default_rng(5)
    z = np.r_[np.ones(30), np.zeros(40)].astype(int)
    X = rng.normal(size=(70, 3))
    if case in ("outside_hull", "separated"):
        X[:, 0] += 6.0 * z
    elif case == "dependent":
        X[:, 2] = X[:, 0] - 2.0 * X[:, 1]
    kernel = {"ebal": entropy_balancing_kernel, "cbps": cbps_weights_kernel}[method]
    solved = kernel(X, z, estimand, ("x0", "x1", "x2"))
    if case == "ok":
        assert balancing_weights_checked(solved, X, z) is solved
        public = balancing_weights(X, z, method=method, estimand=estimand)
        np.testing.assert_array_equal(public.weights, solved.weights)
    else:
        message = _raised(lambda: balancing_weights(X, z, method=method, estimand=estimand))
        assert _raised(lambda: balancing_weights_checked(solved, X, z)) == message
        assert ("dependent" in message) == (case == "dependent")
