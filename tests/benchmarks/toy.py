"""Stand-in mechanism and methods for testing the benchmark framework on its own.

An exponential proportional-hazards cohort with one measured confounder ``x``:
``P(treated | x) = expit(a + confounding * x)``, hazard ``0.05 exp(log(true_hr) treated +
beta_x x)`` per month, exponential censoring. The method ``rate_ratio`` is the exponential
MLE of the log rate ratio, ``log(d1/T1) - log(d0/T0)`` with SE ``sqrt(1/d1 + 1/d0)`` —
consistent for the conditional log HR when ``confounding * beta_x == 0``.
"""
from __future__ import annotations

import math
import time

import numpy as np

from benchmarks.dgm import PreparedDGM
from benchmarks.methods import MethodOutput


def prepare(scenario):
    f = {"n": 200, "true_hr": 1.0, "confounding": 0.0, "beta_x": 0.0, "censor_rate": 0.02,
         "fail_every": 0, "sleep": 0.0, **scenario.config}
    n, log_hr = int(f["n"]), math.log(f["true_hr"])

    def generate(rng):
        if f["sleep"]:  # lets the kill-and-resume test interrupt a run mid-way
            time.sleep(f["sleep"])
        if f["fail_every"] and rng.random() < 1.0 / f["fail_every"]:
            raise RuntimeError("toy generator failure")
        x = rng.standard_normal(n)
        treated = (rng.random(n) < 1 / (1 + np.exp(-f["confounding"] * x))).astype(np.int8)
        rate = 0.05 * np.exp(log_hr * treated + f["beta_x"] * x)
        t = rng.exponential(1 / rate)
        c = rng.exponential(1 / f["censor_rate"], n)
        return {"treated": treated, "x": x, "os_time": np.minimum(t, c),
                "os_event": (t <= c).astype(np.int8)}

    def truth(estimand, seed):
        if estimand.kind == "conditional_log_hr":
            return log_hr
        raise ValueError(f"toy DGM has no {estimand.kind}")

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
