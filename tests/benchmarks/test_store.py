"""The store never reads a broken chunk: checksums in chunk names, damaged chunks set aside
and recomputed, writes atomic, a full disk stops the run cleanly and the run resumes."""
from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tacebench.benchmarks import store
from tacebench.benchmarks.runner import load_results, run_study
from tacebench.benchmarks.store import DamagedChunk, RunDirectory, WriteFailed, digest

from .conftest import TOY, first_reps


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "flipped":   # same size, one bit changed in the middle
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    else:                    # emptied, as a crash of a non-journaled file system can leave
        path.write_bytes(b"")


def test_chunk_names_carry_the_checksum_of_their_bytes(study, tmp_path):
    run_study(study, tmp_path, reps=4, chunk_size=2, progress=False)
    chunks = RunDirectory(tmp_path).chunks()
    assert len(chunks) == 8
    for c in chunks:
        assert c.checksum == digest(c.path.read_bytes()) and c.checksum in c.path.name
    assert not list((tmp_path / "chunks").glob(".*"))   # no temporary left


@pytest.mark.parametrize("how", ["truncated", "flipped", "emptied"])
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_damaged_chunk_is_never_read_and_resume_recomputes_it(study, reference, tmp_path,
                                                                 how, fmt):
    run_study(study, tmp_path, reps=12, chunk_size=3, progress=False, fmt=fmt)
    victim = RunDirectory(tmp_path, fmt).chunks()[5]
    _damage(victim.path, how)
    with pytest.raises(DamagedChunk, match=victim.path.name):
        load_results(tmp_path)
    with pytest.warns(RuntimeWarning, match="moved to damaged/"):
        again = run_study(study, tmp_path, resume=True, reps=12, chunk_size=3, progress=False)
    assert again.replicates_run == victim.stop - victim.start   # only the damaged range
    assert (tmp_path / "damaged" / victim.path.name).exists()
    got = load_results(tmp_path)[0]
    pd.testing.assert_frame_equal(got, first_reps(reference, 12), check_exact=True,
                                  check_dtype=fmt == "parquet")


def test_a_chunk_without_checksum_or_with_foreign_rows_is_refused(study, tmp_path):
    run_study(study, tmp_path, reps=4, chunk_size=2, progress=False)
    run = RunDirectory(tmp_path)
    first, second = run.chunks()[:2]
    bare = first.path.with_name(first.path.name.replace(f".{first.checksum}", ""))
    first.path.rename(bare)
    with pytest.raises(DamagedChunk, match="no checksum"):
        load_results(tmp_path)
    bare.unlink()
    # whole, checksummed chunks under another range or scenario (hand edits)
    second.path.rename(run.chunk_path(0, 0, 2, second.checksum))
    with pytest.raises(DamagedChunk, match=r"replicates 2\.\.3, outside \[0, 2\)"):
        load_results(tmp_path)
    other = next(c for c in run.chunks() if c.scenario_index == 1 and c.start == 0)
    run.chunks()[0].path.unlink()
    other.path.rename(run.chunk_path(0, 0, 2, other.checksum))
    with pytest.raises(DamagedChunk, match="scenario"):
        load_results(tmp_path)


def test_a_failing_write_stops_the_run_leaves_no_partial_file_and_resumes(study, reference,
                                                                         tmp_path, monkeypatch):
    real, calls = store.pq.write_table, []

    def disk_fills_up(table, where, *a, **kw):
        calls.append(where)
        if len(calls) > 5:
            Path(where).write_bytes(b"PAR1 partial")   # what a failing write leaves
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(table, where, *a, **kw)

    monkeypatch.setattr(store.pq, "write_table", disk_fills_up)
    with pytest.raises(WriteFailed, match="No space left on device") as info:
        run_study(study, tmp_path, reps=12, chunk_size=2, progress=False)
    assert info.value.errno == errno.ENOSPC and ".parquet" in str(info.value)
    assert not list((tmp_path / "chunks").glob(".*"))        # the partial file is gone
    kept = RunDirectory(tmp_path).chunks()
    assert 0 < len(kept) < 24
    for c in kept:
        c.read("parquet")                                    # every chunk left is whole
    monkeypatch.setattr(store.pq, "write_table", real)
    again = run_study(study, tmp_path, resume=True, reps=12, chunk_size=2, progress=False)
    assert again.replicates_skipped == sum(c.stop - c.start for c in kept)
    pd.testing.assert_frame_equal(load_results(tmp_path)[0], first_reps(reference, 12),
                                  check_exact=True)


