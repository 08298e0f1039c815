"""benchmarks.speed.versus: commands of two commits back to back on the same inputs."""
from __future__ import annotations

import json
import sys

import pytest

from tacebench.benchmarks.speed.versus import CASES, main, report, timed


def _runs(case, before, after, rc=0):
    return [{"case": case, "side": s, "round": r, "wall": w, "cpu": w * 1.5, "load_before": 0.5,
             "returncode": rc}
            for s, walls in (("before", before), ("after", after)) for r, w in enumerate(walls)]


def test_report_gives_medians_and_the_ratio_of_wall_times():
    data = {"before": "abc1234", "after": "def5678", "rounds": 3,
            "runs": _runs("study", [10.0, 12.0, 30.0], [4.0, 5.0, 6.0])}
    table = report(data)
    assert "| study | 12.0 s / 18.0 s | 5.0 s / 7.5 s | 0.42x |" in table
    assert "replicate" not in table  # no runs of that case: no row
    assert "`abc1234`" in table and "3 alternating rounds" in table


def test_a_failed_run_is_reported_not_timed():
    data = {"before": "a", "after": "b", "rounds": 1, "runs": _runs("replicate", [1.0], [1.0], rc=2)}
    assert "| replicate | a run failed" in report(data)


def test_both_sides_run_the_earlier_commits_inputs():
    # the same inputs on both sides; today's side switches off today's additions
    for case, before, after in CASES:
        assert {a for a in before if a.startswith("{")} <= {a for a in after if a.startswith("{")}
    replicate = dict((c, a) for c, _, a in CASES)["replicate"]
    assert "--worlds" in replicate and "none" in replicate


def test_timed_counts_the_cpu_of_the_command(tmp_path):
    wall, cpu, rc = timed([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"],
                          {}, tmp_path)
    assert rc == 0 and cpu > 0 and wall >= cpu * 0.2


def test_report_reads_a_json_file(tmp_path, capsys):
    f = tmp_path / "v.json"
    f.write_text(json.dumps({"before": "a", "after": "b", "rounds": 1,
                             "runs": _runs("study", [2.0], [1.0])}))
    assert main(["--report", str(f)]) == 0
    assert "0.50x" in capsys.readouterr().out


def test_without_a_commit_the_command_says_what_it_needs():
    with pytest.raises(SystemExit):
        main([])


def test_report_says_what_the_role_migration_changed():
    data = {"before": "a", "after": "b", "rounds": 1, "runs": _runs("replicate", [2.0], [1.0]),
            "migrated": ["x: migrated", "  role predicted -> calibration: 12 target(s), a, b",
                         "y: nothing to do", "  role reported -> predicted: 41 target(s), c",
                         "  role reported -> predicted: 2 Table 1 column(s), d"]}
    assert "after `tacebench migrate --roles` (55 targets or Table 1 columns" in report(data)
    data["migrated"] = []
    assert "migrate" not in report(data)
