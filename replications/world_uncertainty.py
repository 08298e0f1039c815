"""Uncertainty about the world: the calibration inputs drawn from their sampling distributions.

A paper's KM medians, landmark rates, event counts and Table 1 rows are estimates from one
sample of ``n`` patients. A generator calibrated to them exactly treats them as population
values, so the simulated distribution of every number tied to them lacks their sampling
error and its 95% interval is too narrow (a paper whose medians point the wrong way by
chance has its ordinary crude HR flagged). Here the ``R`` replicates are split into blocks
of :data:`BLOCK_SIZE` consecutive replicates; block ``b`` gets its own world: a copy of the
parsed ``cohort.toml`` whose calibration inputs are drawn from their sampling
distributions (stream ``stream_seed(seed, study id, "world_uncertainty", b, attempt)``),
reloaded by simulate's loader and recalibrated. The simulated distribution then integrates
over the worlds consistent with the published inputs (a parametric bootstrap of the
inputs, one world per block).

What is drawn, per cohort:

- **survival calibration targets** (``outcomes.<endpoint>.calibrate``): per endpoint and
  arm, the KM estimates as one Nelson-Aalen-like path: the cumulative hazard at the
  targets' times gets Gaussian noise with independent increments whose variance at each
  time is the squared SE of ``H(t)`` (``SE(S(t)) / S(t)``, ``SE`` the asymptotic Greenwood
  SE at the study's n and censoring, simulate's calibration check ``mcse``), so a
  median and the rates around it move together; a median moves by ``-SE(median)``
  (Greenwood over the density, Brookmeyer-Crowley) times the standardised noise of ``H``
  at the median. A crude HR target: log-normal with its Cox-information SE.
- **event counts** (``censoring.events``): binomial with the published count's share. A
  median follow-up (``censoring.median_followup``) is not drawn: it stays as published.
- **Table 1** (``variables[*].arms`` and ``overall``): counts and proportions multinomial
  (binomial for binary rows) on the arm's n, a level with patients kept at >= 1; a mean
  normal with SE ``sd / sqrt(n)``, an SD ``sd * sqrt(chi2_{n-1} / (n-1))``; a summary
  given by quantiles (median, q1, q3, min, max) moves as one by a normal with the
  median's asymptotic SE ``1.2533 * IQR / 1.349 / sqrt(n)``. The options of a multiselect
  and its ``n_selected`` stay as published (they must agree with one another).
- **best response** (``response.arms``): multinomial on the assessed patients.
- **covariate effects** (``outcomes.<endpoint>.effects``): ``log hr`` normal with the SE
  of the published 95% CI found in the entry's ``source`` quote (the ``est (lo-hi)``
  whose estimate prints as ``hr`` or ``1/hr``); an effect without a CI stays fixed.

Assumptions stated with their numbers (``assumed_split``, ``correlation``, ``rationale``)
are not estimates and stay fixed. A drawn world that the loader or the calibration
refuses is drawn again (next ``attempt``, at most :data:`MAX_ATTEMPTS`).
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from tacebench.engine import stream_seed

from .analysis.problems import raw_items, raw_table
from .verdicts import Z_CRIT

__all__ = ["BLOCK_SIZE", "MAX_ATTEMPTS", "DrawnWorld", "block_of", "n_blocks", "world_seed",
           "draw_inputs", "ci_se", "survival_path", "describe"]

#: Replicates per drawn world. 25 gives 8 worlds at R = 200: 8 recalibrations cost 8-35 s
#: per study (compile_plan takes 1-4.5 s), about the cost of the 200 replicates themselves,
#: and the batch means over 8 blocks still estimate the Monte Carlo error of a position.
BLOCK_SIZE = 25
MAX_ATTEMPTS = 5
_MEDIAN_SE = 1.2533           # asymptotic SE of a sample median, in SDs, times sqrt(n)
_IQR_SD = 1.349               # IQR of a normal in SDs
_CI = re.compile(r"(\d+(?:\.\d+)?)\s*\(\s*(\d+(?:\.\d+)?)\s*[-\u2013\u2212,;]\s*(\d+(?:\.\d+)?)\s*\)")


@dataclass(frozen=True)
class DrawnWorld:
    """One block's world: the drawn ``cohort.toml`` and what was drawn in it."""

    block: int
    attempt: int
    raw: dict
    drawn: tuple[str, ...]      # kinds of input drawn, e.g. "KM medians"


