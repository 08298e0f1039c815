"""Distribution families fitted to published summaries, on the latent grid.

The building blocks of :mod:`tacebench.simulate.marginals` (one family per variable and
arm) and :mod:`tacebench.simulate.pieces` (an assumed category split of a continuous
variable, fitted piece by piece); a leaf, so those two never import each other. The
fitting rules are described in :mod:`tacebench.simulate.marginals`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special

from .family_functions import family_functions
from .spec import SpecError, Summary, Variable

Z_MAX = 8.0
N_GRID = 4097
Z_GRID = np.linspace(-Z_MAX, Z_MAX, N_GRID)
DZ = float(Z_GRID[1] - Z_GRID[0])
# quadrature in z for moments of a fitted distribution
_QZ = np.linspace(-8.0, 8.0, 1601)
_FIT_TOL = 2e-3
_TINY = np.finfo(float).tiny
# a truncated family whose kept tail holds less than this mass is computed from that tail
_DEEP = 1e-3
# sample extremes are noisy: they weigh less than moments and quartiles in a fit
_W = {"min": 0.3, "max": 0.3}


@functools.cache
def _quadrature_weights() -> np.ndarray:
    """Normal weights of the ``_QZ`` nodes, summing to 1. Computed on first use: scipy.stats
    is imported by fits only (a replicate worker draws from compiled plans)."""
    from scipy import stats
    w = stats.norm.pdf(_QZ) * (_QZ[1] - _QZ[0])
    w /= w.sum()
    w.flags.writeable = False
    return w


def blom(n: int) -> tuple[float, float]:
    """Plotting positions of the sample minimum and maximum (Blom 1958)."""
    lo = (1 - 0.375) / (n + 0.25)
    return lo, 1 - lo


class FixedDistribution:
    """A scipy distribution with its parameters fixed: its ``cdf``, ``sf``, ``ppf``, ``isf``,
    ``logpdf``, ``logcdf``, ``logsf`` and ``median`` called with ``kwds``.

    The same numbers as scipy's frozen distribution (which makes the same calls), without
    its construction: freezing builds a new distribution instance and renders its
    docstring, about a millisecond, once per evaluation of a fit's residuals. ``functions``
    (:func:`~tacebench.simulate.family_functions.family_functions`), when given, serve
    ``cdf``, ``sf``, ``ppf`` and ``isf``: scipy's numbers without its generic wrapper.
    """

    __slots__ = ("dist", "kwds", "functions")
    METHODS = frozenset({"cdf", "sf", "ppf", "isf", "logpdf", "logcdf", "logsf", "median"})
    _DIRECT = frozenset({"cdf", "sf", "ppf", "isf"})

    def __init__(self, dist, functions=None, **kwds):
        self.dist, self.kwds, self.functions = dist, kwds, functions

    def __getattr__(self, name: str):
        if name not in FixedDistribution.METHODS:
            raise AttributeError(f"{type(self).__name__} has no method {name!r}")
        if self.functions is not None and name in FixedDistribution._DIRECT:
            return getattr(self.functions, name)
        return functools.partial(getattr(self.dist, name), **self.kwds)


def _frozen(family: str, theta: np.ndarray) -> FixedDistribution:
    from scipy import stats
    a, b = float(theta[0]), float(np.exp(theta[1]))
    if family == "normal":
        return FixedDistribution(stats.norm, family_functions("normal", 0.0, a, b),
                                 loc=a, scale=b)
    if family == "lognormal":
        return FixedDistribution(stats.lognorm, family_functions("lognormal", b, 0.0,
                                                                 float(np.exp(a))),
                                 s=b, scale=np.exp(a))
    return FixedDistribution(stats.gamma, family_functions("gamma", float(np.exp(a)), 0.0, b),
                             a=float(np.exp(a)), scale=b)


@dataclass(frozen=True)
class Family:
    """A (possibly truncated) parametric family with a quantile function of latent z."""

    family: str
    theta: tuple[float, float]
    lower: float | None = None
    upper: float | None = None

    def dist(self):
        return _frozen(self.family, np.asarray(self.theta))

    def quantile_z(self, z: np.ndarray) -> np.ndarray:
        """``Q(Phi(z))`` computed stably in both tails, honouring the truncation."""
        d = self.dist()
        z = np.asarray(z, float)
        flo = d.cdf(self.lower) if self.lower is not None else 0.0
        fhi = d.cdf(self.upper) if self.upper is not None else 1.0
        slo = d.sf(self.lower) if self.lower is not None else 1.0
        shi = d.sf(self.upper) if self.upper is not None else 0.0
        out = np.empty_like(z)
        low = z <= 0
        # an interval deep in one tail (a piece of a split, e.g. an exponential-like top
        # piece of a normal centred far below its cut): the other tail's form would lose
        # the digits of 1 - tiny, so that tail's form serves all z (only while that tail's
        # mass is a normal number: below, neither form has digits)
        if self.lower is not None and _TINY < slo < _DEEP:
            low = np.zeros(z.shape, bool)
        elif self.upper is not None and _TINY < fhi < _DEEP:
            low = np.ones(z.shape, bool)
        out[low] = d.ppf(flo + special.ndtr(z[low]) * (fhi - flo))
        out[~low] = d.isf(shi + special.ndtr(-z[~low]) * (slo - shi))
        if self.lower is not None:
            out = np.maximum(out, self.lower)
        if self.upper is not None:
            out = np.minimum(out, self.upper)
        return out


@functools.lru_cache(maxsize=64)
def _summary_z(n: int) -> np.ndarray:
    """Latent z of the quartiles and of the sample extremes of ``n`` (Blom): a fit asks for
    them at every evaluation of its residuals, with the same ``n``."""
    from scipy import stats
    lo, hi = blom(n)
    z = stats.norm.ppf([0.25, 0.5, 0.75, lo, hi])
    z.flags.writeable = False
    return z


def _summaries(q, n: int) -> dict[str, float]:
    """Moments and quantiles of the distribution with latent quantile map ``q``."""
    x = q(_QZ)
    qw = _quadrature_weights()
    m = float(np.dot(qw, x))
    sd = float(np.sqrt(max(np.dot(qw, (x - m) ** 2), 0.0)))
    v = q(_summary_z(n))
    return {"mean": m, "sd": sd, "q1": v[0], "median": v[1], "q3": v[2], "min": v[3], "max": v[4]}


def _spread(s: Summary) -> float:
    sd = s.spread()
    return sd if sd is not None else abs(s.mean or s.median or 1.0) * 0.25 + 1e-9


def _initial(family: str, s: Summary, n: int) -> np.ndarray:
    from scipy import stats
    loc = s.mean if s.mean is not None else s.median
    spread = _spread(s)
    if family == "normal":
        return np.array([loc, np.log(spread)])
    loc = max(loc, 1e-9)
    if s.mean is not None and s.sd is not None:
        cv2 = (s.sd / s.mean) ** 2
    else:
        cv2 = (spread / loc) ** 2
    if s.median is not None and s.q1 is not None and s.q3 is not None and s.q1 > 0:
        sig = (np.log(s.q3) - np.log(s.q1)) / 1.349
        cv2 = np.exp(sig ** 2) - 1
    elif s.median is not None and s.min is not None and s.max is not None and s.min > 0:
        sig = (np.log(s.max) - np.log(s.min)) / (2 * stats.norm.ppf(blom(n)[1]))
        cv2 = np.exp(sig ** 2) - 1
    if family == "lognormal":
        sig2 = np.log1p(cv2)
        mu = np.log(s.median) if s.mean is None else np.log(loc) - sig2 / 2
        return np.array([mu, 0.5 * np.log(sig2)])
    k = 1.0 / max(cv2, 1e-6)
    return np.array([np.log(k), np.log(loc / k)])


def fit_family(var: Variable, s: Summary, n: int, key: str) -> tuple[Family, dict]:
    """Fit ``var.distribution`` (truncated to the variable's bounds) to summary ``s``."""
    from scipy import optimize
    family = var.distribution
    lower = var.lower if var.lower is not None else None
    targets = {k: v for k, v in s.fields().items() if k in ("mean", "sd", "median", "q1", "q3", "min", "max")}
    scale = _spread(s)

    def resid(theta: np.ndarray) -> np.ndarray:
        fam = Family(family, (theta[0], theta[1]), lower, var.upper)
        with np.errstate(all="ignore"):  # a trial wholly beyond a bound: no finite moments
            got = _summaries(fam.quantile_z, n)
            r = [_W.get(k, 1.0) * (np.log(got[k] / v) if k == "sd" else (got[k] - v) / scale)
                 for k, v in targets.items()]
        return np.nan_to_num(np.asarray(r, float), nan=1e6, posinf=1e6, neginf=-1e6)

    theta0 = _initial(family, s, n)
    sol = optimize.least_squares(resid, theta0, method="lm" if len(targets) >= 2 else "trf",
                                 xtol=1e-12, ftol=1e-12, max_nfev=400)
    fam = Family(family, (float(sol.x[0]), float(sol.x[1])), lower, var.upper)
    got = _summaries(fam.quantile_z, n)
    report = {k: (v, got[k]) for k, v in targets.items()}
    if len(targets) <= 2 and np.max(np.abs(resid(sol.x))) > _FIT_TOL:
        shown = ", ".join(f"{k} {v:g} (got {got[k]:.4g})" for k, v in targets.items())
        hint = "; try distribution = 'lognormal' or 'gamma'" if family == "normal" else ""
        raise SpecError(key, f"a {family} distribution bounded to [{lower}, {var.upper}] cannot match "
                        f"{shown}{hint}")
    return fam, report


def monotone_table(x: np.ndarray) -> np.ndarray:
    """Force a strictly increasing table (flat tails of bounded maps get tiny steps).

    The floor on a step is relative to the local value (never above 1e-9 of the range):
    a floor relative to the range alone would flatten the low end of a heavy-tailed map
    (values near 0 next to values near 1e8) into an artificial ramp.
    """
    x = np.maximum.accumulate(np.asarray(x, float))
    d = np.diff(x)
    span = max(float(np.ptp(x)), 1e-9)
    tiny = np.minimum(1e-9 * span, np.maximum(1e-12 * np.abs(x[1:]), 1e-15 * span))
    d = np.where(d > tiny, d, tiny)
    return np.concatenate([[x[0]], x[0] + np.cumsum(d)])


def thresholds(probs) -> np.ndarray:
    """Latent thresholds ``Phi^-1`` of cumulative level probabilities (K - 1 of them)."""
    c = np.cumsum(np.asarray(probs, float))[:-1]
    return special.ndtri(np.clip(c, 0.0, 1.0))
