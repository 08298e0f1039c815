"""Piecewise marginal for a published mean (SD) combined with an *assumed* split.

A heavy-tailed lab such as AFP is often published only as mean (SD) per arm, yet
analysed at a clinical cut point (AFP >= 400 ng/mL). A single lognormal fitted to the
mean/SD fixes the share below the cut, often implausibly (seed 000: ~0.1% below 400).
``assumed_split`` states that share as an explicit assumption; this module builds, per
arm, the distribution that matches the published mean and SD *and* the assumed split.

Model: with cut points ``c_1 < ... < c_{K-1}`` (bin edges ``e_0 = lower``, ``e_K =
upper``) and assumed bin shares ``p_k``, the density is

``f(x) = p_k g_k(x) / (G_k(e_{k+1}) - G_k(e_k))``  for ``x`` in bin ``k``,

where ``g_k`` is the variable's family (normal, lognormal, gamma) with its own location
``a_k`` and a scale ``b`` shared by all pieces (Family's ``theta = (a_k, log b)``:
lognormal ``a = mu``, ``b = sigma`` of log x; normal mean and SD; gamma log shape and
scale). The ``K + 1`` unknowns solve ``K + 1`` equations: the mean, the SD and the
continuity of the density at each of the ``K - 1`` cut points (a clinical cut point is
a convention, not a feature of the biology, so the density does not jump there). The
split holds exactly by construction. For seed 000's AFP this gives two lognormal
pieces, an AFP-negative one around normal values and an AFP-secreting one carrying the
mean and SD: the bimodal shape AFP is known for.

Infeasible combinations (a mean outside what the bins allow, an SD the pieces cannot
reach, e.g. too small a share above the cut for the published SD, or an upper assay
limit too low) raise :class:`~simulate.spec.SpecError` with the numbers.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .families import Family, Z_GRID, _initial, _summaries, monotone_table
from .spec import SpecError, Summary, Variable

_TOL = 1e-6


def piecewise_quantile(pieces: list[Family], probs: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Latent quantile map of the mixture of bin-truncated ``pieces`` with shares ``probs``.

    Within bin ``k`` the piece's own latent is ``Phi^-1((u - P_k) / p_k)``, computed from
    the upper tail where that is more accurate (``u = Phi(z)`` near 1).
    """
    z = np.asarray(z, float)
    probs = np.asarray(probs, float)
    cum = np.concatenate([[0.0], np.cumsum(probs)])
    cum[-1] = 1.0
    u, up = special.ndtr(z), special.ndtr(-z)
    k = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, len(probs) - 1)
    out = np.empty_like(z)
    for j, fam in enumerate(pieces):
        m = k == j
        if not m.any():
            continue
        lo = np.clip((u[m] - cum[j]) / probs[j], 0.0, 1.0)
        hi = np.clip((up[m] - (1.0 - cum[j + 1])) / probs[j], 0.0, 1.0)
        zl = np.where(lo <= 0.5, special.ndtri(lo), -special.ndtri(hi))
        out[m] = fam.quantile_z(zl)
    return out


def _log_mass(fam: Family) -> float:
    """``log(G(hi) - G(lo))`` of a piece's bin, from whichever tail is more accurate."""
    d = fam.dist()
    lo = -np.inf if fam.lower is None else fam.lower
    hi = np.inf if fam.upper is None else fam.upper
    if d.median() >= hi:
        a, b = d.logcdf(hi) if np.isfinite(hi) else 0.0, d.logcdf(lo) if np.isfinite(lo) else -np.inf
    else:
        a, b = d.logsf(lo) if np.isfinite(lo) else 0.0, d.logsf(hi) if np.isfinite(hi) else -np.inf
    with np.errstate(divide="ignore"):
        return float(a + np.log1p(-np.exp(b - a)))


def _pieces(family: str, theta: np.ndarray, edges: list) -> list[Family]:
    k = len(edges) - 1
    return [Family(family, (float(theta[j]), float(theta[k])), edges[j], edges[j + 1]) for j in range(k)]


def _edges(var: Variable, cuts: tuple[float, ...]) -> list:
    lower = var.lower if var.lower is not None else (0.0 if var.distribution != "normal" else None)
    return [lower, *cuts, var.upper]


def _mean_bounds(edges: list, probs: np.ndarray) -> tuple[float, float]:
    lo = sum(p * (-np.inf if e is None else e) for p, e in zip(probs, edges[:-1]))
    hi = sum(p * (np.inf if e is None else e) for p, e in zip(probs, edges[1:]))
    return float(lo), float(hi)