@pytest.mark.slow
def test_a_real_full_disk_stops_the_cli_with_a_message_and_resume_completes(study, reference,
                                                                           tmp_path):
    """A 160 KB tmpfs fills up mid-run (needs permission to mount; skipped otherwise)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        out = disk / "run"
        cmd = ["tacebench_study_run", str(TOY), "--out", str(out), "--reps", "12",
               "--chunk-size", "1", "--n-jobs", "1", "--no-progress"]
        full = _cli(cmd)
        assert full.returncode == 1, full.stderr
        assert "No space left on device" in full.stderr and "--resume" in full.stderr
        assert not list((out / "chunks").glob(".*"))
        kept = RunDirectory(out).chunks()
        assert 0 < len(kept) < 48
        # free the space by moving the run to a larger disk, then resume there
        moved = tmp_path / "moved"
        subprocess.run(["cp", "-a", str(out), str(moved)], check=True)
        resumed = _cli([*cmd[:3], str(moved), *cmd[4:], "--resume"])
        assert resumed.returncode == 0, resumed.stderr
        pd.testing.assert_frame_equal(load_results(moved, 12)[0], first_reps(reference, 12),
                                      check_exact=True)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def _cli(cmd):
    import sys
    return subprocess.run([sys.executable, "-m", "tacebench", "study", "run", *cmd[1:]],
                          capture_output=True, text=True, timeout=300)


def test_parquet_results_are_the_concatenated_chunk_frames(tmp_path):
    """read_results joins Parquet chunks as Arrow tables: the frame is the one pandas.concat
    of the chunks' own frames gives (a column one scenario lacks is NaN there, errors and
    warnings are strings, replicates at or above ``reps`` are left out)."""
    import numpy as np

    run = RunDirectory(tmp_path, "parquet")

    def chunk(scenario, start, stop, extra):
        reps = np.repeat(np.arange(start, stop), 2)
        cols = {"scenario_index": np.full(reps.size, scenario, dtype=np.int32),
                "rep": reps.astype(np.int64), "method_index": np.tile([0, 1], stop - start),
                "estimate": np.linspace(-1, 1, reps.size),
                "error": np.array(["", "ValueError: x"] * (stop - start), dtype=object),
                "warning": np.array([""] * reps.size, dtype=object),
                "converged": np.arange(reps.size) % 3 > 0}
        if extra:
            cols[extra] = np.arange(reps.size, dtype=np.float64)
        run.write_chunk(scenario, start, stop, cols)

    chunk(0, 0, 3, "x_smd_age")
    chunk(0, 3, 6, "x_smd_age")
    chunk(1, 0, 3, None)
    chunk(1, 3, 6, "x_ess")
    for reps in (None, 4):
        frames = list(run.iter_results(reps=reps))
        want = pd.concat(frames, ignore_index=True).sort_values(
            ["scenario_index", "rep", "method_index"], kind="stable").reset_index(drop=True)
        got = run.read_results(reps)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert list(got.columns) == list(want.columns)


@pytest.mark.parametrize("sizes", [(2, 3), (6, 2)])
def test_two_chunks_holding_one_replicate_are_refused_by_every_read(study, tmp_path, sizes):
    """Chunks of another run (another chunk size) copied in: the summary once counted their
    replicates twice. (6, 2): the overlap is with a chunk that is not the one before."""
    a, b = tmp_path / "a", tmp_path / "b"
    run_study(study, a, reps=6, chunk_size=sizes[0], progress=False)
    run_study(study, b, reps=6, chunk_size=sizes[1], progress=False)
    extra = [c for c in RunDirectory(b).chunks() if c.scenario_index == 1][-1]
    os.replace(extra.path, a / "chunks" / extra.path.name)
    run = RunDirectory(a)
    for read in (lambda: load_results(a), lambda: list(run.iter_results()), run.done):
        with pytest.raises(ValueError, match=rf"both hold replicates .*{extra.path.name}|"
                                             rf"{extra.path.name} .*both hold replicates"):
            read()
