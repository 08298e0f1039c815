"""The paper's Cox-table associations of an endpoint (``outcomes.os.associations``).

Each entry states what the paper reports for one covariate term: its univariable and
multivariable HR with CI and p-value, as printed; or, for a covariate the paper reports
nothing about, an explicit assumption (``assume = "none"`` with a ``rationale``). The
generator solves the conditional effects so that the simulated cohorts reproduce these
HRs (:mod:`simulate.associations`). Same conventions as :mod:`simulate.spec_outcomes`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from scipy import special

from .spec_base import SpecError, _finite, _set

ASSUME = ("none",)
Z95 = float(special.ndtri(0.975))


@dataclass(frozen=True)
class PValue:
    """A printed p-value as the interval of ``|z|`` it allows (two-sided normal test)."""

    z_lo: float
    z_hi: float


def p_interval(key: str, value: Any, decimals: int | None = None) -> PValue:
    """``|z|`` interval of a printed p-value: a number (rounded at its printed decimals,
    default: as written) or a bound ``"<0.001"`` / ``">0.05"``."""
    if isinstance(value, str):
        s = value.replace(" ", "")
        if s[:1] in "<>" and len(s) > 1:
            try:
                b = float(s[1:])
            except ValueError:
                raise SpecError(key, f"must be a p-value or a bound like '<0.001', got {value!r}") from None
            if not 0 < b < 1:
                raise SpecError(key, f"bound must lie in (0, 1), got {value!r}")
            z = float(special.ndtri(1 - b / 2))
            return PValue(z, math.inf) if s[0] == "<" else PValue(0.0, z)
        raise SpecError(key, f"must be a p-value or a bound like '<0.001', got {value!r}")
    p = _finite(key, value)
    if not 0 < p <= 1:
        raise SpecError(key, f"must lie in (0, 1], got {p}")
    text = repr(p) if decimals is None else f"{p:.{decimals}f}"
    half = 0.5 * 10.0 ** -(len(text.split(".")[1]) if "." in text else 0)
    lo, hi = max(p - half, 1e-300), min(p + half, 1.0)
    return PValue(float(special.ndtri(1 - hi / 2)), float(special.ndtri(1 - lo / 2)))


@dataclass(frozen=True)
class Reported:
    """One printed HR (or OR) of a Cox table column: ``hr``, ``ci`` = [lower, upper],
    ``p`` (number or bound), printed with ``decimals`` decimals (default 2); ``target``:
    the id of the same number in targets.toml (optional)."""

    hr: float
    ci: tuple[float, float] | None = None
    p: float | str | None = None
    decimals: int = 2
    target: str = ""

    def __post_init__(self) -> None:
        _set(self, "hr", _finite("hr", self.hr, positive=True))
        if isinstance(self.decimals, bool) or not isinstance(self.decimals, int) or not 0 <= self.decimals <= 6:
            raise SpecError("decimals", f"must be an integer in 0..6, got {self.decimals!r}")
        if self.ci is not None:
            if isinstance(self.ci, (str, Mapping)) or len(self.ci) != 2:
                raise SpecError("ci", f"must be [lower, upper], got {self.ci!r}")
            lo, hi = (_finite(f"ci[{i}]", v, positive=True) for i, v in enumerate(self.ci))
            if not lo <= self.hr <= hi:
                raise SpecError("ci", f"must contain hr {self.hr}, got {[lo, hi]}")
            _set(self, "ci", (lo, hi))
        if self.p is not None:
            p_interval("p", self.p)  # validates
        if self.ci is None and self.p is None:
            raise SpecError("", "needs ci or p (the Monte Carlo weight of the fit comes from them)")
        if not isinstance(self.target, str):
            raise SpecError("target", f"must be a target id (a string), got {self.target!r}")

    @property
    def half_unit(self) -> float:
        return 0.5 * 10.0 ** -self.decimals


@dataclass(frozen=True)
class LogEffect:
    """A printed HR on the log scale: ``beta`` and its standard error ``se``; ``how``
    says where they come from (``"printed"``, or the recovery of a value printed as 1)."""

    beta: float
    se: float
    how: str


def _se_interval(c: float, lo: float, hi: float) -> tuple[float, float]:
    """``se > 0`` with ``lo <= c * se <= hi`` (an empty interval has lower > upper)."""
    if c > 0:
        return max(lo / c, 0.0), hi / c
    if c < 0:
        return max(hi / c, 0.0), lo / c
    return (0.0, math.inf) if lo <= 0 <= hi else (1.0, 0.0)


def log_effect(r: Reported, sign: int = 0, key: str = "") -> LogEffect:
    """The log-HR and its SE of a printed HR.

    A printed HR other than 1 at its precision: ``log(hr)``, ``se`` from the CI width
    (``(log upper - log lower) / (2 z_0.975)``), else from the p-value. An HR printed as 1
    (per-unit effects of lab values, ``1.00 (1.00-1.01)``): every ``(beta, se)`` with
    ``beta = +-z se`` for a ``z`` the p-value allows and the estimate and both limits
    rounding to the printed ones is feasible; the estimate is the midpoint of the
    feasible ``beta`` (its extremes over a grid of ``z``), restricted to ``sign`` when
    given (+1 / -1); the SE is the larger of the midpoint's at the middle ``z`` and the
    feasible interval's half-width over ``z_0.975``.

    References
    ----------
    Altman DG, Bland JM. How to obtain the confidence interval from a P value. BMJ 2011;343:d2090.
    """
    h = r.half_unit
    printed_one = abs(r.hr - 1.0) < h / 2
    if not printed_one:
        beta = math.log(r.hr)
        if r.ci is not None and r.ci[1] > r.ci[0]:
            return LogEffect(beta, (math.log(r.ci[1]) - math.log(r.ci[0])) / (2 * Z95), "printed")
        pz = p_interval(f"{key}.p", r.p, None)
        z = pz.z_lo if math.isinf(pz.z_hi) else 0.5 * (pz.z_lo + pz.z_hi)
        return LogEffect(beta, abs(beta) / max(z, 1e-6), "printed (se from p)")
    pz = p_interval(f"{key}.p", r.p) if r.p is not None else PValue(0.0, math.inf)
    z_hi = min(pz.z_hi, 40.0)
    bands = [(math.log(r.hr - h), math.log(r.hr + h), 0.0)]
    if r.ci is not None:
        bands += [(math.log(max(v - h, 1e-12)), math.log(v + h), off) for v, off in zip(r.ci, (-Z95, Z95))]
    feasible = []
    for s in ((sign,) if sign else (1, -1)):
        for z in np.linspace(max(pz.z_lo, 1e-6), z_hi, 4001):
            lo_se, hi_se = 0.0, math.inf
            for blo, bhi, off in bands:
                a, b = _se_interval(s * z + off, blo, bhi)
                lo_se, hi_se = max(lo_se, a), min(hi_se, b)
            if lo_se <= hi_se and math.isfinite(hi_se):
                feasible.append((s * z * lo_se, s * z * hi_se, z))
    if not feasible:
        raise SpecError(key, f"no log-HR is consistent with hr {r.hr}, ci {r.ci} and p {r.p!r} "
                        f"at {r.decimals} decimals" + (f" and sign {sign:+d}" if sign else ""))
    lo = min(min(a, b) for a, b, _ in feasible)
    hi = max(max(a, b) for a, b, _ in feasible)
    beta = 0.5 * (lo + hi)
    zs = [z for *_, z in feasible]
    z_mid = 0.5 * (min(zs) + max(zs))
    # the larger of the midpoint's SE at the middle z and the recovery's own uncertainty
    # (the feasible interval read as a 95% interval): how well the printed value is known
    se = max(abs(beta) / z_mid, (hi - lo) / (2 * Z95))
    return LogEffect(beta, se, f"recovered from the CI and p: log-HR in [{lo:.5g}, {hi:.5g}], midpoint")


@dataclass(frozen=True)
class Association:
    """One covariate term of the paper's Cox tables.

    ``variable`` (a cohort variable) and the term: a binary variable 1 vs 0 (``reference
    = 1`` when the paper's HR is 0 vs 1, e.g. "absence of ..."), a categorical ``level``
    vs the first level, a continuous or count variable per ``per`` units, or ``x >=
    above``. ``univariable`` / ``multivariable``: the printed columns (:class:`Reported`).
    ``assume = "none"`` instead states that the paper reports no association and the
    covariate has no effect (``rationale`` required). ``sign`` (+1 / -1) fixes the
    direction of an effect printed as 1 whose sign the print leaves open.
    """

    variable: str
    univariable: Reported | None = None
    multivariable: Reported | None = None
    per: float = 1.0
    above: float | None = None
    level: str | None = None
    reference: int = 0
    sign: int = 0
    assume: str | None = None
    rationale: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.variable, str) or not self.variable:
            raise SpecError("variable", f"must be a variable name, got {self.variable!r}")
        for k in ("univariable", "multivariable"):
            v = getattr(self, k)
            if v is not None and not isinstance(v, Reported):
                if not isinstance(v, Mapping):
                    raise SpecError(k, f"must be a table {{hr, ci, p}}, got {v!r}")
                unknown = sorted(set(v) - set(Reported.__dataclass_fields__))
                if unknown:
                    raise SpecError(k, f"unknown key(s) {unknown}; allowed: {sorted(Reported.__dataclass_fields__)}")
                try:
                    _set(self, k, Reported(**v))
                except SpecError as err:
                    raise err.prefixed(k) from None
        _set(self, "per", _finite("per", self.per, positive=True))
        if self.above is not None:
            _set(self, "above", _finite("above", self.above))
        if self.reference not in (0, 1) or isinstance(self.reference, bool):
            raise SpecError("reference", f"must be 0 or 1 (the paper's reference value), got {self.reference!r}")
        if self.sign not in (-1, 0, 1) or isinstance(self.sign, bool):
            raise SpecError("sign", f"must be 1 or -1, got {self.sign!r}")
        if self.level is not None:
            _set(self, "level", str(self.level))
        if self.assume is not None:
            if self.assume not in ASSUME:
                raise SpecError("assume", f"must be one of {ASSUME}, got {self.assume!r}")
            if self.univariable is not None or self.multivariable is not None:
                raise SpecError("assume", "an assumption replaces reported HRs: give one or the other")
            if not isinstance(self.rationale, str) or not self.rationale.strip():
                raise SpecError("rationale", "assume needs a rationale (why no effect is assumed)")
        elif self.univariable is None and self.multivariable is None:
            raise SpecError("", "give univariable and/or multivariable HRs, or assume = \"none\" with a rationale")
        if self.sign and not (isinstance(self.rationale, str) and self.rationale.strip()):
            raise SpecError("rationale", "sign is an assumption: give its rationale")
        if self.sign and not any(r is not None and abs(r.hr - 1) < r.half_unit / 2
                                 for r in (self.univariable, self.multivariable)):
            raise SpecError("sign", "only an HR printed as 1 needs a sign; the others carry theirs")

    @property
    def term(self) -> str:
        """The term's name, as the analyses write it."""
        if self.level is not None:
            return f"{self.variable}[{self.level}]"
        if self.above is not None:
            return f"{self.variable}>={self.above:g}"
        return f"{self.variable}==0" if self.reference == 1 else self.variable


def association_problems(ep_name: str, ep, variables) -> list[tuple[str, str]]:
    """Problems of an endpoint's associations against the cohort's variables.

    OS only; each term names a variable of the right type (``level`` a categorical one
    and one of its levels, ``reference`` a binary one, ``per`` / ``above`` a continuous or
    count one); a variable is given once, by ``effects`` or by ``associations``; and,
    once an endpoint uses associations, every Table-1 variable is covered (by a printed
    HR, an ``effects`` entry or ``assume``): not reported is never a silent 0.
    """
    if not ep.associations:
        return []
    key = f"outcomes.{ep_name}.associations"
    if ep_name != "os":
        return [(key, "associations are solved for OS only; give PFS effects as `effects`")]
    p = []
    byname = {v.name: v for v in variables}
    seen: dict[str, int] = {}
    fixed = {e.variable for e in ep.effects}
    multiselect = {v.name for v in variables if v.type == "multiselect"}
    for j, a in enumerate(ep.associations):
        k = f"{key}[{j}]"
        v = byname.get(a.variable)
        if v is None or a.variable in multiselect:
            p.append((f"{k}.variable", f"unknown variable {a.variable!r}" if v is None else
                      f"{a.variable!r} is a multiselect pattern: give its options' associations"))
            continue
        if a.variable in fixed:
            p.append((f"{k}.variable", f"{a.variable!r} also has an `effects` entry: give it once"))
        if a.term in seen:
            p.append((f"{k}.variable", f"term {a.term!r} is given twice (also [{seen[a.term]}])"))
        seen[a.term] = j
        if a.level is not None:
            if v.type != "categorical" or a.level not in v.levels or a.level == v.levels[0]:
                p.append((f"{k}.level", f"{a.level!r} must be a level after the first of a categorical "
                          f"variable; {a.variable!r} is {v.type}" + (f" with levels {list(v.levels)}"
                                                                     if v.type == "categorical" else "")))
        elif v.type == "categorical":
            p.append((f"{k}.level", f"{a.variable!r} is categorical: name the level the HR is for"))
        if a.reference and v.type != "binary":
            p.append((f"{k}.reference", f"only a binary variable has a reference value; {a.variable!r} is {v.type}"))
        if (a.above is not None or a.per != 1.0) and v.type not in ("continuous", "count"):
            p.append((f"{k}.{'above' if a.above is not None else 'per'}",
                      f"needs a continuous or count variable; {a.variable!r} is {v.type}"))
    covered = {a.variable for a in ep.associations} | fixed
    options = {o for v in variables if v.type == "multiselect" for o in v.options}
    missing = [v.name for v in variables if v.name not in covered and v.name not in multiselect]
    if missing:
        p.append((key, f"no association, effect or assumption for {missing}: give each its printed HRs, "
                  "an `effects` entry, or { variable = ..., assume = \"none\", rationale = \"...\" }"
                  + ("" if not set(missing) & options else " (multiselect options included)")))
    return p