def fit_assumed_split(var: Variable, s: Summary, probs, n: int, key: str) -> tuple[np.ndarray, dict]:
    """Quantile table (on :data:`~simulate.marginals.Z_GRID`) and fit report for one arm.

    Parameters
    ----------
    var : Variable
        A continuous variable with ``assumed_split`` (family, bounds, cut points).
    s : Summary
        The arm's published ``mean`` and ``sd``.
    probs : sequence of float
        The assumed bin shares in this arm.
    n : int
        Arm size (only for the report's sample extremes).
    key : str
        Key path used in error messages.
    """
    from scipy import optimize
    cuts = var.assumed_split.cutpoints
    probs = np.asarray(probs, float)
    edges = _edges(var, cuts)
    shown = ", ".join(f"{100 * p:.1f}%" for p in probs)
    where = f"assumed split [{shown}] at {list(cuts)}"
    lo, hi = _mean_bounds(edges, probs)
    if not lo < s.mean < hi:
        raise SpecError(f"{key}.mean", f"{where} within bounds [{edges[0]}, {edges[-1]}] allows a mean only "
                        f"in ({lo:g}, {hi:g}), published {s.mean:g}")
    family = var.distribution

    def resid(theta):
        ps = _pieces(family, theta, edges)
        with np.errstate(all="ignore"):  # extreme trial values give inf moments: a large residual
            got = _summaries(lambda z: piecewise_quantile(ps, probs, z), n)
            r = [(got["mean"] - s.mean) / s.sd, np.log(max(got["sd"], 1e-300) / s.sd)]
            for j, c in enumerate(cuts):  # continuity of the density at each cut point
                left = np.log(probs[j]) + ps[j].dist().logpdf(c) - _log_mass(ps[j])
                right = np.log(probs[j + 1]) + ps[j + 1].dist().logpdf(c) - _log_mass(ps[j + 1])
                r.append(left - right)
        r = np.asarray(r, float)
        return np.where(np.isfinite(r), r, 1e6)

    t0 = _initial(family, s, n)
    starts = [np.r_[np.full(len(probs), t0[0]), t0[1]]]
    if family != "normal":  # lower pieces centred in their bins, in case the first start stalls
        mids = [np.log(np.sqrt(max(a or 1e-3 * b, 1e-12) * b)) if b is not None else t0[0]
                for a, b in zip(edges[:-1], edges[1:])]
        starts.append(np.r_[mids if family == "lognormal" else np.full(len(probs), t0[0]), t0[1]])
    best = None
    for th0 in starts:
        sol = optimize.least_squares(resid, th0, xtol=1e-12, ftol=1e-12, max_nfev=200)
        if best is None or sol.cost < best.cost:
            best = sol
        if np.max(np.abs(sol.fun)) < _TOL:
            break
    ps = _pieces(family, best.x, edges)
    with np.errstate(all="ignore"):
        got = _summaries(lambda z: piecewise_quantile(ps, probs, z), n)
    if np.max(np.abs(best.fun)) >= _TOL:
        raise SpecError(key, _infeasible(where, s, probs, ps, got, family))
    table = monotone_table(piecewise_quantile(ps, probs, Z_GRID))
    w = np.exp(-0.5 * Z_GRID ** 2)
    w /= w.sum()
    fitted_split = np.bincount(np.searchsorted(np.asarray(cuts), table, side="right"), weights=w,
                               minlength=len(probs))
    report = {"mean": (s.mean, got["mean"]), "sd": (s.sd, got["sd"]),
              "assumed_split": (tuple(probs.tolist()), tuple(fitted_split.tolist())),
              "pieces": [fam.theta for fam in ps], "median": (None, got["median"])}
    return table, report


def _infeasible(where: str, s: Summary, probs: np.ndarray, ps: list[Family], got: dict, family: str) -> str:
    """Why no piecewise fit exists: the best fit, and the moments the top bin would need."""
    msg = (f"no {family} pieces match mean {s.mean:g} and SD {s.sd:g} with the {where} (closest: mean "
           f"{got['mean']:.4g}, SD {got['sd']:.4g})")
    with np.errstate(all="ignore"):
        qs = [_summaries(fam.quantile_z, 100) for fam in ps[:-1]]
    m_low = sum(p * q["mean"] for p, q in zip(probs[:-1], qs))
    e2_low = sum(p * (q["sd"] ** 2 + q["mean"] ** 2) for p, q in zip(probs[:-1], qs))
    p_top = probs[-1]
    m_top = (s.mean - m_low) / p_top
    var_top = (s.sd ** 2 + s.mean ** 2 - e2_low) / p_top - m_top ** 2
    top = "a negative variance" if var_top <= 0 else f"mean {m_top:.4g} and SD {np.sqrt(var_top):.4g}"
    return (f"{msg}; with the lower bins as fitted, the top bin ({100 * p_top:.1f}%) would need {top}"
            f"{'' if ps[-1].upper is None else f' below the upper limit {ps[-1].upper:g}'}; revise the "
            "assumed proportions or the bounds")
