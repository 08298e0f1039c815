"""Marginal distributions fitted to published summaries, compiled to latent-scale maps.

Every variable is generated from a standard-normal latent ``z`` (the Gaussian copula
coordinate). Continuous variables use a monotone quantile map ``x = Q(Phi(z))``
tabulated on a uniform grid of ``z`` (:data:`Z_GRID`) and applied by linear
interpolation; the generating distribution *is* this piecewise-linear map, so its
density ``phi(z) / slope`` is known exactly (used by the true propensity score).
Discrete variables (binary, categorical, count) use latent thresholds.

Fitting: a family (normal, lognormal, gamma; optionally truncated to
``[lower, upper]``) is fitted by least squares to whatever the paper reports — mean,
SD, median, quartiles, and min/max (matched to the expected extremes of a sample of
the arm's size, Blom's plotting position ``(i - 0.375) / (n + 0.25)``). With exactly
two summaries the fit is exact; a failure to match (e.g. a truncated normal that
cannot reach the CV) raises ``SpecError`` suggesting another family.

Counts: ``lower + Y`` with ``Y`` negative binomial matched to mean and variance
(Poisson when variance ~ mean, binomial when under-dispersed).

Category split of a continuous variable (``cutpoints``): a base distribution common to
all arms (fitted to the pooled split and the ``overall`` summary, with a weak prior on
the scale — SD 25% of the central cut point for normal, log-SD 0.75 for lognormal —
that only matters when the paper gives no spread), reweighted bin by bin to each
arm's published proportions, so the split matches exactly in expectation. A split whose
arms also print mean and SD is fitted per arm to both, the mean and SD within their printed
rounding (:mod:`simulate.printed_split`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord

from .families import (Family, Z_GRID, _spread, _summaries, fit_family, monotone_table, thresholds)
from .pieces import fit_assumed_split
from .printed_split import fit_printed_split, printed_half_unit
from .spec import SpecError, Summary, Variable

@dataclass(frozen=True, eq=False)
class Marginal(ArrayRecord):
    """One variable's compiled marginal in one arm.

    ``kind == "table"``: ``table`` holds ``x`` at :data:`Z_GRID`. ``kind == "discrete"``:
    ``cuts`` are latent thresholds, ``values`` the value of each level, ``probs`` its
    probability. ``report`` maps each published summary to ``(published, fitted)``.
    """

    kind: str
    table: np.ndarray | None = None
    cuts: np.ndarray | None = None
    values: np.ndarray | None = None
    probs: np.ndarray | None = None
    report: dict = field(default_factory=dict)


def _split_base(var: Variable, pooled: np.ndarray, n_total: int, key: str) -> Family:
    from scipy import optimize
    cuts = np.asarray(var.cutpoints, float)
    cum = np.clip(np.cumsum(pooled)[:-1], 1e-6, 1 - 1e-6)
    family = var.distribution if var.distribution != "gamma" else "lognormal"
    central = float(cuts[np.argmin(np.abs(cum - 0.5))])
    if family == "normal":
        sig0 = 0.25 * max(abs(central), 1e-6)
        theta0 = np.array([central - sig0 * special.ndtri(cum[np.argmin(np.abs(cum - 0.5))]), np.log(sig0)])
    else:
        if central <= 0:
            raise SpecError(f"{key}.cutpoints", f"a lognormal split needs positive cut points, got {list(cuts)}")
        sig0 = 0.75
        theta0 = np.array([np.log(central) - sig0 * special.ndtri(cum[np.argmin(np.abs(cum - 0.5))]), np.log(sig0)])
    ov = var.overall
    targets = {k: v for k, v in (ov.fields().items() if ov else []) if k in ("mean", "sd", "median", "q1", "q3", "min", "max")}
    scale = _spread(ov) if ov is not None and (ov.sd or ov.q1 is not None or ov.min is not None) else \
        (float(np.exp(theta0[1])) if family == "normal" else max(central, 1e-9))

    def resid(theta):
        base = Family(family, (theta[0], theta[1]), var.lower, var.upper)
        r = [0.1 * np.log(np.exp(theta[1]) / sig0)]
        if targets:
            got = _summaries(lambda z: _split_quantile(base, cuts, pooled, z), n_total)
            for k, v in targets.items():
                r.append(np.log(got[k] / v) if k == "sd" else (got[k] - v) / scale)
        # base consistent with the pooled split keeps the bin reweighting mild
        gc = base.dist().cdf(cuts)
        r.extend(0.3 * (special.ndtri(np.clip(gc, 1e-9, 1 - 1e-9)) - special.ndtri(cum)))
        return np.asarray(r)

    sol = optimize.least_squares(resid, theta0, xtol=1e-10, ftol=1e-10, max_nfev=300)
    return Family(family, (float(sol.x[0]), float(sol.x[1])), var.lower, var.upper)


def _split_quantile(base: Family, cuts: np.ndarray, probs: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Quantile map of the base reweighted to bin probabilities ``probs``."""
    d = base.dist()
    lo = d.cdf(base.lower) if base.lower is not None else 0.0
    hi = d.cdf(base.upper) if base.upper is not None else 1.0
    edges = np.concatenate([[lo], d.cdf(cuts), [hi]])
    cum = np.concatenate([[0.0], np.cumsum(probs)])
    cum[-1] = 1.0
    u = special.ndtr(np.asarray(z, float))
    k = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, len(probs) - 1)
    pk = np.asarray(probs)[k]
    frac = np.where(pk > 0, (u - cum[k]) / np.where(pk > 0, pk, 1.0), 0.0)
    g = edges[k] + np.clip(frac, 0, 1) * (edges[k + 1] - edges[k])
    out = d.ppf(np.clip(g, 1e-300, 1 - 1e-16))
    if base.lower is not None:
        out = np.maximum(out, base.lower)
    if base.upper is not None:
        out = np.minimum(out, base.upper)
    return out


