"""The ``tacebench simulate`` command."""
from __future__ import annotations

import pandas as pd

import pytest

from tacebench.cli import main


def test_simulate_writes_csv(small_spec_path, tmp_path):
    out = tmp_path / "c.csv"
    assert main(["simulate", str(small_spec_path), "--seed", "3", "--n-cohorts", "2", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert len(df) == 500 and set(df["arm"]) == {"Control", "Combo"}
    for col in ("os_time", "os_event", "pfs_time", "pfs_event", "response", "true_ps", "tumor_size"):
        assert col in df.columns


def test_simulate_table(small_spec_path, capsys):
    assert main(["simulate", str(small_spec_path), "--table", "--n-cohorts", "50"]) == 0
    out = capsys.readouterr().out
    assert "published" in out and "inside" in out and "arm sizes exact: True" in out


def test_table_takes_the_number_of_cohorts_it_is_given(small_spec_path, capsys):
    """--table --n-cohorts 1 drew 200 cohorts without a word; K >= 2 is used as given."""
    assert main(["simulate", str(small_spec_path), "--table", "--n-cohorts", "1"]) == 2
    assert "--table needs at least 2 cohorts" in capsys.readouterr().err
    assert main(["simulate", str(small_spec_path), "--table", "--n-cohorts", "3"]) == 0
    got = capsys.readouterr()
    assert "central 95% of 3 simulated cohorts" in got.out
    # as few as 3 cohorts give a central 95% of 3 values: said, as replicate says of --reps
    assert ("warning: --n-cohorts 3 is below 100: the central 95% of each statistic, and inside_95, "
            "carry a large Monte Carlo error" in got.err)


def test_table_shows_the_whole_cohort_summaries(capsys):
    """A variable's `overall` summary is fitted (seed 003's age median (IQR) 55 (49, 64),
    seed 000's mean age 52.2) and had no row."""
    from tacebench.simulate.table import compare_table
    rows = {(r[0], r[2], r[3]): r for r in compare_table("tace_mtt_pd1_lung", n_cohorts=20).rows}
    for st, published in (("median", 55.0), ("q1", 49.0), ("q3", 64.0)):
        assert rows[("age", st, "all")][4] == published
    assert main(["simulate", "tace_sorafenib_ehs", "--table", "--n-cohorts", "5"]) == 0
    assert any(line.split()[:4] == ["age", "mean", "all", "52.2"] for line in capsys.readouterr().out.splitlines())


def test_simulate_bad_input(small_spec_path, tmp_path, capsys):
    assert main(["simulate", "no_such_study"]) == 2
    assert "no_such_study" in capsys.readouterr().err
    assert main(["simulate", str(small_spec_path), "--out", str(tmp_path / "x.txt")]) == 2
    for bad in (["--n-cohorts", "0"], ["--seed", "-1"]):
        with pytest.raises(SystemExit) as exc:      # argparse: usage error, status 2
            main(["simulate", str(small_spec_path), *bad])
        assert exc.value.code == 2
        assert repr(bad[1]) in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cohorts_that_cannot_be_written_leave_no_cut_off_file(small_spec_path, tmp_path,
                                                              monkeypatch, capsys, suffix):
    """A full disk: status 1 naming the file, and no file that reads as the cohorts."""
    import errno

    def full_disk(self, path, *args, **kwargs):
        with open(path, "w") as fh:
            fh.write("cohort,patient\n0,")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(pd.DataFrame, "to_csv" if suffix == ".csv" else "to_parquet",
                        full_disk)
    out = tmp_path / f"cohorts{suffix}"
    assert main(["simulate", str(small_spec_path), "--n-cohorts", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "tacebench simulate: stopped:" in err and f"cannot write {out.name}" in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_study_of_several_cohorts_without_cohort(capsys):
    """'simulate tace_sorafenib_matched' said "unknown cohort 'main'", a name the user had
    not given; --table now shows each cohort's table, generation asks for one."""
    assert main(["simulate", "tace_sorafenib_matched", "--table", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "tace_sorafenib_matched/primary:" in out and "tace_sorafenib_matched/recurrent:" in out
    assert main(["simulate", "tace_sorafenib_matched"]) == 2
    err = capsys.readouterr().err
    assert "has several cohorts, ['primary', 'recurrent']: name one with --cohort" in err
    assert "'main'" not in err
