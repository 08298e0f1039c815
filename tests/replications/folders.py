"""Copies of the fictional study, edited in place by the check tests."""
from pathlib import Path

FICTIONAL = Path(__file__).parent / "fictional_study"


def edit(folder: Path, name: str, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in a file of ``folder`` (``old`` must be there)."""
    p = folder / name
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    p.write_text(text.replace(old, new, count), encoding="utf-8")
