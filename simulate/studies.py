"""The one resolver of study folders: a path, a file inside a folder, or a shipped id.

The five seed studies ship with the distribution as data in ``tacebench/studies/<id>/``
(three TOML files each). Every part of tacebench that takes a study name - the simulator,
the replication engine, benchmark scenarios built on a published cohort, the lessons -
resolves it here, so an id means the same folder everywhere. Nothing here imports code
of another tacebench package: the shipped folders are read as package data.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["STUDY_FILES", "find_study", "resolve_study", "shipped_studies", "studies_root"]

#: The files of a complete study folder; ``cohort.toml`` alone is enough to simulate.
STUDY_FILES = ("cohort.toml", "targets.toml", "analysis.toml")


def studies_root() -> Path:
    """The folder of the shipped studies (``tacebench/studies``)."""
    return Path(str(resources.files("tacebench") / "studies"))


def shipped_studies() -> list[str]:
    """Ids of the complete studies shipped with tacebench, sorted."""
    root = studies_root()
    if not root.is_dir():
        return []
    return sorted(d.name for d in root.iterdir()
                  if d.is_dir() and all((d / f).is_file() for f in STUDY_FILES))


def resolve_study(ref: str | Path) -> Path:
    """The folder of a study given as a folder path, a file inside it, or a shipped id.

    Parameters
    ----------
    ref : str or Path
        A study folder, one of its files (``cohort.toml``, ``targets.toml`` or
        ``analysis.toml``), or the id of a shipped study.

    Returns
    -------
    Path
        The study folder. A path is taken before an id of the same name.

    Raises
    ------
    ValueError
        Naming ``ref`` and listing the shipped ids when it is none of these, or an
        empty string (which ``Path`` would read as the current folder).
    """
    if isinstance(ref, str) and not ref.strip():
        raise ValueError(f"study: {ref!r} is empty: give a study folder ('.' for the current "
                         f"folder), one of its files or a shipped study id (shipped: "
                         f"{shipped_studies()})")
    p = Path(ref)
    if p.is_file() and p.name in STUDY_FILES:
        return p.parent
    if p.is_dir():
        return p
    cand = studies_root() / str(ref)
    if str(ref) and "/" not in str(ref) and cand.is_dir():
        return cand
    raise ValueError(f"study: {str(ref)!r} is neither a study folder nor a shipped study id "
                     f"(shipped: {shipped_studies()})")


def find_study(ref: str | Path) -> Path:
    """Path of a study's ``cohort.toml`` (a ``cohort.toml`` of any name is taken as is).

    Parameters
    ----------
    ref : str or Path
        As :func:`resolve_study`, or the path of a cohort file named otherwise (test
        specs such as ``specs/small.toml``).
    """
    p = Path(ref)
    if p.is_file():
        return p
    folder = resolve_study(ref)
    f = folder / "cohort.toml"
    if not f.is_file():
        raise ValueError(f"study: folder {str(folder)!r} has no cohort.toml")
    return f
