"""The result of a balancing-weights method and its covariate checks.

Entropy balancing (:mod:`estimators.weights_ebal`), the just-identified covariate balancing
propensity score (:mod:`estimators.weights_cbps`) and matching weights
(:mod:`estimators.weights_matching`) all return a :class:`BalancingWeights`. The first two
solve a smooth, strictly convex problem whose gradient *is* the covariate imbalance, so one
solver (:func:`estimators.convex_newton.minimize_convex`, re-exported here) serves both: at
its optimum the balance constraints hold to the gradient tolerance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tacebench.records import ArrayRecord

from ._checks import as_float_array, check_binary, check_both_arms, check_finite, check_lengths
from .convex_newton import GTOL, minimize_convex  # noqa: F401  (re-exported)
from .status import Estimability

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["BalancingWeights", "certainly_full_rank", "check_covariates", "check_independent",
           "column_rank", "minimize_convex", "moment_columns"]



@dataclass(frozen=True, eq=False)
class BalancingWeights(ArrayRecord):
    """Unit weights from a balancing method, with the balance they achieve.

    Attributes
    ----------
    weights : (n,) float array
    treated : (n,) int8 array of 0/1
    method : str
        ``"ebal"``, ``"cbps"`` or ``"matching"``.
    estimand : str
    ps : (n,) float array or None
        Propensity score (CBPS's fitted score; the score the matching weights were built
        from); None for entropy balancing.
    coef : (k,) float array or None
        CBPS: propensity-model coefficients (intercept first) on the covariates' own scale.
        Entropy balancing: Lagrange multipliers of the balance constraints, per reweighted
        arm stacked (control first), on the covariates' own scale.
    names : tuple of str
        The balanced columns (after ``moments`` powers), empty for matching weights.
    target : (p,) float array
        The means the method balances to (NaN where it balances the arms to each other).
    weighted_means : (2, p) float array
        Weighted means of the balanced columns, control row then treated row.
    n_iter : int
    status : Estimability
        ``NOT_CONVERGED`` when the solver did not reach the gradient tolerance (for entropy
        balancing usually: the target lies outside the convex hull of the arm), else OK.
    message : str
    """

    weights: np.ndarray
    treated: np.ndarray
    method: str
    estimand: str
    ps: np.ndarray | None = None
    coef: np.ndarray | None = None
    names: tuple = ()
    target: np.ndarray = field(default_factory=lambda: np.empty(0))
    weighted_means: np.ndarray = field(default_factory=lambda: np.empty((2, 0)))
    n_iter: int = 0
    status: Estimability = Estimability.OK
    message: str = ""

    @property
    def max_imbalance(self) -> float:
        """Largest absolute difference between the weighted arm means (0 without columns)."""
        if not self.names:
            return 0.0
        return float(np.max(np.abs(self.weighted_means[1] - self.weighted_means[0])))

    def to_frame(self) -> pd.DataFrame:
        """One row per unit: ``row, treated, ps, weight``."""
        import pandas as pd
        ps = self.ps if self.ps is not None else np.full(self.weights.size, np.nan)
        return pd.DataFrame({"row": np.arange(self.weights.size), "treated": self.treated,
                             "ps": ps, "weight": self.weights})

    def balance(self) -> pd.DataFrame:
        """One row per balanced column: target, weighted control and treated means."""
        import pandas as pd
        return pd.DataFrame({"covariate": list(self.names), "target": self.target,
                             "control": self.weighted_means[0],
                             "treated": self.weighted_means[1],
                             "difference": self.weighted_means[1] - self.weighted_means[0]})


def check_covariates(X, treated, names=None) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Validated ``(X (n, p), z int8, names)``: finite numeric columns, both arms present,
    no constant column (it cannot be balanced and makes the problem singular)."""
    import pandas as pd
    if names is None and isinstance(X, pd.DataFrame):
        names = tuple(str(c) for c in X.columns)
    Xa = check_finite(as_float_array(X, "X", ndim=2), "X")
    z = check_binary(treated, "treated")
    check_lengths({"X": Xa, "treated": z})
    check_both_arms(z)
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(Xa.shape[1]))
    if len(names) != Xa.shape[1]:
        raise ValueError(f"names has {len(names)} entries for {Xa.shape[1]} columns of X")
    const = [nm for nm, col in zip(names, Xa.T) if np.ptp(col) == 0]
    if const:
        raise ValueError(f"X has constant columns {const}; drop them before balancing")
    return Xa, z, names


