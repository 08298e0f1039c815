"""Compiled covariate generator and the exact true propensity score.

``arm_marginals`` assignment: each arm's covariates come from a Gaussian copula with
that arm's fitted marginals (Table 1 reproduced by construction). The true propensity
is ``e(x) = pi_1 f_1(x) / (pi_1 f_1(x) + pi_0 f_0(x))`` with ``pi_a = n_a / N`` and
``f_a`` the arm's generating density:

``log f_a(x) = log phi_R_CC(z_C) - sum_C log Q_a'(z_j) + sum_D log P_a(x_j | z_C)``

(``phi_R_CC`` the joint normal density of the continuous latents: copula density times
the standard-normal densities of the marginal change of variables)

where ``z_C`` are the continuous variables' latents under arm ``a`` (inverse of the
arm's tabulated quantile map), ``Q_a'`` its slope (the map is piecewise linear, so this
is exact) and ``P_a(x_j | z_C)`` the conditional probability of a discrete level given
the continuous latents (the discrete latents are conditionally independent given
``z_C``, see :mod:`simulate.correlation`). An unmeasured binary confounder ``U``,
independent of ``x`` within arms, multiplies in ``P_a(u)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord

from .families import DZ, N_GRID, Z_GRID, Z_MAX
from .marginals import Marginal
from .search import SortedCuts

_LOG2PI = np.log(2 * np.pi)


@dataclass(frozen=True, eq=False)
class ArmTables(ArrayRecord):
    """One arm's compiled marginals in the plan's internal order (continuous first)."""

    tables: np.ndarray            # (p_C, G) x at Z_GRID
    log_slopes: np.ndarray        # (p_C, G-1) log dx/dz per grid segment
    cuts: tuple[np.ndarray, ...]  # per discrete variable, latent thresholds (K-1,)
    values: tuple[np.ndarray, ...]
    padded_cuts: np.ndarray       # (p_D, Kmax+1) with -inf/+inf edges, for interval probabilities
    small: np.ndarray             # discrete variables with few levels (codes are the values)
    small_cuts: np.ndarray        # (len(small), k) thresholds padded with +inf
    large: np.ndarray             # counts: searched one by one
    steps: np.ndarray | None = None  # (p_C, G) tables[:, k+1] - tables[:, k] (last column 0)
    searches: tuple[SortedCuts, ...] = ()  # per ``large`` variable, its cuts' lookup


def arm_tables(margs: list[Marginal], n_cont: int) -> ArmTables:
    cont, disc = margs[:n_cont], margs[n_cont:]
    tabs = np.array([m.table for m in cont]).reshape(n_cont, N_GRID)
    slopes = np.log(np.diff(tabs, axis=1) / DZ) if n_cont else np.zeros((0, N_GRID - 1))
    kmax = max([len(m.values) for m in disc], default=1)
    padded = np.full((len(disc), kmax + 1), np.inf)
    for i, m in enumerate(disc):
        padded[i, 0] = -np.inf
        padded[i, 1:len(m.cuts) + 1] = m.cuts
    small = np.array([i for i, m in enumerate(disc) if len(m.values) <= 8 and
                      np.array_equal(m.values, np.arange(len(m.values)))], dtype=np.intp)
    large = np.array([i for i in range(len(disc)) if i not in set(small.tolist())], dtype=np.intp)
    ks = max([len(disc[i].cuts) for i in small], default=1)
    small_cuts = np.full((len(small), max(ks, 1)), np.inf)
    for r, i in enumerate(small):
        small_cuts[r, :len(disc[i].cuts)] = disc[i].cuts
    steps = np.zeros_like(tabs)
    steps[:, :-1] = np.diff(tabs, axis=1)
    return ArmTables(tabs, slopes, tuple(m.cuts for m in disc), tuple(m.values for m in disc), padded,
                     small, small_cuts, large, steps, tuple(SortedCuts.build(disc[j].cuts) for j in large))


#: elements per block of the row-wise kernels: temporaries of ~256 kB stay in cache and
#: are recycled by the allocator instead of being mapped afresh for stacked replicates
BLOCK = 32_768


def leading_blocks(shape: tuple[int, ...], block: int | None = None) -> list[slice]:
    """Slices of the leading axis whose blocks hold about ``block`` (:data:`BLOCK`) elements."""
    block = BLOCK if block is None else block
    per = math.prod(shape[1:])
    if per * shape[0] <= block:
        return [slice(None)]
    step = max(1, block // max(per, 1))
    return [slice(i, min(i + step, shape[0])) for i in range(0, shape[0], step)]


def interp_tables(tables: np.ndarray, z: np.ndarray, steps: np.ndarray | None = None,
                  out: np.ndarray | None = None) -> np.ndarray:
    """Linear interpolation of ``tables[j]`` (on :data:`Z_GRID`) at ``z[j]`` (variables first).

    ``lo + frac * (hi - lo)`` per entry; ``steps`` (:attr:`ArmTables.steps`, the
    precomputed ``hi - lo``) saves a gather. ``z[j]`` may have any shape (rows, or
    replicates x rows); runs in blocks of variables, written into ``out`` (a view may
    be given) or a new array.
    """
    out = np.empty(z.shape) if out is None else out
    if tables.shape[0] == 0:
        return out
    flat = tables.ravel()
    offsets = (np.arange(tables.shape[0]) * N_GRID).reshape((-1,) + (1,) * (z.ndim - 1))
    for blk in leading_blocks(z.shape):
        t = np.clip(z[blk], -Z_MAX, Z_MAX)
        t += Z_MAX
        t /= DZ
        idx = t.astype(np.intp)
        np.minimum(idx, N_GRID - 2, out=idx)
        t -= idx  # the fraction within the grid segment
        idx += offsets[blk]
        lo = flat.take(idx)
        t *= (flat.take(idx + 1) - lo) if steps is None else steps.ravel().take(idx)
        np.add(t, lo, out=out[blk])
    return out


def segment_values(arr: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``arr[j, segment(z[:, j])]`` for per-segment arrays of shape (p, G-1)."""
    t = (np.clip(z, -Z_MAX, Z_MAX) + Z_MAX) / DZ
    idx = np.minimum(t.astype(np.intp), N_GRID - 2)
    return arr.ravel()[idx + (np.arange(arr.shape[0]) * (N_GRID - 1))[None, :]]


