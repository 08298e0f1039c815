"""Balancing weights and matching variants against their Python references, on the
seed-000 cohort (n = 423, the 19 propensity-model covariates).

Each pair first checks, outside the timed call, that ours equals the reference: entropy
balancing against BFGS on the same dual (control weights to 1e-6 relative), CBPS against
``scipy.optimize.root`` on the moment conditions themselves (weights to 1e-6), matching
weights against the numpy formula (exactly), Mahalanobis matching against a brute-force
greedy matcher calling ``scipy.spatial.distance.mahalanobis`` per pair (same pairs).
Entropy balancing with 26 controls (seed 003's control arm size; the treated means then lie
outside the controls' convex hull) times how fast each side gives up: ours must report not
converged with a separating hyperplane, BFGS must end without reaching the gradient
tolerance. Optimal matching and the Abadie-Imbens estimator have no Python reference here (their
correctness references are R's ``clue::solve_LSAP`` and ``Matching::Match`` fixtures).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special
from scipy.spatial.distance import mahalanobis

from tacebench.benchmarks.speed import pipelines as P

GROUP = "balancing weights and matching variants (n=423)"


@pytest.fixture(scope="module")
def data(cohort423):
    from tacebench.estimators.kernels import fit_logistic

    D = P.ps_design(cohort423)
    z = cohort423["treated"].astype(np.float64)
    ps = fit_logistic(D, z, np.ones(z.size)).fitted
    X = D[:, 1:][:, np.ptp(D[:, 1:], axis=0) > 0]
    y = np.log(cohort423["os_time"])
    keep = (z == 1) | (np.cumsum(z == 0) <= 26)          # all treated, the first 26 controls
    Xf = X[keep][:, np.ptp(X[keep], axis=0) > 0]
    return {"X": X, "Xm": X[:, :4], "z": z.astype(np.int8), "ps": ps, "y": y,
            "X26": Xf, "z26": z[keep].astype(np.int8)}


def ref_ebal_dual(X, z):
    """BFGS on the entropy-balancing dual of the controls: (its result, the rows C)."""
    C = (X[z == 0] - X[z == 1].mean(0)) / X.std(0, ddof=1)

    def f(lam):
        eta = C @ lam
        lse = special.logsumexp(eta)
        return lse, np.exp(eta - lse) @ C
    with np.errstate(over="ignore", invalid="ignore"):   # an unbounded dual overflows
        return optimize.minimize(f, np.zeros(C.shape[1]), jac=True, method="BFGS",
                                 options={"gtol": 1e-10, "maxiter": 2000}), C


def ref_ebal_att(X, z):
    """Control weights minimising log-sum-exp of the centred covariates by BFGS."""
    res, C = ref_ebal_dual(X, z)
    w = np.exp(C @ res.x)
    return w / w.mean()


def ref_cbps_ate(X, z):
    """Root of the ATE balance conditions (scipy ``hybr`` with the analytic Jacobian)."""
    D = np.column_stack([np.ones(z.size), X / X.std(0, ddof=1)])

    def g(b):
        e = special.expit(D @ b)
        m = z / e - (1 - z) / (1 - e)
        dm = -z * (1 - e) / e - (1 - z) * e / (1 - e)
        return D.T @ m / z.size, (D * dm[:, None]).T @ D / z.size
    b = optimize.root(g, np.zeros(D.shape[1]), jac=True, method="hybr", tol=1e-13).x
    e = special.expit(D @ b)
    return np.where(z == 1, 1 / e, 1 / (1 - e))


def ref_mahalanobis_greedy(X, z):
    """1:1 greedy in data order without replacement, one scipy call per pair."""
    VI = np.linalg.inv(np.cov(X, rowvar=False))
    free = list(np.flatnonzero(z == 0))
    out = []
    for i in np.flatnonzero(z == 1):
        d = [mahalanobis(X[i], X[j], VI) for j in free]
        out.append((i, free.pop(int(np.argmin(d)))))
    return out


@pytest.fixture(scope="module")
def agree(data):
    from tacebench.estimators.matching_mahalanobis import match_mahalanobis_kernel
    from tacebench.estimators.weights_cbps import cbps_weights_kernel
    from tacebench.estimators.weights_ebal import entropy_balancing_kernel
    from tacebench.estimators.weights_matching import matching_weights_kernel

    X, z = data["X"], data["z"]
    e = entropy_balancing_kernel(X, z, "ATT")
    assert e.status.ok
    np.testing.assert_allclose(e.weights[z == 0], ref_ebal_att(X, z), rtol=1e-6)
    c = cbps_weights_kernel(X, z, "ATE")
    assert c.status.ok
    np.testing.assert_allclose(c.weights, ref_cbps_ate(X, z), rtol=1e-6)
    ps = data["ps"]
    np.testing.assert_array_equal(matching_weights_kernel(ps, z).weights,
                                  np.minimum(ps, 1 - ps) / np.where(z == 1, ps, 1 - ps))
    bad = entropy_balancing_kernel(data["X26"], data["z26"], "ATT")
    X26c = data["X26"][data["z26"] == 0]
    assert not bad.status.ok and ((X26c - bad.target) @ bad.coef).max() < 0
    res, C = ref_ebal_dual(data["X26"], data["z26"])
    assert not np.linalg.norm(res.jac) <= 1e-10   # BFGS does not converge either (NaN: overflow)
    m = match_mahalanobis_kernel(data["Xm"], z)
    assert list(zip(m.treated_index, m.control_index[:, 0])) == ref_mahalanobis_greedy(
        data["Xm"], z)
    return True


def _ours(name, data):
    from tacebench.estimators import (matching_ai, matching_mahalanobis, matching_optimal,
                                      weights_cbps, weights_ebal, weights_matching)

    X, z, ps = data["X"], data["z"], data["ps"]
    return {
        "ebal_att": lambda: weights_ebal.entropy_balancing_kernel(X, z, "ATT"),
        "ebal_att_infeasible": lambda: weights_ebal.entropy_balancing_kernel(
            data["X26"], data["z26"], "ATT"),
        "cbps_ate": lambda: weights_cbps.cbps_weights_kernel(X, z, "ATE"),
        "matching_weights": lambda: weights_matching.matching_weights_kernel(ps, z),
        "mahalanobis_matching": lambda: matching_mahalanobis.match_mahalanobis_kernel(
            data["Xm"], z),
        "optimal_matching": lambda: matching_optimal.match_optimal_kernel(ps, z, "logit"),
        "match_estimate": lambda: matching_ai.match_estimate_kernel(data["y"], data["Xm"], z,
                                                                    "ATT"),
    }[name]


def _reference(name, data):
    X, z, ps = data["X"], data["z"], data["ps"]
    return {
        "ebal_att": lambda: ref_ebal_att(X, z),
        "ebal_att_infeasible": lambda: ref_ebal_dual(data["X26"], data["z26"]),
        "cbps_ate": lambda: ref_cbps_ate(X, z),
        "matching_weights": lambda: np.minimum(ps, 1 - ps) / np.where(z == 1, ps, 1 - ps),
        "mahalanobis_matching": lambda: ref_mahalanobis_greedy(data["Xm"], z),
    }[name]


OURS = ["ebal_att", "ebal_att_infeasible", "cbps_ate", "matching_weights", "mahalanobis_matching", "optimal_matching",
        "match_estimate"]
REFERENCED = ["ebal_att", "ebal_att_infeasible", "cbps_ate", "matching_weights", "mahalanobis_matching"]


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("name", OURS)
def test_balance_ours(benchmark, data, agree, name):
    ref = f"{name}_ref" if name in REFERENCED else None
    benchmark.extra_info.update(case=name, side="ours", ref=ref)
    benchmark(_ours(name, data))


@pytest.mark.benchmark(group=GROUP)
@pytest.mark.parametrize("name", REFERENCED)
def test_balance_reference(benchmark, data, agree, name):
    benchmark.extra_info.update(case=f"{name}_ref", side="reference")
    benchmark(_reference(name, data))