def check_independent(X: np.ndarray, names: tuple, what: str) -> None:
    """Raise when the columns of ``X`` and an intercept are linearly dependent
    (:func:`column_rank`): the balance conditions are then redundant and the solution's
    coefficients not identified. ``what`` names the columns in the message."""
    rank = column_rank(np.column_stack([np.ones(X.shape[0]), X]))
    if rank < X.shape[1] + 1:
        raise ValueError(f"the {what} {list(names)} are linearly dependent (rank "
                         f"{rank - 1} of {X.shape[1]}); drop redundant covariates")


def moment_columns(X: np.ndarray, names: tuple, moments: int) -> tuple[np.ndarray, tuple]:
    """``X`` with the powers 2..``moments`` of its non-binary columns appended (WeightIt's
    ``moments``; a two-valued column's square carries no new constraint)."""
    cols, nm = [X], list(names)
    for k in range(2, moments + 1):
        keep = [j for j in range(X.shape[1]) if np.unique(X[:, j]).size > 2]
        cols.append(X[:, keep] ** k)
        nm += [f"{names[j]}^{k}" for j in keep]
    return np.column_stack(cols), tuple(nm)


def weighted_arm_means(X: np.ndarray, in_arm, w: np.ndarray) -> np.ndarray:
    """(2, p) weighted means of the columns of ``X``, control row then treated row;
    ``in_arm`` the two boolean row masks (control, treated)."""
    # np.average's own arithmetic (the products summed down the rows, over the weights'
    # sum) without its argument checks, which cost more than the sums
    out = np.empty((2, X.shape[1]))
    for a, rows in enumerate(in_arm):
        wa = w[rows][:, None]
        out[a] = np.multiply(X[rows], wa).sum(axis=0) / wa.sum(axis=0)
    return out


def standardize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns over their SD (all units), so that the gradient tolerance is in SD units."""
    sd = X.std(axis=0, ddof=1)
    return X / sd, sd


def column_rank(A: np.ndarray) -> int:
    """``numpy.linalg.matrix_rank(A)``, without its SVD when the Gram matrix proves full
    column rank.

    Parameters
    ----------
    A : (m, k) float array

    Returns
    -------
    int
        The number of singular values above ``max(m, k) eps`` times the largest, as
        ``matrix_rank`` decides it.

    Notes
    -----
    With ``B`` the columns of ``A`` over their norms ``s``, ``σ_min(A) >= σ_min(B) min(s)``
    and ``σ_max(A) <= sqrt(k) max(s)``. ``B'B`` is formed as ``A'A`` scaled by ``s_i s_j``:
    each entry's rounding error is at most ``m eps`` of ``s_i s_j`` (Higham 2002, 3.5), so
    this and the symmetric eigensolver move the eigenvalues of ``B'B`` by less than
    ``(m + k) k eps`` (Golub & Van Loan 2013, 8.1). So when the computed smallest eigenvalue of ``B'B``, less that error,
    puts ``σ_min(A)`` 1000 times above ``matrix_rank``'s threshold, the SVD (whose singular
    values are accurate to a small multiple of ``eps σ_max``) counts all ``k``: the full
    rank is returned at the cost of a ``k x k`` eigenproblem. Otherwise (a dependent or
    nearly dependent set of columns) ``matrix_rank`` itself decides.

    References
    ----------
    Higham NJ (2002). Accuracy and Stability of Numerical Algorithms, 2nd ed. SIAM.
    Golub GH, Van Loan CF (2013). Matrix Computations, 4th ed. Johns Hopkins.
    """
    m, k = A.shape
    if certainly_full_rank(A.T @ A, m):
        return k
    return int(np.linalg.matrix_rank(A))


def certainly_full_rank(G: np.ndarray, m: int) -> bool:
    """:func:`column_rank`'s certificate: does the Gram matrix ``G = A'A`` of an (m, k)
    matrix ``A`` (or a positive multiple of it, such as a covariance matrix) put
    ``σ_min(A)`` 1000 times above ``matrix_rank``'s threshold? ``False`` decides
    nothing."""
    k = G.shape[0]
    s = np.sqrt(np.diag(G))   # the column norms (times a common factor)
    if m >= k > 0 and np.isfinite(G).all() and s.min() > 0.0:
        eps = np.finfo(np.float64).eps
        lam_min = np.linalg.eigvalsh(G / np.outer(s, s))[0] - 10.0 * (m + k) * k * eps
        threshold = 1e3 * max(m, k) * eps * np.sqrt(k) * s.max() / s.min()
        return bool(lam_min > 0.0 and np.sqrt(lam_min) > threshold)
    return False
