"""The cdf, sf, ppf and isf of the fitted families, as scipy.stats computes them.

A family fit (:func:`tacebench.simulate.families.fit_family`) evaluates its residuals a few
hundred times per variable and arm, and each evaluation calls a distribution's ``cdf``,
``sf``, ``ppf`` or ``isf`` a few times on a grid. scipy's generic method
(``rv_continuous.cdf`` and kin) spends most of such a call parsing and checking its
arguments and reducing them to the valid entries, about 40 us, before its one special
function. :class:`FamilyFunctions` makes the same calls in the same order on the same
values, so its numbers are scipy's bit for bit, for the parameter values that pass scipy's
own check (``_argcheck``, ``scale > 0``, ``loc == loc``). Other parameter values are not
taken here: :func:`family_functions` returns ``None`` and the caller uses scipy.

What each method mirrors (scipy 1.11 - 1.17, ``scipy/stats/_distn_infrastructure.py``):

- ``cdf(x)``: ``y = (x - loc) / scale``; 0 outside the open support below, 1 at or above
  its upper end, NaN for NaN, the family's ``_cdf(y)`` inside;
- ``sf(x)``: the same with 1 at or below the lower end and ``_sf(y)`` inside;
- ``ppf(q)``: NaN outside [0, 1], the support's ends (times scale, plus loc) at q = 0 and
  1, ``_ppf(q) * scale + loc`` inside; ``isf(q)`` with the ends swapped and ``_isf``.

The families' own functions are those of ``scipy/stats/_continuous_distns.py``: the normal
``ndtr`` / ``ndtr(-y)`` / ``ndtri`` / ``-ndtri``, the lognormal the same of ``log(y) / s``
(and ``exp(s * .)`` of the quantiles), the gamma ``gammainc`` / ``gammaincc`` /
``gammaincinv`` / ``gammainccinv``. ``tests/simulate/test_family_functions.py`` checks
bit-for-bit equality with scipy over random parameters and arguments, including 0, 1,
the support's ends, infinities and NaN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
from scipy import special

__all__ = ["FamilyFunctions", "family_functions"]


def _normal_cdf(y, s):
    return special.ndtr(y)


def _normal_sf(y, s):
    return special.ndtr(-y)


def _normal_ppf(q, s):
    return special.ndtri(q)


def _normal_isf(q, s):
    return -special.ndtri(q)


def _lognormal_cdf(y, s):
    return special.ndtr(np.log(y) / s)


def _lognormal_sf(y, s):
    return special.ndtr(-(np.log(y) / s))


def _lognormal_ppf(q, s):
    return np.exp(s * special.ndtri(q))


def _lognormal_isf(q, s):
    return np.exp(s * -special.ndtri(q))


def _gamma_cdf(y, a):
    return special.gammainc(a, y)


def _gamma_sf(y, a):
    return special.gammaincc(a, y)


def _gamma_ppf(q, a):
    return special.gammaincinv(a, q)


def _gamma_isf(q, a):
    return special.gammainccinv(a, q)


class _Standard(NamedTuple):
    """A family's functions in scipy's standard form and the lower end of its support."""

    cdf: Callable
    sf: Callable
    ppf: Callable
    isf: Callable
    lower: float


_FUNCTIONS = {
    "normal": _Standard(_normal_cdf, _normal_sf, _normal_ppf, _normal_isf, -np.inf),
    "lognormal": _Standard(_lognormal_cdf, _lognormal_sf, _lognormal_ppf, _lognormal_isf, 0.0),
    "gamma": _Standard(_gamma_cdf, _gamma_sf, _gamma_ppf, _gamma_isf, 0.0),
}


@dataclass(frozen=True, slots=True)
class FamilyFunctions:
    """``cdf``, ``sf``, ``ppf`` and ``isf`` of one family with fixed parameters (built by
    :func:`family_functions`): ``shape`` is the lognormal's ``s`` or the gamma's ``a``
    (unused by the normal), ``loc`` and ``scale`` scipy's. Scalars in give numpy scalars
    out, arrays give arrays, as scipy."""

    family: str
    shape: float
    loc: float
    scale: float

    def _standard(self, x):
        x = np.asarray(x)
        dtype = np.promote_types(x.dtype, np.float64)
        return np.asarray((x - self.loc) / self.scale, dtype=dtype)

    def _at(self, x, fn, at_end):
        """cdf or sf (``fn`` the family's standard one): ``at_end(y, lower)`` marks where
        the value is 1."""
        lower = _FUNCTIONS[self.family].lower
        y = self._standard(x)
        with np.errstate(invalid="ignore"):
            cond = (lower < y) & (y < np.inf)
        out = np.zeros(np.shape(cond), y.dtype)
        np.place(out, np.isnan(y), np.nan)
        np.place(out, at_end(y, lower), 1.0)
        if np.any(cond):
            np.place(out, cond, fn(_reduced(cond, y), self.shape))
        return out[()] if out.ndim == 0 else out

    def cdf(self, x):
        return self._at(x, _FUNCTIONS[self.family].cdf, lambda y, lower: y >= np.inf)

    def sf(self, x):
        return self._at(x, _FUNCTIONS[self.family].sf, lambda y, lower: y <= lower)

    def _inverse(self, q, fn, low_at: float):
        """ppf (the lower end at ``low_at`` 0) or isf (at 1); ``fn`` the family's standard
        one."""
        lower = _FUNCTIONS[self.family].lower
        q = np.asarray(q)
        cond = (0 < q) & (q < 1)
        out = np.full(np.shape(cond), fill_value=np.nan)
        np.place(out, q == low_at, lower * self.scale + self.loc)
        np.place(out, q == 1.0 - low_at, np.inf * self.scale + self.loc)
        if np.any(cond):
            np.place(out, cond, fn(_reduced(cond, q), self.shape) * self.scale + self.loc)
        return out[()] if out.ndim == 0 else out

    def ppf(self, q):
        return self._inverse(q, _FUNCTIONS[self.family].ppf, 0.0)

    def isf(self, q):
        return self._inverse(q, _FUNCTIONS[self.family].isf, 1.0)


def _reduced(cond: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x`` where ``cond``, flat and contiguous (scipy's ``argsreduce`` of one array)."""
    x = np.atleast_1d(x)
    return x.ravel() if np.all(cond) else np.extract(cond, x)


def family_functions(family: str, shape: float, loc: float, scale: float
                     ) -> FamilyFunctions | None:
    """The functions of ``family`` (normal, lognormal or gamma) at these parameters, or
    ``None`` where scipy's argument check would reject them (then scipy itself gives its
    values). ``shape`` is ignored for the normal."""
    valid_shape = family == "normal" or shape > 0
    if family not in _FUNCTIONS or not (valid_shape and scale > 0 and loc == loc):
        return None
    return FamilyFunctions(family, float(shape), float(loc), float(scale))
