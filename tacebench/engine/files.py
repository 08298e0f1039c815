"""Files a run writes are whole or absent: written to a temporary name, flushed to disk and
renamed into place (``os.replace``, atomic on POSIX), so a run killed at any instant, or a
full disk, never leaves a truncated file that reads as a complete one. A study run's chunks
and records (``benchmarks.store``) and ``tacebench replicate --out``'s files
(``replications.report.write_outputs``) are written this way."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

__all__ = ["WriteFailed", "atomic_write"]


class WriteFailed(OSError):
    """Writing a file failed (disk full, quota, permissions); nothing partial was left
    behind."""


def atomic_write(path: Path, write: Callable[[Path], None],
                 name_of: Callable[[bytes], str] | None = None) -> Path:
    """``write(tmp)`` to a temporary file beside ``path``, flush it to disk, rename it into
    place; ``name_of(bytes)`` may choose the final name from the file's bytes. On failure
    the temporary file is removed and :class:`WriteFailed` names the file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
            if name_of is not None:
                path = path.with_name(name_of(fh.read()))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteFailed(exc.errno, f"cannot write {path.name} in {path.parent}: "
                                     f"{exc.strerror or exc}") from exc
    return path
