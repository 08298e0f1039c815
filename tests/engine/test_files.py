"""tacebench.engine.files: a file is written whole or not at all."""
from __future__ import annotations

import errno
import os

import pytest

from tacebench.engine.files import WriteFailed, atomic_write


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