def latent_of(tab: ArmTables, x_cont: np.ndarray) -> np.ndarray:
    """Continuous latents under an arm: exact inverse of its piecewise-linear maps."""
    out = np.empty_like(x_cont)
    for j in range(x_cont.shape[-1]):
        out[..., j] = np.interp(x_cont[..., j], tab.tables[j], Z_GRID)
    return out


def log_interval(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` for ``a <= b``, accurate in both tails.

    Intervals in the upper tail are mirrored (``Phi(b) - Phi(a) = Phi(-a) - Phi(-b)``)
    so both log-CDFs stay away from 0.
    """
    flip = a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    out = special.log_ndtr(hi)
    # One-sided intervals (every level of a binary variable, the end levels of the others)
    # have lo = -inf, where the correction below is exactly 0: computed only where lo is
    # finite, which is the costly log_ndtr's work halved and the same numbers.
    two = np.flatnonzero(lo != -np.inf)  # NaN, if any, takes the general formula
    if two.size:
        l_hi = out.ravel()[two]
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = np.log1p(-np.exp(special.log_ndtr(lo.ravel()[two]) - l_hi))
        out.ravel()[two] = l_hi + corr
    # an empty level (probability 0 in this arm) gives -inf, never NaN
    return np.where(np.isnan(out), -np.inf, out)


@dataclass(frozen=True, eq=False)
class DensityModel(ArrayRecord):
    """Pieces of the copula density shared by all arms (internal variable order)."""

    n_cont: int
    rcc_inv: np.ndarray           # R_CC^-1 (copula term plus the standard-normal marginal terms)
    half_logdet: float
    b: np.ndarray                 # (p_D, p_C) = R_DC R_CC^-1
    s: np.ndarray                 # (p_D,) conditional SDs of the discrete latents

    @classmethod
    def from_corr(cls, r: np.ndarray, n_cont: int) -> "DensityModel":
        rcc = r[:n_cont, :n_cont]
        if n_cont:
            inv = np.linalg.inv(rcc)
            logdet = float(np.linalg.slogdet(rcc)[1])
            b = r[n_cont:, :n_cont] @ inv
            s = np.sqrt(np.maximum(1.0 - np.einsum("ij,ji->i", b, r[:n_cont, n_cont:]), 1e-12))
        else:
            inv, logdet = np.zeros((0, 0)), 0.0
            b = np.zeros((r.shape[0], 0))
            s = np.ones(r.shape[0])
        return cls(n_cont, inv, 0.5 * logdet, b, s)

    def log_density(self, tab: ArmTables, z_c: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """``log f_a(x)`` up to a constant common to all arms.

        ``z_c``: continuous latents under the arm; ``codes``: level index of each discrete
        variable under the arm (``-1`` = outside the arm's support). Rows are the last
        axis but one (stacked replicates may lead).
        """
        out = np.zeros(z_c.shape[:-1])
        if self.n_cont:
            # the quadratic form z' R^-1 z per row, by a matrix product (einsum's
            # three-operand loop cost four times as much)
            out -= 0.5 * ((z_c @ self.rcc_inv) * z_c).sum(axis=-1) + self.half_logdet
            out -= segment_values(tab.log_slopes, z_c).sum(axis=-1)
        if codes.shape[-1]:
            m = z_c @ self.b.T if self.n_cont else np.zeros_like(codes, dtype=float)
            ok = codes >= 0
            c = np.where(ok, codes, 0)
            rows = np.arange(codes.shape[-1])
            lo = tab.padded_cuts[rows, c]
            hi = tab.padded_cuts[rows, c + 1]
            lp = log_interval((lo - m) / self.s, (hi - m) / self.s)
            out += np.where(ok, lp, -np.inf).sum(axis=-1)
        return out


def discrete_codes(tab: ArmTables, x_disc: np.ndarray) -> np.ndarray:
    """Level index of each discrete value under an arm's support (-1 if absent)."""
    codes = x_disc.astype(np.intp)
    for j in tab.large:
        vals = tab.values[j]
        k = np.minimum(np.searchsorted(vals, x_disc[..., j]), len(vals) - 1)
        codes[..., j] = np.where(vals[k] == x_disc[..., j], k, -1)
    return codes


def draw_discrete(tab: ArmTables, z_d: np.ndarray, out: np.ndarray | None = None, codes: bool = True
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Values and level codes of the discrete variables from their latents ``z_d[j]``.

    Variables first, like :func:`interp_tables`; values go to ``out`` (or a new array);
    ``codes=False`` skips the level codes (``None``).
    """
    x = np.empty(z_d.shape) if out is None else out
    cd = np.empty(z_d.shape, dtype=np.intp) if codes else None
    if len(tab.small):  # level = number of thresholds below the latent (padding is +inf)
        zs = z_d[tab.small]
        cuts = tab.small_cuts.reshape(tab.small_cuts.shape + (1,) * (z_d.ndim - 1))
        c = (zs > cuts[:, 0]).astype(np.intp)
        for k in range(1, cuts.shape[1]):
            c += zs > cuts[:, k]
        x[tab.small] = c
        if codes:
            cd[tab.small] = c
    for i, j in enumerate(tab.large):
        k = tab.searches[i](z_d[j]) if tab.searches else np.searchsorted(tab.cuts[j], z_d[j])
        if codes:
            cd[j] = k
        x[j] = tab.values[j].take(k)
    return x, cd
