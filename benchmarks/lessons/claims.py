"""Claims of a lesson: a statement, the number that checks it and its Monte Carlo verdict.

A claim *holds* only if its whole Monte Carlo interval at :data:`CLAIM_LEVEL` (the coverage
of a normal 3-MCSE margin; Morris, White & Crowther 2019) lies on the claimed side. Means
get a t interval, because their MCSE is itself estimated from the cohorts; shares of cohorts
an exact binomial (Clopper–Pearson) one, because a share of 0 or 1 has a normal MCSE of 0
whatever the number of cohorts; and below :data:`MIN_COHORTS` cohorts no claim is judged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

#: Margin, in Monte Carlo standard errors, that a claim must clear: its interval has the
#: two-sided coverage of a normal 3-SE margin, :data:`CLAIM_LEVEL`.
CLAIM_Z = 3.0
CLAIM_LEVEL = math.erf(CLAIM_Z / math.sqrt(2))  # 0.9973
#: Fewest cohorts on which a claim about a Monte Carlo average can hold or be contradicted.
#: The t interval allows for the MCSE being estimated, but only if the per-cohort values
#: are near normal, and many are skewed or bounded (ratios of SEs, shares kept, |SMD|s).
#: The sample SD behind the MCSE is within 0.16-1.92 of the true SD in 95% of runs of 3
#: cohorts, 0.55-1.45 of 10 and 0.74-1.26 of 30 (chi-square with n - 1 df); a lesson run
#: on 3 cohorts showed an SD of 0.019 where 400 cohorts give 0.214. From 30 on, the usual
#: rule for a mean of non-normal values, the t quantile (3.28 at 30) covers that spread.
MIN_COHORTS = 30


@dataclass(frozen=True)
class Claim:
    """A statement checked on the numbers: ``lower < value < upper`` with a margin.

    ``value`` is a mean over ``n`` replicates (or an exact quantity: ``n`` None, ``mcse``
    0). ``interval`` is its Monte Carlo interval at :data:`CLAIM_LEVEL` (None: ``value ± z *
    mcse``). The claim *holds* when the whole interval lies inside the bounds, is
    *contradicted* when it lies entirely outside them, and is *inconclusive* otherwise, or
    whenever ``n`` is below :data:`MIN_COHORTS` (too few replicates to tell: run more).
    """

    key: str
    text: str
    value: float
    mcse: float
    lower: float = -math.inf
    upper: float = math.inf
    z: float = CLAIM_Z
    n: int | None = None
    interval: tuple[float, float] | None = None
    method: str = "normal"

    @property
    def holds(self) -> bool:
        return self.status == "holds"

    @property
    def too_few(self) -> bool:
        """Whether the claim rests on fewer than :data:`MIN_COHORTS` replicates."""
        return self.n is not None and self.n < MIN_COHORTS

    @property
    def bounds(self) -> tuple[float, float]:
        """The Monte Carlo interval the status is decided on."""
        if self.interval is not None:
            return self.interval
        return self.value - self.z * self.mcse, self.value + self.z * self.mcse

    @property
    def status(self) -> str:
        lo, hi = self.bounds
        if self.too_few or not (np.isfinite(lo) and np.isfinite(hi)):
            return "inconclusive"
        if lo > self.lower and hi < self.upper:
            return "holds"
        if hi <= self.lower or lo >= self.upper:
            return "contradicted"
        return "inconclusive"

    def bounds_text(self) -> str:
        if math.isfinite(self.lower) and math.isfinite(self.upper):
            return f"in ({self.lower:g}, {self.upper:g})"
        return f"> {self.lower:g}" if math.isfinite(self.lower) else f"< {self.upper:g}"

    def evidence(self) -> str:
        """How the value was judged: its MCSE, cohorts and interval, in words."""
        if self.n is None and self.mcse == 0:
            return "exact"
        lo, hi = self.bounds
        text = f"MCSE {self.mcse:.3f}"
        if self.n is not None:
            text += f", {self.n} cohorts"
        text += f"; {100 * CLAIM_LEVEL:.2f}% interval [{lo:+.3f}, {hi:+.3f}], {self.method}"
        if self.too_few:
            text += f"; fewer than {MIN_COHORTS} cohorts: not judged"
        return text

    def describe(self) -> str:
        return (f"{self.text} [{self.status}: {self.value:+.3f} ({self.evidence()}), claimed "
                f"{self.bounds_text()}]")


def _finite(values) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v[np.isfinite(v)]


def mean_claim(key: str, text: str, values, *, lower: float = -math.inf,
               upper: float = math.inf) -> Claim:
    """Claim on the mean of per-replicate ``values`` (NaNs dropped): MCSE = SD / sqrt(n),
    interval mean ± t quantile (n - 1 df) x MCSE at :data:`CLAIM_LEVEL`."""
    from scipy import stats

    v = _finite(values)
    if v.size < 2:
        return Claim(key, text, math.nan, math.nan, lower, upper, n=int(v.size))
    mean, mcse = float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))
    q = float(stats.t.ppf(0.5 + CLAIM_LEVEL / 2, v.size - 1))
    return Claim(key, text, mean, mcse, lower, upper, n=int(v.size),
                 interval=(mean - q * mcse, mean + q * mcse), method=f"t, {v.size - 1} df")


def share_claim(key: str, text: str, values, *, lower: float = -math.inf,
                upper: float = math.inf) -> Claim:
    """Claim on the share of replicates where a 0/1 ``values`` is 1 (NaNs dropped), with the
    exact (Clopper–Pearson) binomial interval at :data:`CLAIM_LEVEL`: a share of 0 in 2
    cohorts is compatible with any rate up to 96%, and the interval says so where a
    normal MCSE of 0 would not."""
    from scipy import stats

    v = _finite(values)
    if not np.isin(v, (0.0, 1.0)).all():
        raise ValueError(f"{key}: share_claim needs 0/1 values; got {sorted(set(v))[:5]}")
    n, k = int(v.size), int(v.sum())
    if n == 0:
        return Claim(key, text, math.nan, math.nan, lower, upper, n=0)
    alpha = 1 - CLAIM_LEVEL
    lo = float(stats.beta.ppf(alpha / 2, k, n - k + 1)) if k > 0 else 0.0
    hi = float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k)) if k < n else 1.0
    p = k / n
    return Claim(key, text, p, math.sqrt(p * (1 - p) / n), lower, upper, n=n,
                 interval=(lo, hi), method="exact binomial")


def exact_claim(key: str, text: str, value: float, *, lower: float = -math.inf,
                upper: float = math.inf) -> Claim:
    """Claim on a quantity without Monte Carlo error (a truth, a design property)."""
    return Claim(key, text, float(value), 0.0, lower, upper)


def smaller_bias_claim(key: str, text: str, a, b, log_truth: float) -> Claim:
    """Claim that estimator ``a`` is less biased than ``b`` (per-replicate log-HRs against
    one truth): ``|bias a| - |bias b| < 0``.

    With ``s`` the sign of ``b``'s bias, ``|bias a| < |bias b|`` means both ``s bias b -
    bias a > 0`` and ``s bias b + bias a > 0``: two means of paired per-replicate values,
    each judged by :func:`mean_claim`. The claim holds when both do and is contradicted
    when either is; its value is ``-min`` of the two means (= ``|bias a| - |bias b|``), its
    interval ``-min`` of their intervals. The sign of ``b``'s bias must be established by
    its own interval (else: not judged); ``a``'s may be anything, 0 included.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    da, db = a[ok] - log_truth, b[ok] - log_truth
    side = mean_claim(key, text, db)
    side = replace(side, lower=0.0) if side.value > 0 else replace(side, upper=0.0)
    if not side.holds:
        value = float(abs(da.mean()) - abs(db.mean())) if da.size else math.nan
        return Claim(key, text, value, math.nan, upper=0.0, n=int(da.size),
                     interval=(math.nan, math.nan),
                     method=f"sign of the bias of the second estimator not established")
    s = float(np.sign(side.value))
    parts = [mean_claim(key, text, s * db - da), mean_claim(key, text, s * db + da)]
    binding = min(parts, key=lambda c: c.value)
    lo = -min(c.bounds[1] for c in parts)
    hi = -min(c.bounds[0] for c in parts)
    return Claim(key, text, -binding.value, binding.mcse, upper=0.0, n=binding.n,
                 interval=(lo, hi), method=f"{binding.method}, both sides")
