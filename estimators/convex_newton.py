"""Damped Newton minimisation of a smooth, strictly convex function, with an early exit on a
certificate that the minimum does not exist.

The balancing problems (entropy balancing's dual, the just-identified CBPS loss) have a few
dozen parameters and a Hessian that costs one ``n x p x p`` product, so Newton's method with
a backtracking (Armijo) line search reaches the optimum in a handful of steps from any
start (Boyd & Vandenberghe 2004, 9.5: globally convergent, quadratically near the optimum).
Near a gradient of ~1e-8 the objective changes by ~1e-16 relative, below its own rounding,
so an Armijo test can no longer tell a good step from a bad one: there, full Newton steps are
kept while they shrink the gradient norm, which is still computed exactly. "There" is a
gradient norm below 1e-6, or a Newton decrement ``g' H^-1 g`` (twice the decrease a full
step promises) within 1e4 rounding units of the objective: a large objective
(a mean of large terms, e.g. CBPS with a small arm) reaches its rounding floor at a larger
gradient, where an Armijo test against rounding noise would reject every step.

The objective returns its value with a function that computes the gradient and Hessian
from the same intermediate results: the line search tests a trial point on the value
alone, and the derivatives (an ``n x p x p`` product) are computed only at the point it
accepts. A problem that ends in a failed line search (40 halvings) pays 40 values, not
40 Hessians.

An infeasible balancing problem has an objective unbounded below: the Newton path runs off
to infinity. The caller may pass ``infeasible(x)``, a test that proves from one point that no
minimum exists (e.g. a separating hyperplane of entropy balancing), checked after each step,
so such a problem ends in a few steps instead of the iteration limit.

References
----------
Boyd S, Vandenberghe L (2004). Convex Optimization, 9.5. Cambridge University Press.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy.linalg import lapack

__all__ = ["GTOL", "minimize_convex"]

#: Gradient tolerance of the dual / moment problems, in SD units of the covariates.
GTOL = 1e-10
#: Below this gradient norm the line search's objective test is meaningless (see above).
_POLISH = 1e-6
#: ... or below this relative Newton decrement (1e4 rounding units of the objective)
_ROUNDING = 1e4 * np.finfo(np.float64).eps
_ARMIJO = 1e-4
# LAPACK's Cholesky factor and solve called directly: for the few dozen parameters here
# numpy's wrappers (two general solves on the triangular factor) cost more than the
# arithmetic
_potrf, _potrs = lapack.dpotrf, lapack.dpotrs


def _norm(g: np.ndarray) -> float:
    """``np.linalg.norm(g)`` of a real vector (the same ``sqrt(g . g)``) without its
    dispatch, which costs more than the arithmetic at a few dozen entries."""
    return math.sqrt(g @ g)


def _newton_step(g: np.ndarray, H: np.ndarray) -> np.ndarray | None:
    """``H^-1 g`` by Cholesky, or ``None`` when ``H`` is not numerically positive definite
    (an ill-conditioned Hessian gives no trustworthy step)."""
    if not np.isfinite(H).all():
        return None
    chol, info = _potrf(H, lower=1)
    if info != 0:
        return None
    step, info = _potrs(chol, g, lower=1)
    return step if info == 0 and np.isfinite(step).all() else None


def minimize_convex(fun: Callable, x0: np.ndarray, max_iter: int = 200,
                    infeasible: Callable[[np.ndarray], bool] | None = None
                    ) -> tuple[np.ndarray, int, bool]:
    """Minimise a smooth strictly convex function to a gradient norm of :data:`GTOL`.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, derivatives)``: the value at ``x`` and a function of no
        arguments returning the gradient and Hessian at ``x`` (called at most once, only
        for the points the search keeps).
    x0 : (p,) float array
        Start.
    max_iter : int
        Newton steps at most.
    infeasible : callable, optional
        ``infeasible(x) -> bool``: True proves the minimum does not exist (stop, not
        converged).

    Returns
    -------
    tuple
        ``(x, iterations, converged)``; ``converged`` iff the gradient norm is at most
        :data:`GTOL`.

    References
    ----------
    Boyd S, Vandenberghe L (2004). Convex Optimization, 9.5.
    """
    x = np.asarray(x0, dtype=np.float64).copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        f, derivatives = fun(x)
        g, H = derivatives()
        for it in range(max_iter):
            gn = _norm(g)
            if not (math.isfinite(f) and math.isfinite(gn)):
                return x, it, False
            if gn <= GTOL:
                return x, it, True
            step = _newton_step(g, H)
            if step is None:
                return x, it, False
            decrement = float(g @ step)
            if gn < _POLISH or decrement <= _ROUNDING * max(1.0, abs(f)):
                # objective below rounding: keep a full step only if the gradient shrinks
                x_new = x - step
                f_new, derivatives = fun(x_new)
                g_new, H_new = derivatives()
                if not _norm(g_new) < gn:
                    return x, it, False
                x, f, g, H = x_new, f_new, g_new, H_new
                continue
            t = 1.0
            while True:
                x_new = x - t * step
                f_new, derivatives = fun(x_new)
                if math.isfinite(f_new) and f_new <= f - _ARMIJO * t * decrement:
                    break
                t *= 0.5
                if t < 1e-12:   # no descent along the Newton direction: give up
                    return x, it, False
            # ``fun`` has just been evaluated at this very array, so ``infeasible`` may
            # reuse what ``fun`` computed there
            x, f = x_new, f_new
            g, H = derivatives()
            if infeasible is not None and infeasible(x):
                return x, it + 1, False
    gn = _norm(g)
    return x, max_iter, bool(math.isfinite(gn) and gn <= GTOL)
