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


def test_public_api_row_ratio_and_target():
    data = {"benchmarks": [
        _bench("replicate_iptw_public_ref", 50e-3, side="reference"),
        _bench("replicate_iptw_public", 800e-6, ref="replicate_iptw_public_ref",
               target_ratio=50, side="ours"),
    ]}
    text = report.render(data)
    assert ("| IPTW replicate through the public DataFrame API ≥ 50x faster than lifelines + "
            "statsmodels | 62x (800 µs) | **met** |") in text
    row = next(line for line in text.splitlines()
               if line.startswith("| IPTW replicate through the public DataFrame API (`"))
    assert "| 62.5x (min 62.5x) | ≥ 50x | **met** |" in row
    slow = {"benchmarks": [data["benchmarks"][0],
                           _bench("replicate_iptw_public", 2e-3, ref="replicate_iptw_public_ref",
                                  target_ratio=50, side="ours")]}
    text = report.render(slow)
    assert "statsmodels | 25x (2.00 ms) | **not met** |" in text
    assert "Spread over" not in text  # one run: no spread section


def test_spread_over_runs():
    def run(pub, batch, load):
        return {"benchmarks": [
            _bench("replicate_iptw_ref", 50e-3), _bench("replicate_iptw_public_ref", 50e-3),
            _bench("replicate_iptw_public", pub, ref="replicate_iptw_public_ref"),
            _bench("replicate_iptw_batch", 64 * batch, per_call=64, ref="replicate_iptw_ref"),
        ], "machine_info": {"tacebench": {"load_average_start": [load, 0, 0],
                                          "load_average_end": [load + 1, 0, 0]}}}

    runs = [run(1e-3, 480e-6, 0.5), run(0.8e-3, 520e-6, 1.5), run(0.9e-3, 450e-6, 2.0)]
    text = report.render(runs[0], runs[1:])
    assert "## Spread over 3 runs" in text
    assert "run 1: 0.50 → 1.50; run 2: 1.50 → 2.50; run 3: 2.00 → 3.00" in text
    assert ("| IPTW replicate through the public DataFrame API | 50x | 62x | 56x | 50-62x | "
            "≥ 50x | **met** |") in text
    assert "| IPTW replicate, batched | 104x | 96x | 111x | 96-111x | ≥ 100x | **not met** |" in text
    assert "one at a time" not in text.split("## Spread over 3 runs")[1].split("##")[0]


def test_main_reads_runs(tmp_path, capsys):
    import json

    paths = []
    for i, pub in enumerate((1e-3, 0.8e-3)):
        p = tmp_path / f"s{i}.json"
        p.write_text(json.dumps({"benchmarks": [
            _bench("replicate_iptw_public_ref", 50e-3),
            _bench("replicate_iptw_public", pub, ref="replicate_iptw_public_ref")]}))
        paths.append(str(p))
    assert report.main([paths[0], "--runs", paths[1]]) == 0
    out = capsys.readouterr().out
    assert "| IPTW replicate through the public DataFrame API | 50x | 62x | 50-62x |" in out


def test_main_adds_the_table_of_a_versus_run(tmp_path, capsys):
    import json

    suite = tmp_path / "s.json"
    suite.write_text(json.dumps({"benchmarks": [_bench("replicate_iptw_public", 1e-3)]}))
    versus = tmp_path / "v.json"
    runs = [{"case": "study", "side": side, "round": 0, "wall": wall, "cpu": wall,
             "load_before": 0.4, "returncode": 0}
            for side, wall in (("before", 80.0), ("after", 40.0))]
    versus.write_text(json.dumps({"before": "abc", "after": "def", "rounds": 1, "runs": runs}))
    assert report.main([str(suite), "--versus", str(versus)]) == 0
    out = capsys.readouterr().out
    assert "## Whole commands against the code before the one-package change" in out
    assert "| study | 80.0 s / 80.0 s | 40.0 s / 40.0 s | 0.50x |" in out
    assert out.index("Whole commands") < out.index("## How to read these numbers")
