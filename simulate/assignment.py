"""Treatment assignment: logistic route solver and the unmeasured confounder.

Logistic route (``assignment = "logistic"``): population covariates come from the
Gaussian copula with the *pooled* marginals (the arm-size-weighted mixture of the arms'
fitted marginals); treatment follows ``e(x) = expit(alpha + beta' T(x) + gamma u)``
where ``T`` holds what Table 1 reports: standardised ``x`` and ``x^2`` for a
continuous or count variable (mean and SD), bin indicators for a category split, the
indicator for a binary variable and level dummies for a categorical one. ``alpha,
beta`` solve the population moment equations

``E[e(X)] = pi_1`` and ``E[e(X) (T(X) - m_1)] = 0``

(``m_1`` = the treated arm's fitted moments), so the treated arm reproduces its Table-1
row in expectation, and so does the control arm because the population is the
mixture. The equations are solved by Newton's method on a fixed-seed population sample
(:data:`POPULATION_SIZE`). Exact arm sizes: candidates are drawn from the population
and assigned by ``e(x)``; the first ``n_a`` of each arm are kept, so each arm is an iid
sample of ``f(x | A = a)`` and ``e(x)`` is the exact propensity.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord

from .marginals import Z_GRID, Marginal
from .spec import SpecError

POPULATION_SIZE = 200_000
_W = np.exp(-0.5 * Z_GRID ** 2)
_W /= _W.sum()


@dataclass(frozen=True, eq=False)
class FeatureMap(ArrayRecord):
    """Which columns of the covariate matrix enter ``T(x)`` and how."""

    kinds: tuple[str, ...]       # per feature: "lin", "sq", "ind"
    cols: tuple[int, ...]        # covariate column
    levels: tuple[float, ...]    # value for "ind" (x == level) or bin edge index for "bin"
    center: np.ndarray
    scale: np.ndarray
    edges: tuple[tuple[float, float], ...]  # for "bin": [lo, hi)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = np.empty((x.shape[0], len(self.kinds)))
        for f, (k, c) in enumerate(zip(self.kinds, self.cols)):
            v = x[:, c]
            if k == "lin":
                out[:, f] = (v - self.center[f]) / self.scale[f]
            elif k == "sq":
                out[:, f] = ((v - self.center[f]) / self.scale[f]) ** 2
            elif k == "ind":
                out[:, f] = v == self.levels[f]
            else:
                lo, hi = self.edges[f]
                out[:, f] = (v >= lo) & (v < hi)
        return out


def _table_moments(m: Marginal) -> tuple[float, float]:
    return float(_W @ m.table), float(_W @ m.table ** 2)


def feature_map(types: list[str], splits: list[tuple[float, ...]], pooled: list[Marginal],
                treated: list[Marginal]) -> tuple[FeatureMap, np.ndarray]:
    """Features and the treated arm's target moments ``m_1`` (same order)."""
    kinds, cols, levels, center, scale, edges, target = [], [], [], [], [], [], []
    for c, (t, cuts, pm, tm) in enumerate(zip(types, splits, pooled, treated)):
        if t in ("binary", "categorical"):
            for lev in range(1, len(pm.values)):
                kinds.append("ind"); cols.append(c); levels.append(float(pm.values[lev]))
                center.append(0.0); scale.append(1.0); edges.append((0.0, 0.0))
                target.append(float(tm.probs[lev]))
        elif cuts:
            e = (-np.inf,) + tuple(cuts) + (np.inf,)
            for b in range(1, len(e) - 1):
                kinds.append("bin"); cols.append(c); levels.append(0.0)
                center.append(0.0); scale.append(1.0); edges.append((e[b], e[b + 1]))
                target.append(float(tm.probs[b]))
        else:
            if pm.kind == "discrete":
                mu = float(pm.probs @ pm.values); sd = float(np.sqrt(pm.probs @ (pm.values - mu) ** 2))
                m1, m2 = float(tm.probs @ tm.values), float(tm.probs @ tm.values ** 2)
            else:
                mu, s2 = _table_moments(pm); sd = float(np.sqrt(max(s2 - mu * mu, 1e-300)))
                m1, m2 = _table_moments(tm)
            sd = max(sd, 1e-12)
            for k in ("lin", "sq"):
                kinds.append(k); cols.append(c); levels.append(0.0)
                center.append(mu); scale.append(sd); edges.append((0.0, 0.0))
            target.append((m1 - mu) / sd)
            target.append((m2 - 2 * mu * m1 + mu * mu) / sd ** 2)
    fm = FeatureMap(tuple(kinds), tuple(cols), tuple(levels), np.array(center), np.array(scale), tuple(edges))
    return fm, np.array(target)


def solve_logistic(t: np.ndarray, target: np.ndarray, pi1: float, offset: np.ndarray | None = None,
                   key: str = "assignment") -> np.ndarray:
    """Solve ``(alpha, beta)`` of the population moment equations (Newton)."""
    from scipy import optimize
    n, p = t.shape
    design = np.column_stack([np.ones(n), t])
    off = np.zeros(n) if offset is None else offset
    goal = np.concatenate([[pi1], pi1 * target])

    def fun(theta):
        e = special.expit(design @ theta + off)
        g = np.concatenate([[e.mean()], (e[:, None] * t).mean(0) - e.mean() * target]) - np.concatenate([[pi1], np.zeros(p)])
        w = e * (1 - e)
        jac_full = (design * w[:, None]).T @ design / n
        jac = np.vstack([jac_full[0], jac_full[1:] - np.outer(target, jac_full[0])])
        return g, jac

    theta0 = np.zeros(p + 1)
    theta0[0] = special.logit(pi1)
    sol = optimize.root(fun, theta0, jac=True, method="hybr", options={"xtol": 1e-12})
    g, _ = fun(sol.x)
    if not np.all(np.isfinite(sol.x)) or np.max(np.abs(g)) > 1e-6 * max(1.0, np.abs(goal).max()):
        raise SpecError(key, f"no logistic assignment model reproduces both arms' tables (largest moment "
                        f"residual {np.max(np.abs(g)):.3g}); the arms may be too different for overlap — "
                        "use assignment = 'arm_marginals'")
    return sol.x


def unmeasured_probs(prevalence: float, odds_ratio: float, pi1: float) -> tuple[float, float]:
    """``P(U = 1 | control), P(U = 1 | treated)`` with the given overall prevalence and
    treated-vs-control odds ratio."""
    from scipy import optimize
    if odds_ratio == 1.0:
        return prevalence, prevalence
    pi0 = 1 - pi1

    def f(p1):
        p0 = (prevalence - pi1 * p1) / pi0
        return np.log(p1 / (1 - p1)) - np.log(p0 / (1 - p0)) - np.log(odds_ratio)

    lo = max(1e-12, (prevalence - pi0) / pi1 + 1e-12)
    hi = min(1 - 1e-12, prevalence / pi1 - 1e-12)
    p1 = optimize.brentq(f, lo, hi, xtol=1e-14)
    return (prevalence - pi1 * p1) / pi0, p1
