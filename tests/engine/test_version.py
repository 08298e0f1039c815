"""code_version: the release plus a hash of the sources, which any edit changes."""
from __future__ import annotations

from tacebench.engine import version


def test_code_version_has_the_release_and_a_source_hash():
    v = version.code_version()
    release, src = v.split("+src.")
    assert release and len(src) == 16


def test_an_edit_changes_the_fingerprint(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(version, "_package_roots", lambda: [tmp_path])
    before = version.source_fingerprint()
    assert version.source_fingerprint() == before          # stable
    (tmp_path / "a.py").write_text("x = 2\n")
    assert version.source_fingerprint() != before
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("")
    assert version.source_fingerprint() != before          # a new file counts too
