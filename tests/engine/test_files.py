"""tacebench.engine.files: a file is written whole or not at all; one writer per folder."""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tacebench.engine import files
from tacebench.engine.files import (LOCK_NAME, FolderLocked, WriteFailed, atomic_write,
                                    folder_lock, replace_files)

HOLD = """
import sys, time
from tacebench.engine.files import folder_lock
with folder_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@contextlib.contextmanager
def holder(out):
    """Another process holding ``out``'s lock (until the block ends)."""
    with subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE,
                          text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == "held"
            yield proc
        finally:
            proc.kill()
            proc.wait()


def test_a_written_file_is_whole_and_may_be_named_by_its_bytes(tmp_path):
    got = atomic_write(tmp_path / "a.txt", lambda tmp: tmp.write_text("abc"),
                       name_of=lambda data: f"a.{len(data)}.txt")
    assert got == tmp_path / "a.3.txt" and got.read_text() == "abc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.3.txt"]


def test_a_failing_write_leaves_nothing_and_names_the_file(tmp_path):
    (tmp_path / "a.txt").write_text("the earlier file")

    def fails(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(WriteFailed, match="cannot write a.txt in .*No space left") as info:
        atomic_write(tmp_path / "a.txt", fails)
    assert info.value.errno == errno.ENOSPC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary left
    assert (tmp_path / "a.txt").read_text() == "the earlier file"


posix = pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")


@posix
def disk_fills_at(monkeypatch, target):
    """Make writing the file ``target`` (or a temporary file beside it named after it) stop
    part-way, as on a full disk: opened for writing by ``open`` in tacebench.engine.files
    or by ``Path.open``/``write_text``."""
    import pathlib

    target = pathlib.Path(target)
    real, real_path_open = open, pathlib.Path.open

    class Half:
        def __init__(self, fh):
            self.fh = fh
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            self.fh.close()
        def write(self, text):
            self.fh.write(text[: len(text) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    def hit(path, mode) -> bool:
        path = pathlib.Path(path)
        return "w" in mode and path.parent == target.parent and target.name in path.name

    def fake(path, mode="r", *args, **kw):
        fh = real(path, mode, *args, **kw)
        return Half(fh) if hit(path, mode) else fh

    def fake_path_open(self, mode="r", *args, **kw):
        fh = real_path_open(self, mode, *args, **kw)
        return Half(fh) if hit(self, mode) else fh
    monkeypatch.setattr(files, "open", fake, raising=False)
    monkeypatch.setattr(pathlib.Path, "open", fake_path_open)


def test_files_replaced_together_are_all_written(tmp_path):
    (tmp_path / "a.toml").write_text("old a")
    os.chmod(tmp_path / "a.toml", 0o600)
    written = replace_files(tmp_path, {"a.toml": "new a", "b.tsv": "new b"})
    assert [p.name for p in written] == ["a.toml", "b.tsv"]
    assert (tmp_path / "a.toml").read_text() == "new a"
    assert (tmp_path / "b.tsv").read_text() == "new b"
    assert (os.stat(tmp_path / "a.toml").st_mode & 0o777) == 0o600   # its mode kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml", "b.tsv"]


def test_files_replaced_together_are_left_as_they_were_when_one_fails(tmp_path, monkeypatch):
    """Written in place, a failure on the second file left the first one changed and the
    second cut short."""
    (tmp_path / "a.toml").write_text("old a")
    (tmp_path / "b.toml").write_text("old b")
    disk_fills_at(monkeypatch, tmp_path / "b.toml")
    with pytest.raises(WriteFailed, match=r"cannot write b.toml in .*no file was changed"):
        replace_files(tmp_path, {"a.toml": "new a", "b.toml": "new b", "c.tsv": "new c"})
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {"a.toml": "old a",
                                                                   "b.toml": "old b"}


def test_a_held_folder_is_refused_at_once_naming_the_holder(tmp_path):
    with holder(tmp_path) as proc:
        t0 = time.perf_counter()
        with pytest.raises(FolderLocked, match=rf"another run \(process {proc.pid} on "):
            with folder_lock(tmp_path):
                pass
        assert time.perf_counter() - t0 < 5


@posix
def test_a_waiting_writer_goes_when_the_holder_ends(tmp_path):
    with holder(tmp_path) as proc:
        done = threading.Event()

        told = []

        def wait_for_it():
            with folder_lock(tmp_path, wait=True, on_wait=told.append):
                done.set()

        t = threading.Thread(target=wait_for_it)
        t.start()
        assert not done.wait(1.0)  # (held by the other process)
        proc.send_signal(signal.SIGKILL)  # the lock ends with its process: no stale lock
        proc.wait()
        assert done.wait(10)
        t.join(5)
    assert len(told) == 1 and told[0].startswith(f"process {proc.pid} on ")  # said who


@posix
def test_the_lock_is_released_when_the_block_ends_or_fails(tmp_path):
    with folder_lock(tmp_path):
        with pytest.raises(FolderLocked):  # (a second open in one process: flock refuses it)
            with folder_lock(tmp_path):
                pass
    with pytest.raises(ZeroDivisionError):
        with folder_lock(tmp_path):
            1 / 0
    with folder_lock(tmp_path):
        pass
    assert (tmp_path / LOCK_NAME).exists()  # left in place, unlocked
