"""Scaling with the cohort size, n = 100 ... 100,000, and peak memory at n = 100,000.

Cohorts are single seed-000 cohorts scaled to n (arm sizes and the calibrated death count
scaled, as the benchmarks' ``n`` factor does), not copies of a small one. ``report.py``
fits ``log(median time) = a + k log(n)`` over n >= 1,000 and states k; the Cox and KM
kernels sort once and then use cumulative sums, so k should be that of n log n (about 1.1
over that range).
"""
from __future__ import annotations

import gc
import resource
import tracemalloc

import numpy as np
import pytest

from tacebench.benchmarks.speed import pipelines as P

SIZES = (100, 300, 1_000, 3_000, 10_000, 30_000, 100_000)
_DATA: dict[int, dict] = {}


def _data(n: int) -> dict:
    """Inputs of each kernel at size n (cached for the session)."""
    if n not in _DATA:
        from tacebench.estimators.kernels import fit_logistic
        from tacebench.estimators.kernels import iptw_weights_kernel

        from tacebench.simulate import SpecError

        try:
            plan = P.plan(n)
        except SpecError as exc:  # a scaled spec that simulate rejects: say so, time the rest
            pytest.skip(f"simulate rejects seed 000 scaled to n={n}: {exc}")
        cols = P.cohort(plan, 1)
        X = P.ps_design(cols)
        z = cols["treated"].astype(np.float64)
        fit = fit_logistic(X, z, np.ones(z.size))
        ps = fit.fitted
        assert fit.status.ok and cols["treated"].size == n
        _DATA[n] = {"plan": plan, "cols": cols, "X": X, "z": z, "ps": ps,
                    "w": iptw_weights_kernel(ps, z, "ATE", False, P.TRUNCATE)}
    return _DATA[n]


def _extra(benchmark, kernel: str, n: int) -> None:
    benchmark.extra_info.update(case=f"scaling_{kernel}", side="ours", kernel=kernel, n=n)


@pytest.mark.benchmark(group="scaling: weighted Cox, robust SE (Breslow)")
@pytest.mark.parametrize("n", SIZES)
def test_scaling_cox(benchmark, n):
    from tacebench.estimators.kernels import fit_cox

    d = _data(n)
    t, e = d["cols"]["os_time"], d["cols"]["os_event"]
    fit = fit_cox(t, e, d["z"][:, None], d["w"], ties="breslow", robust=True)
    assert fit.converged and np.isfinite(fit.robust_se).all()
    _extra(benchmark, "cox", n)
    benchmark(fit_cox, t, e, d["z"][:, None], d["w"], ties="breslow", robust=True)


@pytest.mark.benchmark(group="scaling: weighted Kaplan-Meier + median")
@pytest.mark.parametrize("n", SIZES)
def test_scaling_km(benchmark, n):
    from tacebench.estimators.kernels import fit_km

    d = _data(n)
    t, e = d["cols"]["os_time"], d["cols"]["os_event"]
    _extra(benchmark, "km", n)
    benchmark(lambda: fit_km(t, e, d["w"], "xie_liu").median())


@pytest.mark.benchmark(group="scaling: logistic PS model (20 coefficients)")
@pytest.mark.parametrize("n", SIZES)
def test_scaling_logistic(benchmark, n):
    from tacebench.estimators.kernels import fit_logistic

    d = _data(n)
    _extra(benchmark, "logistic", n)
    benchmark(fit_logistic, d["X"], d["z"], np.ones(n))


@pytest.mark.benchmark(group="scaling: generate cohort (without true PS)")
@pytest.mark.parametrize("n", SIZES)
def test_scaling_generate(benchmark, n):
    from tacebench import simulate
    d = _data(n)
    _extra(benchmark, "generate", n)
    benchmark(simulate.generate_cohort, d["plan"], seed=2, with_ps=False)


@pytest.mark.benchmark(group="scaling: full IPTW replicate")
@pytest.mark.parametrize("n", SIZES)
def test_scaling_replicate(benchmark, n):
    d = _data(n)  # seed 1, whose PS model is checked there (n = 100 may separate otherwise)
    _extra(benchmark, "replicate", n)
    benchmark(P.run_ours_iptw, d["plan"], 1)


def _peak_mb(fn) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.mark.benchmark(group="memory: n = 100,000")
@pytest.mark.parametrize("what", ["replicate", "generate_with_true_ps"])
def test_peak_memory_100k(benchmark, what):
    """Peak traced memory (numpy buffers included) of one call at n = 100,000, and the
    process's peak resident set so far. Timed with a few rounds only."""
    from tacebench import simulate
    d = _data(100_000)
    if what == "replicate":
        def fn():
            return P.run_ours_iptw(d["plan"], 1)
    else:
        def fn():
            return simulate.generate_cohort(d["plan"], seed=3, with_ps=True)
    peak = _peak_mb(fn)
    benchmark.extra_info.update(
        case=f"memory_{what}", side="ours", n=100_000, peak_traced_mb=round(peak, 1),
        max_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=0)
