"""The code version a run's results belong to: the release plus a hash of the sources.

A resumed run compares it with the version its first part was computed by; results of two
versions of the estimators are never mixed (see :mod:`tacebench.engine.store`). The hash
covers every ``.py`` file of the installed ``tacebench`` package (sorted paths and bytes),
so an edit in a checkout changes it even when the release number does not.
"""
from __future__ import annotations

import hashlib
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["code_version", "release", "source_fingerprint"]


def _package_roots() -> list[Path]:
    """The folders of tacebench and its mapped subpackages (a checkout maps them apart)."""
    import importlib.util

    roots = []
    for name in ("tacebench", "tacebench.simulate", "tacebench.estimators",
                 "tacebench.replications", "tacebench.benchmarks"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            roots.extend(Path(p) for p in spec.submodule_search_locations)
    return roots or [Path(str(resources.files("tacebench")))]


def source_fingerprint() -> str:
    """SHA-256 (first 16 hex digits) over the sorted source files of tacebench."""
    h = hashlib.sha256()
    seen = set()
    for root in _package_roots():
        for path in sorted(root.rglob("*.py")):
            if path in seen or "__pycache__" in path.parts:
                continue
            seen.add(path)
            h.update(path.relative_to(root).as_posix().encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return h.hexdigest()[:16]


def release() -> str:
    """The installed distribution's version (``"0+unknown"`` for a source tree)."""
    try:
        return version("tacebench")
    except PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


def code_version() -> str:
    """``"<release>+src.<fingerprint>"``, e.g. ``"0.1.0+src.3f9a..."``."""
    return f"{release()}+src.{source_fingerprint()}"
