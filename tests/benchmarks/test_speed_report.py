"""benchmarks.speed.report on a synthetic pytest-benchmark JSON: a batched call's times are
per replicate (divided by ``per_call``), targets are judged on them, and the generation /
analysis split is computed from the run's own rows."""
from __future__ import annotations

from tacebench.benchmarks.speed import report


def _bench(case, median, per_call=1, **info):
    stats = {k: median for k in ("min", "max", "mean", "median", "q1", "q3")}
    stats.update(stddev=0.0, iqr=0.0, rounds=5)
    return {"stats": stats, "extra_info": {"case": case, "per_call": per_call, **info}}


def test_batched_rows_are_per_replicate_and_judged_on_that():
    data = {"benchmarks": [
        _bench("replicate_iptw_ref", 48e-3, side="reference"),
        _bench("replicate_iptw_batch", 64 * 480e-6, per_call=64, ref="replicate_iptw_ref",
               target_us=500, target_ratio=100),
        _bench("generate_batch", 64 * 200e-6, per_call=64),
    ]}
    ix = report.index(data)
    assert abs(ix["replicate_iptw_batch"]["stats"]["median"] - 480e-6) < 1e-12
    text = report.render(data)
    assert "| IPTW replicate, batched, n = 423: ≤ 0.5 ms | 480 µs | **met** |" in text
    assert "| IPTW replicate, batched, ≥ 100x faster than lifelines + statsmodels | 100x" in text
    assert "generating the cohort takes 200 µs" in text and "the other 280 µs" in text
    slow = {"benchmarks": [dict(b) for b in data["benchmarks"]]}
    slow["benchmarks"][1] = _bench("replicate_iptw_batch", 64 * 520e-6, per_call=64,
                                   ref="replicate_iptw_ref", target_us=500)
    assert "| IPTW replicate, batched, n = 423: ≤ 0.5 ms | 520 µs | **not met** |" in \
        report.render(slow)