def _count_pmf(var: Variable, s: Summary, key: str) -> tuple[np.ndarray, np.ndarray, dict]:
    from scipy import stats
    lower = int(var.lower) if var.lower is not None else 1
    if s.mean is None or s.sd is None:
        raise SpecError(key, "a count variable needs mean and sd")
    m, v = s.mean - lower, s.sd ** 2
    if m <= 0:
        raise SpecError(f"{key}.mean", f"must exceed the lower bound {lower}, got {s.mean}")
    if v > m * 1.001:
        r = m * m / (v - m)
        dist = stats.nbinom(r, r / (r + m))
    elif v >= m * 0.999:
        dist = stats.poisson(m)
    else:
        size = max(int(round(m * m / (m - v))), int(np.ceil(m)) + 1)
        dist = stats.binom(size, m / size)
    top = int(dist.isf(1e-12)) + 1
    if var.upper is not None:
        top = min(top, int(var.upper) - lower)
    y = np.arange(top + 1)
    pmf = dist.pmf(y)
    pmf /= pmf.sum()
    vals = lower + y
    mean = float(pmf @ vals)
    sd = float(np.sqrt(pmf @ (vals - mean) ** 2))
    return vals.astype(float), pmf, {"mean": (s.mean, mean), "sd": (s.sd, sd)}


def compile_marginals(var: Variable, arm_n: dict[str, int], key: str) -> dict[str, Marginal]:
    """Fit and compile ``var`` for every arm (``arm_n`` maps arm label to n)."""
    out: dict[str, Marginal] = {}
    if var.type in ("binary", "categorical"):
        for lab, n in arm_n.items():
            probs = np.asarray(var.arm_probs(lab, n), float)
            vals = np.arange(len(probs), dtype=float)
            out[lab] = Marginal("discrete", cuts=thresholds(probs), values=vals, probs=probs)
        return out
    if var.type == "count":
        for lab, n in arm_n.items():
            vals, pmf, rep = _count_pmf(var, var.arms[lab], f"{key}.arms.{lab}")
            out[lab] = Marginal("discrete", cuts=thresholds(pmf), values=vals, probs=pmf, report=rep)
        return out
    if var.printed_moments:
        for lab, n in arm_n.items():
            s = var.arms[lab]
            halves = (printed_half_unit(s.mean, var.source, var.rounding),
                      printed_half_unit(s.sd, var.source, var.rounding))
            tab, rep = fit_printed_split(var, s, n, f"{key}.arms.{lab}", *halves)
            out[lab] = Marginal("table", table=tab, probs=np.asarray(var.arm_probs(lab), float), report=rep)
        return out
    if var.is_split:
        tot = sum(arm_n.values())
        pooled = sum(np.asarray(var.arm_probs(lab)) * n for lab, n in arm_n.items()) / tot
        base = _split_base(var, pooled, tot, key)
        for lab in arm_n:
            probs = np.asarray(var.arm_probs(lab), float)
            tab = monotone_table(_split_quantile(base, np.asarray(var.cutpoints), probs, Z_GRID))
            out[lab] = Marginal("table", table=tab, probs=probs)
        return out
    if var.assumed_split is not None:
        for lab, n in arm_n.items():
            tab, rep = fit_assumed_split(var, var.arms[lab], var.assumed_split.probs(lab), n, f"{key}.arms.{lab}")
            out[lab] = Marginal("table", table=tab, report=rep)
        return out
    for lab, n in arm_n.items():
        fam, rep = fit_family(var, var.arms[lab], n, f"{key}.arms.{lab}")
        out[lab] = Marginal("table", table=monotone_table(fam.quantile_z(Z_GRID)), report=rep)
    return out


def pooled_marginal(margs: list[Marginal], weights: np.ndarray) -> Marginal:
    """The mixture ``sum_a w_a F_a`` as a compiled marginal (population covariates)."""
    w = np.asarray(weights, float) / np.sum(weights)
    if margs[0].kind == "discrete":
        values = np.unique(np.concatenate([m.values for m in margs]))
        probs = np.zeros(len(values))
        for wi, m in zip(w, margs):
            probs[np.searchsorted(values, m.values)] += wi * m.probs
        return Marginal("discrete", cuts=thresholds(probs), values=values, probs=probs)
    xs = np.unique(np.concatenate([m.table for m in margs]))
    cdf = sum(wi * special.ndtr(np.interp(xs, m.table, Z_GRID)) for wi, m in zip(w, margs))
    zx = special.ndtri(np.clip(cdf, 1e-300, 1 - 1e-16))
    tab = np.interp(Z_GRID, np.maximum.accumulate(zx), xs)
    probs = sum(wi * m.probs for wi, m in zip(w, margs)) if margs[0].probs is not None else None
    return Marginal("table", table=monotone_table(tab), probs=probs)
