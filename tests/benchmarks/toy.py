"""Stand-in mechanism and methods for testing the benchmark framework on its own.

An exponential proportional-hazards cohort with a measured confounder ``x`` (normal) and a
prognostic binary ``b``: ``P(treated | x) = expit(confounding * x)``, hazard ``0.05
exp(log(true_hr) treated + beta_x x + 0.5 b)`` per month, exponential censoring. Treated
patients start a systemic therapy at ``Exp(mean 1)`` months for a planned ``Gamma(mean 6,
sd 5)`` months, stopped by death; the therapy has no effect on the hazard (so any
"duration" effect is immortal-time bias). The method ``rate_ratio`` is the exponential MLE
of the log rate ratio, ``log(d1/T1) - log(d0/T0)`` with SE ``sqrt(1/d1 + 1/d0)`` —
consistent for the conditional log HR when ``confounding * beta_x == 0``.
"""
from __future__ import annotations

import math
import time

import numpy as np

from tacebench.benchmarks.dgm import PreparedDGM
from tacebench.benchmarks.methods import MethodOutput


def prepare(scenario):
    f = {"n": 200, "true_hr": 1.0, "confounding": 0.0, "beta_x": 0.0, "censor_rate": 0.02,
         "fail_every": 0, "sleep": 0.0, "truth_none": False, **scenario.config}
    n, log_hr = int(f["n"]), math.log(f["true_hr"])

    def generate(rng):
        if f["sleep"]:  # lets the kill-and-resume test interrupt a run mid-way
            time.sleep(f["sleep"])
        if f["fail_every"] and rng.random() < 1.0 / f["fail_every"]:
            raise RuntimeError("toy generator failure")
        x = rng.standard_normal(n)
        b = (rng.random(n) < 0.4).astype(np.float64)
        treated = (rng.random(n) < 1 / (1 + np.exp(-f["confounding"] * x))).astype(np.int8)
        rate = 0.05 * np.exp(log_hr * treated + f["beta_x"] * x + 0.5 * b)
        t = rng.exponential(1 / rate)
        c = rng.exponential(1 / f["censor_rate"], n)
        start = np.where(treated == 1, rng.exponential(1.0, n), np.inf)
        duration = np.where(treated == 1, rng.gamma(1.44, 6.0 / 1.44, n), 0.0)
        return {"treated": treated, "x": x, "b": b, "os_time": np.minimum(t, c),
                "os_event": (t <= c).astype(np.int8), "systemic_start": start,
                "systemic_duration": duration}

    def truth(estimand, seed):
        cfg = estimand.config
        if f["truth_none"]:  # a generator's slip: no number
            return None
        if estimand.kind == "custom":
            return float(cfg["value"])
        if estimand.kind == "log_hr_per_month":
            return 0.0
        if estimand.kind == "conditional_log_hr":
            return log_hr
        if estimand.kind == "marginal_log_hr" and f["beta_x"] == 0 and log_hr == 0:
            return 0.0
        raise ValueError(f"toy DGM has no {estimand.kind} here")

    return PreparedDGM(generate, truth, "toy exponential")


def rate_ratio(data, config, rng):
    t, d, z = data["os_time"], data["os_event"], data["treated"] == 1
    d1, d0 = d[z].sum(), d[~z].sum()
    est = math.log(d1 / t[z].sum()) - math.log(d0 / t[~z].sum())
    return MethodOutput(est, math.sqrt(1 / d1 + 1 / d0), extra={"events": float(d.sum())})


def flaky(data, config, rng):
    """Fails on about a fifth of replicates and 'does not converge' on another fifth."""
    u = rng.random()
    if u < 0.2:
        raise FloatingPointError("flaky estimator blew up")
    out = rate_ratio(data, config, rng)
    return MethodOutput(out.estimate + rng.normal(0, 0.01), out.se, converged=u > 0.4)


flaky.uses_rng = True


def malformed(data, config, rng):
    """A study's own method with the usual slips: a tuple, then a string estimate."""
    rep = int(data["os_time"].size)  # (any deterministic switch between the two slips)
    return (0.1, 0.2) if rep % 2 else MethodOutput("0.1", 0.2)


def bad_se(data, config, rng):
    """The rate ratio with a NaN SE on about a quarter of replicates and a negative one on
    another quarter, reported as converged."""
    out = rate_ratio(data, config, rng)
    u = rng.random()
    se = math.nan if u < 0.25 else -out.se if u < 0.5 else out.se
    return MethodOutput(out.estimate, se)


bad_se.uses_rng = True


def own_ci(data, config, rng):
    """The rate ratio with a small SE and its own, much wider CI (as a bootstrap's)."""
    out = rate_ratio(data, config, rng)
    return MethodOutput(out.estimate, 0.05, ci=(out.estimate - 1.0, out.estimate + 1.0))
