"""benchmarks.speed.versus: commands of two commits back to back on the same inputs."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tacebench import benchmarks
from tacebench.benchmarks.speed.versus import CASES, main, migrate_estimands, report, timed
from tacebench.benchmarks.study import load_study


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


def test_runs_of_two_invocations_say_their_own_rounds():
    data = {"before": "a", "after": "b", "rounds": 2,
            "runs": _runs("study", [10.0, 12.0], [4.0, 5.0])
            + _runs("replicate", [3.0, 3.0, 3.0], [2.0, 2.0, 2.0])}
    table = report(data)
    assert "on that commit's inputs, alternating rounds (medians" in table
    assert "| replicate (3 rounds) | 3.0 s / 4.5 s | 2.0 s / 3.0 s | 0.67x |" in table
    assert "| study (2 rounds) | 11.0 s / 16.5 s | 4.5 s / 6.8 s | 0.41x |" in table


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


def _earlier_default(tmp_path):
    """Today's default study with overlap weights scored against the ATE's truth, as the
    earlier commit's file had it (a copy beside nothing: cohorts come by study id)."""
    text = (Path(benchmarks.__file__).parent / "studies" / "default.toml").read_text()
    head, rest = text.split("[methods.overlap_weights]", 1)
    rest = rest.replace('estimand = "marginal_ato"', 'estimand = "marginal_ate"', 1)
    f = tmp_path / "default.toml"
    f.write_text(head + "[methods.overlap_weights]" + rest)
    return f


def test_an_earlier_study_file_gets_an_estimand_of_each_methods_population(tmp_path):
    """Today's check refuses a method scored against another population's truth; the
    copy gives it the estimand of its own population (the rest of the file unchanged),
    loads, and the report says so."""
    f = _earlier_default(tmp_path)
    with pytest.raises(ValueError, match="overlap_weights"):
        load_study(f)
    out, changes = migrate_estimands(f)
    assert out.parent == f.parent and out != f
    assert changes == ["[methods.overlap_weights] estimand marginal_ate -> marginal_ate_ato "
                       "(population ATO)"]
    study = load_study(out)
    assert {m.name: m.estimand for m in study.methods}["overlap_weights"] == "marginal_ate_ato"
    before = f.read_text().splitlines()
    after = out.read_text().splitlines()
    assert sum(a != b for a, b in zip(before, after)) == 1
    assert after[len(before):] == ["", "[estimands.marginal_ate_ato]",
                                   'kind = "marginal_log_hr"', 'population = "ATO"']
    data = {"before": "a", "after": "b", "rounds": 1, "runs": _runs("study", [2.0], [1.0]),
            "estimands_migrated": changes}
    assert "estimand of the population it estimates" in report(data)


def test_an_earlier_study_file_refused_beyond_its_estimands_is_said(tmp_path):
    f = _earlier_default(tmp_path)
    f.write_text(f.read_text().replace('[methods.overlap_weights]',
                                       '[methods.overlap_weights]\nno_such_option = 1', 1))
    with pytest.raises(RuntimeError, match="beyond its estimands"):
        migrate_estimands(f)