def block_of(r: int, block_size: int = BLOCK_SIZE) -> int:
    """The block (drawn world) of replicate ``r``: consecutive replicates share one."""
    return int(r) // block_size


def n_blocks(reps: int, block_size: int = BLOCK_SIZE) -> int:
    return -(-int(reps) // block_size)


def world_seed(seed: int, study_id: str, block: int, attempt: int = 0) -> np.random.SeedSequence:
    """The stream the inputs of block ``block`` are drawn from (independent of R, n_jobs)."""
    return stream_seed(seed, study_id, "world_uncertainty", block, attempt)


def ci_se(hr: float, source: str) -> float:
    """SE of ``log hr`` from the 95% CI printed with it in ``source`` (NaN when none).

    The CI is the ``est (lo-hi)`` whose estimate prints as ``hr`` or as ``1/hr`` (an
    effect recoded to the other level) at the estimate's printed digits; one distinct CI
    must match.
    """
    if not (isinstance(hr, (int, float)) and hr > 0 and isinstance(source, str)):
        return math.nan
    found = set()
    for est, lo, hi in _CI.findall(source):
        d = len(est.partition(".")[2])
        e, a, b = float(est), float(lo), float(hi)
        if not (0 < a <= e <= b) or a == b:
            continue
        if any(abs(round(v, d) - e) < 0.5 * 10 ** -d + 1e-12 for v in (hr, 1 / hr)):
            found.add((a, b))
    if len(found) != 1:
        return math.nan
    a, b = found.pop()
    return (math.log(b) - math.log(a)) / (2 * Z_CRIT)


def survival_path(items: Sequence[tuple[str, float, float, float]], z: np.ndarray
                  ) -> list[float]:
    """Drawn values of one arm's KM targets given standard normals ``z``.

    ``items`` are (kind, time, value, se): kind ``rate`` (S(time) = value) or ``median``
    (time = value, S = 0.5), ``se`` the estimate's asymptotic SE. The cumulative hazard
    ``H = -log S`` at the sorted times gets noise with independent increments and
    variance ``(SE(S) / S)^2`` at each time (at a median, interpolated from the rates
    around it in time, or ``(SE(median) f / 0.5)^2`` unknown: the median alone then
    moves by ``se * z``). Returns the drawn values in the order of ``items``.
    """
    times = [it[1] if it[0] == "rate" else it[2] for it in items]
    var = {}
    for i, (kind, t, v, se) in enumerate(items):
        if kind == "rate" and 0 < v < 1:
            var[i] = (se / v) ** 2
    rt = sorted((times[i], var[i]) for i in var)
    order = sorted(range(len(items)), key=lambda i: times[i])
    out = [math.nan] * len(items)
    prev_v, noise, k = 0.0, 0.0, 0
    for i in order:
        kind, t, v, se = items[i]
        if kind == "median" and not rt:
            out[i] = v * math.exp(z[k] * se / v)        # alone: log-normal median
            k += 1
            continue
        vi = var[i] if i in var else float(np.interp(times[i], *zip(*rt)))
        noise += math.sqrt(max(vi - prev_v, 0.0)) * z[k]
        k += 1
        prev_v = max(vi, prev_v)
        sd = math.sqrt(prev_v)
        if kind == "rate":
            h = max(-math.log(v) + noise, 1e-6) if 0 < v < 1 else -math.log(v) if v > 0 else 0
            out[i] = float(min(max(math.exp(-h), 1e-4), 1 - 1e-4)) if 0 < v < 1 else v
        else:   # the median moves opposite to H: a higher hazard, an earlier median
            out[i] = max(v - se * (noise / sd if sd > 0 else z[k - 1]), 0.05 * v)
    # keep each arm's rates ordered in time (independent increments rarely swap two)
    rates = sorted((times[i], i) for i in range(len(items)) if items[i][0] == "rate")
    vals = sorted((out[i] for _, i in rates), reverse=True)
    for (_, i), v in zip(rates, vals):
        out[i] = v
    return out


def _arm_sizes(cohort: Mapping) -> dict[str, int]:
    return {str(a.get("label")): int(a["n"]) for a in cohort.get("arms") or []
            if isinstance(a, Mapping) and isinstance(a.get("n"), (int, float))}


def _multinomial(counts, n: int, rng) -> list[int]:
    c = np.asarray(counts, dtype=float)
    p = c / c.sum()
    x = rng.multinomial(n, p)
    for j in np.flatnonzero((x == 0) & (c > 0)):    # an observed level keeps a patient
        x[int(np.argmax(x))] -= 1
        x[j] += 1
    return [int(v) for v in x]


def _draw_summary(s: dict, n: int, rng, binary: bool) -> str | None:
    """Draw one Table-1 summary in place; returns the kind of input drawn, or None."""
    if n < 2:
        return None
    if "count" in s and binary:
        c = int(s["count"])
        if 0 < c < n:
            s["count"] = int(min(max(rng.binomial(n, c / n), 1), n - 1))
            return "Table 1 counts"
        return None
    if "p" in s and binary:
        p = float(s["p"])
        if 0 < p < 1:
            s["p"] = float(min(max(rng.binomial(n, p), 1), n - 1)) / n
            return "Table 1 counts"
        return None
    for key in ("counts", "proportions"):
        if key in s and isinstance(s[key], list) and len(s[key]) > 1:
            c = [float(v) for v in s[key]]
            total = sum(c)
            if total <= 0:
                return None
            m = int(round(total)) if key == "counts" else n
            x = _multinomial(c, m, rng)
            s[key] = x if key == "counts" else [v / m for v in x]
            return "Table 1 counts"
    if "mean" in s or "median" in s:
        return _draw_location(s, n, rng)
    return None


def _draw_location(s: dict, n: int, rng) -> str | None:
    sd = s.get("sd")
    if "mean" in s and isinstance(sd, (int, float)) and sd > 0:
        s["mean"] = float(s["mean"]) + float(sd) / math.sqrt(n) * rng.standard_normal()
        s["sd"] = float(sd) * math.sqrt(rng.chisquare(n - 1) / (n - 1))
        return "Table 1 means/SDs"
    if "median" in s and isinstance(s.get("q1"), (int, float)) and "q3" in s:
        se = _MEDIAN_SE * (float(s["q3"]) - float(s["q1"])) / _IQR_SD / math.sqrt(n)
        shift = se * rng.standard_normal()
        for k in ("mean", "median", "q1", "q3", "min", "max"):
            if isinstance(s.get(k), (int, float)):
                s[k] = float(s[k]) + shift
        return "Table 1 medians"
    return None


def _draw_table1(cohort: dict, rng, drawn: set) -> None:
    n_arm = _arm_sizes(cohort)
    fixed = {o for v in cohort.get("variables") or [] if v.get("type") == "multiselect"
             for o in v.get("options") or []}
    for v in cohort.get("variables") or []:
        if not isinstance(v, dict) or v.get("name") in fixed or v.get("type") == "multiselect":
            continue
        binary = v.get("type") == "binary"
        for label, s in raw_table(v.get("arms")).items():
            if isinstance(s, dict) and label in n_arm:
                kind = _draw_summary(s, n_arm[label], rng, binary)
                drawn.add(kind) if kind else None
        if isinstance(v.get("overall"), dict):
            kind = _draw_summary(v["overall"], sum(n_arm.values()), rng, binary)
            drawn.add(kind) if kind else None


def _draw_survival(cname: str, cohort: dict, checks, rng, drawn: set) -> None:
    se = {(ch.endpoint, ch.kind, ch.arm, ch.time if ch.kind == "rate" else None): ch.mcse
          for ch in checks}
    for endpoint, out in raw_table(cohort.get("outcomes")).items():
        entries = out.get("calibrate") if isinstance(out, dict) else None
        by_arm: dict[str, list[int]] = {}
        for i, e in enumerate(entries or []):
            key = (endpoint, e.get("kind"), str(e.get("arm")),
                   float(e["time"]) if e.get("kind") == "rate" else None)
            s = se.get(key, math.nan)
            if not (isinstance(s, float) and s > 0 and math.isfinite(s)):
                continue
            if e.get("kind") == "hr" and float(e["value"]) > 0:
                e["value"] = float(e["value"]) * math.exp(s / float(e["value"])
                                                         * rng.standard_normal())
                drawn.add("crude HRs")
            elif e.get("kind") in ("median", "rate"):
                by_arm.setdefault(str(e.get("arm")), []).append(i)
        for arm, idx in sorted(by_arm.items()):
            items = [(entries[i]["kind"], float(entries[i].get("time", 0.0)),
                      float(entries[i]["value"]),
                      se[(endpoint, entries[i]["kind"], arm, float(entries[i]["time"])
                          if entries[i]["kind"] == "rate" else None)]) for i in idx]
            for i, v in zip(idx, survival_path(items, rng.standard_normal(len(items)))):
                entries[i]["value"] = float(v)
                drawn.add("KM medians" if entries[i]["kind"] == "median" else "KM rates")


def _draw_effects(cohort: dict, rng, drawn: set) -> None:
    for out in raw_table(cohort.get("outcomes")).values():
        for e in raw_items(raw_table(out).get("effects")):
            if not isinstance(e, dict):
                continue
            hrs = e.get("hr")
            many = isinstance(hrs, list)
            new = []
            for hr in (hrs if many else [hrs]):
                s = ci_se(hr, e.get("source", ""))
                if math.isfinite(s) and s > 0:
                    hr = float(hr) * math.exp(s * rng.standard_normal())
                    drawn.add("covariate HRs")
                new.append(hr)
            e["hr"] = new if many else new[0]


def draw_inputs(cohort_raw: Mapping, checks: Mapping[str, Sequence], rng: np.random.Generator
                ) -> tuple[dict, tuple[str, ...]]:
    """A deep copy of the parsed ``cohort.toml`` with its calibration inputs drawn.

    Parameters
    ----------
    cohort_raw : mapping
        ``cohort.toml`` as parsed TOML.
    checks : mapping
        Cohort name -> simulate's calibration checks of the exactly calibrated plan (their
        ``mcse`` is the asymptotic SE of each survival target at the study's n).
    rng : numpy.random.Generator

    Returns
    -------
    raw : dict
    drawn : tuple of str
        The kinds of input drawn (see the module docstring).

    References
    ----------
    Brookmeyer R, Crowley J. A confidence interval for the median survival time.
    Biometrics 1982;38:29-41.
    """
    raw = copy.deepcopy(dict(cohort_raw))
    drawn: set[str] = set()
    for cname, cohort in sorted(raw_table(raw.get("cohorts")).items()):
        if not isinstance(cohort, dict):
            continue
        _draw_survival(cname, cohort, checks.get(cname, ()), rng, drawn)
        n_arm = _arm_sizes(cohort)
        cens = cohort.get("censoring")
        ev = cens.get("events") if isinstance(cens, dict) else None
        if isinstance(ev, dict) and isinstance(ev.get("value"), (int, float)):
            n = n_arm.get(str(ev.get("arm")), sum(n_arm.values()))
            d = int(ev["value"])
            if 0 < d < n:
                ev["value"] = int(min(max(rng.binomial(n, d / n), 1), n - 1))
                drawn.add("event counts")
        _draw_table1(cohort, rng, drawn)
        resp = cohort.get("response")
        for label, s in raw_table(raw_table(resp).get("arms")).items():
            if isinstance(s, dict) and "counts" in s:
                s["counts"] = _multinomial(s["counts"], int(sum(s["counts"])), rng)
                drawn.add("response counts")
        _draw_effects(cohort, rng, drawn)
    return raw, tuple(sorted(drawn))


_DIST = {"KM medians": "KM medians (Brookmeyer-Crowley SE)",
         "KM rates": "KM rates (Greenwood, independent hazard increments)",
         "crude HRs": "crude HRs (log-normal, Cox SE)", "event counts": "event counts (binomial)",
         "Table 1 counts": "Table 1 counts (multinomial)",
         "Table 1 means/SDs": "Table 1 means/SDs (normal, chi-square)",
         "Table 1 medians": "Table 1 medians (normal, IQR-based SE)",
         "response counts": "response counts (multinomial)",
         "covariate HRs": "covariate HRs (log-normal, published CIs)"}


def describe(drawn: Sequence[str], blocks: int, block_size: int = BLOCK_SIZE) -> str:
    """The report's one line on what was drawn."""
    if not drawn:
        return "World uncertainty: on, but no calibration input has a sampling SE to draw"
    return (f"World uncertainty: {blocks} drawn worlds ({block_size} replicates each), "
            f"inputs drawn from their sampling distributions: "
            + ", ".join(_DIST.get(d, d) for d in drawn)
            + "; each world recalibrated (calibration targets are judged on the same "
              "draws, so their intervals also hold the inputs' sampling error)")
